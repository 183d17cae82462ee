import type { Calibration } from '../calibration/calibration';
import { SchedulerError } from '../errors';
import { RidgeLeastSquares } from '../fit/ridge-least-squares';
import type { JobShape } from '../models/job-shape';
import { countBaseParams, countLoraParams, type ModelConfig } from '../models/model-config';

const GIB = 1024 ** 3;

/** Per-model constants of analyticJobBytes, computed once. */
interface JobCoefficients {
  /** LoRA state (fp32 value, gradient, AdamW m and v) plus, on a bf16 engine, the step's bf16 copy of A and B. */
  readonly loraBytesPerRank: number;
  readonly bytesPerToken: number;
  /** Activation bytes per token per unit of LoRA rank (each target's x·A, in every layer). */
  readonly bytesPerTokenRank: number;
  readonly bytesPerTokenSeqLen: number;
}

/** fp32: row statistics are kept in fp32 whatever the activation type. */
const FP32_BYTES = 4;

export interface MemoryModelOptions {
  /** Ridge penalty of the correction fit, in GiB² units. */
  readonly ridgeLambda?: number;
  /** An OOM says the peak exceeded the GPU by an unknown amount; it is recorded as capacity × (1 + this). */
  readonly oomOvershootFraction?: number;
}

/**
 * Predicts the peak GPU memory of one engine process co-training LoRA jobs of one base model:
 *
 *   peak = context + baseWeights + Σ_jobs (loraState + activations) + correction
 *   correction = β0 + β1·ΣB·L + β2·ΣB·L²      (online ridge least squares on measured − analytic)
 *
 * per (GPU type, base model). Placements are refused when peak > GPU memory − margin, where the margin grows with the
 * fit's residual error.
 */
export class MemoryModel {
  /** gpuType → baseModel → fit; nested maps keep the hot lookups free of string building. */
  private readonly fits = new Map<string, Map<string, RidgeLeastSquares>>();
  private readonly baseBytes = new Map<string, number>();
  private readonly jobCoefficients = new Map<string, JobCoefficients>();
  private readonly lambda: number;
  private readonly oomOvershoot: number;
  /** gpuType → baseModel → the job sets that ran out of memory, as lower bounds on their peak. */
  private readonly floors = new Map<string, Map<string, OomFloor[]>>();

  constructor(
    private readonly calibration: Calibration,
    options: MemoryModelOptions = {},
  ) {
    this.lambda = options.ridgeLambda ?? 0.05;
    this.oomOvershoot = options.oomOvershootFraction ?? 0.03;
  }

  knowsModel(baseModel: string): boolean {
    return Object.hasOwn(this.calibration.models, baseModel);
  }

  private config(baseModel: string): ModelConfig {
    const config = this.calibration.models[baseModel];
    if (!config || !this.knowsModel(baseModel)) throw new SchedulerError('unknown_model', `no model config for "${baseModel}"`);
    return config;
  }

  /** Frozen base weights, counted once per engine process. */
  analyticBaseBytes(baseModel: string): number {
    let bytes = this.baseBytes.get(baseModel);
    if (bytes === undefined) {
      const config = this.config(baseModel);
      bytes = countBaseParams(config) * config.dtypeBytes;
      this.baseBytes.set(baseModel, bytes);
    }
    return bytes;
  }

  /**
   * One job's LoRA parameters, gradients and AdamW states plus its activations (README, "Memory model"):
   *   r·Σ_targets(d_in + d_out)·layers·(stateBytes + copy)      copy = dtype on a bf16 engine (A, B for the step), else 0
   *   + B·L·layers·(dtype·(a_h·hidden + a_kv·kvWidth + a_i·intermediate) + 4·(heads + 2) + dtype·r·targets)
   *   + B·L·dtype·(t_h·hidden + t_i·intermediate)
   *   + B·L²·heads·layers·dtype·attentionScoresFactor
   */
  analyticJobBytes(job: JobShape): number {
    const k = this.coefficientsFor(job.baseModel);
    const tokens = job.microBatchTokens;
    return (
      job.loraRank * k.loraBytesPerRank +
      tokens * (k.bytesPerToken + job.loraRank * k.bytesPerTokenRank) +
      tokens * job.seqLen * k.bytesPerTokenSeqLen
    );
  }

  private coefficientsFor(baseModel: string): JobCoefficients {
    let k = this.jobCoefficients.get(baseModel);
    if (!k) {
      const m = this.calibration.memory;
      const c = this.config(baseModel);
      const kvWidth = (c.hiddenSize / c.numHeads) * c.numKvHeads;
      const perTokenPerLayer =
        c.dtypeBytes *
          (m.activationHiddenFactor * c.hiddenSize +
            m.activationKvFactor * kvWidth +
            m.activationIntermediateFactor * c.intermediateSize) +
        FP32_BYTES * (c.numHeads + 2);
      const transient = c.dtypeBytes * (m.transientHiddenFactor * c.hiddenSize + m.transientIntermediateFactor * c.intermediateSize);
      k = {
        loraBytesPerRank: countLoraParams(c, 1, m.loraTargets) * (m.loraStateBytesPerParam + loraCopyBytes(c.dtypeBytes)),
        bytesPerToken: c.numLayers * perTokenPerLayer + transient,
        bytesPerTokenRank: c.numLayers * m.loraTargets.length * c.dtypeBytes,
        bytesPerTokenSeqLen: m.attentionScoresFactor * c.numHeads * c.numLayers * c.dtypeBytes,
      };
      this.jobCoefficients.set(baseModel, k);
    }
    return k;
  }

  private fit(gpuType: string, baseModel: string): RidgeLeastSquares | undefined {
    return this.fits.get(gpuType)?.get(baseModel);
  }

  private fitFor(gpuType: string, baseModel: string): RidgeLeastSquares {
    let byModel = this.fits.get(gpuType);
    if (!byModel) {
      byModel = new Map();
      this.fits.set(gpuType, byModel);
    }
    let fit = byModel.get(baseModel);
    if (!fit) {
      fit = new RidgeLeastSquares(3, this.lambda);
      byModel.set(baseModel, fit);
    }
    return fit;
  }

  /** Per engine process: the GPU type's own figure if it has one (a CPU slot has no CUDA context). */
  private contextBytes(gpuType: string): number {
    return this.gpuTypeSpec(gpuType)?.contextBytes ?? this.calibration.memory.contextBytes;
  }

  private gpuTypeSpec(gpuType: string) {
    return Object.hasOwn(this.calibration.gpuTypes, gpuType) ? this.calibration.gpuTypes[gpuType] : undefined;
  }

  /** Fixed part of a GPU hosting `baseModel`: context, base weights, the head's logits chunk and the fitted β0. */
  baselineBytes(gpuType: string, baseModel: string): number {
    const theta = this.fit(gpuType, baseModel)?.coefficients();
    return this.analyticProcessBytes(gpuType, baseModel) + (theta ? theta[0] * GIB : 0);
  }

  private analyticProcessBytes(gpuType: string, baseModel: string): number {
    return this.contextBytes(gpuType) + this.analyticBaseBytes(baseModel) + this.calibration.memory.logitsChunkBytes;
  }

  /** What adding `job` to an engine process adds to its peak, fitted correction included. */
  jobIncrementBytes(gpuType: string, job: JobShape): number {
    const analytic = this.analyticJobBytes(job);
    const fit = this.fit(gpuType, job.baseModel);
    if (!fit) return analytic;
    const theta = fit.coefficients();
    const bl = job.microBatchTokens / 1024;
    const bl2 = (job.microBatchTokens * job.seqLen) / 1024 ** 2;
    return analytic + (theta[1] * bl + theta[2] * bl2) * GIB;
  }

  /** Predicted peak of one GPU running `jobs` (one engine process per base model present). */
  predictPeak(gpuType: string, jobs: readonly JobShape[]): number {
    return Math.max(this.fittedPeak(gpuType, jobs), this.floorOfSet(gpuType, jobs));
  }

  private fittedPeak(gpuType: string, jobs: readonly JobShape[]): number {
    let total = 0;
    for (let i = 0; i < jobs.length; i++) {
      const model = jobs[i].baseModel;
      // Baseline once per distinct base model (a linear scan: a GPU holds a handful of jobs, usually one model).
      let first = true;
      for (let k = 0; k < i && first; k++) first = jobs[k].baseModel !== model;
      if (first) total += this.baselineBytes(gpuType, model);
      total += this.jobIncrementBytes(gpuType, jobs[i]);
    }
    return total;
  }

  /** Memory kept free on a GPU: a fixed fraction plus twice the fit's residual error. */
  marginBytes(gpuType: string, gpuMemoryBytes: number, baseModel: string | null): number {
    const m = this.calibration.memory;
    const rmse = baseModel ? (this.fit(gpuType, baseModel)?.rmse() ?? 0) : 0;
    const minBytes = this.gpuTypeSpec(gpuType)?.marginMinBytes ?? m.marginMinBytes;
    return Math.max(minBytes, m.marginFraction * gpuMemoryBytes) + 2 * rmse * GIB;
  }

  /** Feeds one measured peak of an engine process (all jobs on the GPU share its base model). */
  observePeak(gpuType: string, jobs: readonly JobShape[], measuredBytes: number, weight = 1): void {
    const baseModel = singleBaseModel(jobs);
    const analytic = this.analyticProcessBytes(gpuType, baseModel) + jobs.reduce((s, j) => s + this.analyticJobBytes(j), 0);
    this.fitFor(gpuType, baseModel).add(features(jobs), (measuredBytes - analytic) / GIB, weight);
  }

  /**
   * An OOM is a lower bound on the peak, not a measurement of it. It becomes a floor: any set of this model at least
   * as big (in jobs, ΣB·L and ΣB·L²) is predicted at least capacity × (1 + overshoot), so neither the same placement
   * nor a bigger one is tried again on a GPU that size, while smaller sets and single jobs keep their fitted
   * prediction. It is kept out of the least-squares fit: as an equality there it raised every prediction's intercept,
   * until single jobs looked too big for the GPU and waited for ever. A floor per OOM; OOMs are rare.
   */
  observeOom(gpuType: string, jobs: readonly JobShape[], gpuMemoryBytes: number): void {
    const bytes = gpuMemoryBytes * (1 + this.oomOvershoot);
    const model = singleBaseModel(jobs);
    const sums = setSums(jobs);
    let byModel = this.floors.get(gpuType);
    if (!byModel) this.floors.set(gpuType, (byModel = new Map()));
    const list = byModel.get(model) ?? [];
    list.push({ ...sums, bytes });
    byModel.set(model, list);
  }

  /** The highest OOM floor a set of `count` jobs of `baseModel` with these sums falls under (0 when none). */
  oomFloorBytes(gpuType: string, baseModel: string, count: number, tokens: number, tokenSeqLen: number): number {
    const list = this.floors.get(gpuType)?.get(baseModel);
    if (!list) return 0;
    let floor = 0;
    for (const f of list) {
      if (count >= f.count && tokens >= f.tokens && tokenSeqLen >= f.tokenSeqLen) floor = Math.max(floor, f.bytes);
    }
    return floor;
  }

  private floorOfSet(gpuType: string, jobs: readonly JobShape[]): number {
    if (this.floors.size === 0 || jobs.length === 0) return 0;
    const sums = setSums(jobs);
    return this.oomFloorBytes(gpuType, jobs[0].baseModel, sums.count, sums.tokens, sums.tokenSeqLen);
  }
}

/**
 * An engine whose activations are narrower than fp32 rounds each LoRA matrix to the activation type once per step and
 * keeps that copy until backward (native-worker/src/engine/linear_lora.h); an fp32 engine uses the values directly.
 */
function loraCopyBytes(dtypeBytes: number): number {
  return dtypeBytes < FP32_BYTES ? dtypeBytes : 0;
}

interface OomFloor {
  readonly count: number;
  readonly tokens: number;
  readonly tokenSeqLen: number;
  readonly bytes: number;
}

function setSums(jobs: readonly JobShape[]): { count: number; tokens: number; tokenSeqLen: number } {
  let tokens = 0;
  let tokenSeqLen = 0;
  for (const j of jobs) {
    tokens += j.microBatchTokens;
    tokenSeqLen += j.microBatchTokens * j.seqLen;
  }
  return { count: jobs.length, tokens, tokenSeqLen };
}

/** [1, ΣB·L (Ki tokens), ΣB·L² (Mi token·positions)]: scaled so the ridge penalty treats the terms alike (jobIncrementBytes inlines the same scaling). */
function features(jobs: readonly JobShape[]): number[] {
  let bl = 0;
  let bl2 = 0;
  for (const j of jobs) {
    bl += j.microBatchTokens;
    bl2 += j.microBatchTokens * j.seqLen;
  }
  return [1, bl / 1024, bl2 / 1024 ** 2];
}

function singleBaseModel(jobs: readonly JobShape[]): string {
  if (jobs.length === 0) throw new SchedulerError('invalid_input', 'a memory sample needs at least one job');
  const model = jobs[0].baseModel;
  if (jobs.some((j) => j.baseModel !== model)) {
    throw new SchedulerError('invalid_input', 'one engine process co-trains jobs of a single base model');
  }
  return model;
}
