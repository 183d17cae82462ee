import type { Calibration } from '../calibration/calibration';
import { SchedulerError } from '../errors';
import { RidgeLeastSquares } from '../fit/ridge-least-squares';
import { countBaseParams } from '../models/model-config';

export interface ThroughputModelOptions {
  /** Ridge penalty of the correction fit (seconds² units). */
  readonly ridgeLambda?: number;
}

/**
 * Predicts the wall time of one fused training step of an engine process co-training k jobs of one base model with T
 * fused tokens (Σ micro-batch tokens):
 *
 *   step(T, k) = c_f + c_j·k + c_t·T
 *   prior: c_f = overhead + weightPasses·baseBytes/HBM + saturationTokens·c_t,  c_j = perJobSeconds,
 *          c_t = flopsPerTokenPerParam·N / (peakFlops·MFU)
 *
 * c_f is what co-training amortises: weight streaming and the under-utilised part of small frozen GEMMs. So the
 * aggregate rate T/step rises sublinearly with k while each job's own rate T_i/step falls: co-location trades per-job
 * speed for cluster throughput. Corrections (Δc_f, Δc_j, Δc_t) per (GPU type, base model) are fitted online from
 * measured step times by ridge least squares toward the prior.
 */
interface Entry {
  readonly prior: readonly [number, number, number];
  fit: RidgeLeastSquares | null;
}

export class ThroughputModel {
  /** gpuType → baseModel → prior and fit; nested maps keep the hot lookups free of string building. */
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly lambda: number;

  constructor(
    private readonly calibration: Calibration,
    options: ThroughputModelOptions = {},
  ) {
    this.lambda = options.ridgeLambda ?? 1e-3;
  }

  private entry(gpuType: string, baseModel: string): Entry {
    let byModel = this.entries.get(gpuType);
    if (!byModel) {
      byModel = new Map();
      this.entries.set(gpuType, byModel);
    }
    let entry = byModel.get(baseModel);
    if (!entry) {
      entry = { prior: this.computePrior(gpuType, baseModel), fit: null };
      byModel.set(baseModel, entry);
    }
    return entry;
  }

  /** Prior coefficients [c_f, c_j, c_t] (seconds, seconds per job, seconds per token). */
  priorCoefficients(gpuType: string, baseModel: string): readonly [number, number, number] {
    return this.entry(gpuType, baseModel).prior;
  }

  private computePrior(gpuType: string, baseModel: string): readonly [number, number, number] {
    const gpu = this.calibration.gpuTypes[gpuType];
    if (!gpu || !Object.hasOwn(this.calibration.gpuTypes, gpuType)) {
      throw new SchedulerError('unknown_gpu_type', `no calibration for GPU type "${gpuType}"`);
    }
    const model = this.calibration.models[baseModel];
    if (!model || !Object.hasOwn(this.calibration.models, baseModel)) {
      throw new SchedulerError('unknown_model', `no model config for "${baseModel}"`);
    }
    const t = this.calibration.throughput;
    const params = countBaseParams(model);
    const perToken = (t.flopsPerTokenPerParam * params) / (gpu.peakFlops * t.mfu);
    const weightStreaming = (t.weightPassesPerStep * params * model.dtypeBytes) / gpu.hbmBytesPerSecond;
    return [t.stepOverheadSeconds + weightStreaming + t.saturationTokens * perToken, t.perJobSeconds, perToken];
  }

  stepSeconds(gpuType: string, baseModel: string, fusedTokens: number, jobCount: number): number {
    return stepOf(this.entry(gpuType, baseModel), fusedTokens, jobCount);
  }

  /** stepSeconds for one (GPU type, base model), looked up once: for loops that predict many steps of one process. */
  stepFunction(gpuType: string, baseModel: string): (fusedTokens: number, jobCount: number) => number {
    const entry = this.entry(gpuType, baseModel);
    return (fusedTokens, jobCount) => stepOf(entry, fusedTokens, jobCount);
  }


  /** Tokens per second of a job that runs alone on a GPU of this type. */
  soloTokensPerSecond(gpuType: string, baseModel: string, microBatchTokens: number): number {
    return microBatchTokens / this.stepSeconds(gpuType, baseModel, microBatchTokens, 1);
  }

  observeStep(gpuType: string, baseModel: string, fusedTokens: number, jobCount: number, seconds: number): void {
    const entry = this.entry(gpuType, baseModel);
    const [cf, cj, ct] = entry.prior;
    entry.fit ??= new RidgeLeastSquares(3, this.lambda);
    // The per-job term is measured from the solo case (k − 1): steps of one job alone say nothing about what a second
    // job costs, so they move the fixed term and leave the per-job one at its prior.
    entry.fit.add([1, jobCount - 1, fusedTokens / 1e4], seconds - (cf + cj * jobCount + ct * fusedTokens));
  }
}

function stepOf({ prior, fit }: Entry, fusedTokens: number, jobCount: number): number {
  const base = prior[0] + prior[1] * jobCount + prior[2] * fusedTokens;
  if (!fit) return base;
  const theta = fit.coefficients();
  const correction = theta[0] + theta[1] * (jobCount - 1) + theta[2] * (fusedTokens / 1e4);
  // A step can never be faster than a tenth of the prior; guards against a wild fit from few samples.
  return Math.max(base + correction, base * 0.1);
}
