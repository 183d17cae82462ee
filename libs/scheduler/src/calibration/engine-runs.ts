import { z } from 'zod';
import { CalibrationError, type Calibration } from './calibration';
import { RidgeLeastSquares } from '../fit/ridge-least-squares';
import { MemoryModel } from '../memory/memory-model';
import type { JobShape } from '../models/job-shape';
import { countBaseParams, type ModelConfig } from '../models/model-config';

/**
 * Measurements of the real engine, as native-worker/bench/engine_calibrate.cpp (grove-calibrate) writes them: for
 * model shapes × k co-trained jobs × B sequences of length L, the median seconds per fused step and the backend's
 * peak bytes by category.
 */
const engineRunSchema = z.object({
  model_name: z.string().min(1),
  model: z.object({
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_layers: z.number().int().positive(),
    num_heads: z.number().int().positive(),
    num_kv_heads: z.number().int().positive(),
    vocab_size: z.number().int().positive(),
    tied_embeddings: z.boolean(),
  }),
  jobs: z.number().int().positive(),
  sequences_per_job: z.number().int().positive(),
  seq_len: z.number().int().positive(),
  fused_tokens: z.number().int().positive(),
  step_seconds: z.number().positive(),
  peak_bytes: z.object({
    base_weights: z.number().nonnegative(),
    activations: z.number().nonnegative(),
    adapter_optimizer: z.number().nonnegative(),
  }),
});

const engineRunsSchema = z.object({
  backend: z.string().min(1),
  activation_dtype_bytes: z.number().int().positive(),
  weight_dtype_bytes: z.number().int().positive(),
  lora_rank: z.number().int().positive(),
  runs: z.array(engineRunSchema).min(1),
});
export type EngineRuns = z.infer<typeof engineRunsSchema>;
export type EngineRun = EngineRuns['runs'][number];

export function parseEngineRuns(value: unknown): EngineRuns {
  const parsed = engineRunsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CalibrationError(`engine measurements: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function modelConfigOfRun(run: EngineRun, dtypeBytes: number): ModelConfig {
  const m = run.model;
  return {
    hiddenSize: m.hidden_size,
    intermediateSize: m.intermediate_size,
    numLayers: m.num_layers,
    numHeads: m.num_heads,
    numKvHeads: m.num_kv_heads,
    vocabSize: m.vocab_size,
    tiedEmbeddings: m.tied_embeddings,
    dtypeBytes,
  };
}

/** The jobs of one run as the scheduler describes them. */
export function jobsOfRun(run: EngineRun, loraRank: number): JobShape[] {
  return Array.from({ length: run.jobs }, () => ({
    baseModel: run.model_name,
    microBatchTokens: run.sequences_per_job * run.seq_len,
    seqLen: run.seq_len,
    loraRank,
  }));
}

/** A memory model with the given coefficients and the measured shapes as its base models. */
export function memoryModelForRuns(calibration: Calibration, measured: EngineRuns): MemoryModel {
  const models: Record<string, ModelConfig> = {};
  for (const r of measured.runs) models[r.model_name] = modelConfigOfRun(r, measured.activation_dtype_bytes);
  return new MemoryModel({ ...calibration, models });
}

export interface MemoryAgreement {
  /** Largest (predicted − measured) / measured of activations + LoRA state over the runs; ≥ 0 means never under. */
  readonly worstOver: number;
  /** Smallest of the same ratio: negative when some run needed more than predicted. */
  readonly worstUnder: number;
}

/**
 * How the memory model's per-job terms compare with the engine's measured activations + LoRA state. The scheduler
 * books the whole logits chunk per process; small runs hold fewer rows of logits, so the comparison adds what they
 * held (rows × vocab × 4 bytes, at most the chunk).
 */
export function compareMemory(calibration: Calibration, measured: EngineRuns): MemoryAgreement {
  const model = memoryModelForRuns(calibration, measured);
  let worstOver = -Infinity;
  let worstUnder = Infinity;
  for (const r of measured.runs) {
    const logits = Math.min(r.fused_tokens * r.model.vocab_size * 4, calibration.memory.logitsChunkBytes);
    const predicted = jobsOfRun(r, measured.lora_rank).reduce((s, j) => s + model.analyticJobBytes(j), 0) + logits;
    const actual = r.peak_bytes.activations + r.peak_bytes.adapter_optimizer;
    const ratio = (predicted - actual) / actual;
    worstOver = Math.max(worstOver, ratio);
    worstUnder = Math.min(worstUnder, ratio);
  }
  return { worstOver, worstUnder };
}

/** step(T, k) = fixed + perJob·k + perToken·T fitted to one model's runs (the throughput model's form). */
export interface StepTimeFit {
  readonly modelName: string;
  readonly runs: number;
  readonly fixedSeconds: number;
  readonly perJobSeconds: number;
  readonly perTokenSeconds: number;
  /** Fraction of the step-time variance the fit explains. */
  readonly r2: number;
  /** Frozen-base FLOP/s the per-token term implies: 4·N_base / perTokenSeconds. */
  readonly effectiveFlops: number;
}

export function fitStepTimes(measured: EngineRuns): StepTimeFit[] {
  const byModel = new Map<string, EngineRun[]>();
  for (const r of measured.runs) {
    const runs = byModel.get(r.model_name);
    if (runs) runs.push(r);
    else byModel.set(r.model_name, [r]);
  }
  const fits: StepTimeFit[] = [];
  for (const [modelName, runs] of byModel) {
    const fit = new RidgeLeastSquares(3, 1e-12);
    for (const r of runs) fit.add([1, r.jobs, r.fused_tokens / 1e3], r.step_seconds);
    const [fixedSeconds, perJobSeconds, perKiloToken] = fit.coefficients();
    const mean = runs.reduce((s, r) => s + r.step_seconds, 0) / runs.length;
    const total = runs.reduce((s, r) => s + (r.step_seconds - mean) ** 2, 0);
    const residual = runs.reduce((s, r) => s + (r.step_seconds - (fixedSeconds + perJobSeconds * r.jobs + (perKiloToken * r.fused_tokens) / 1e3)) ** 2, 0);
    const perTokenSeconds = perKiloToken / 1e3;
    const params = countBaseParams(modelConfigOfRun(runs[0], measured.weight_dtype_bytes));
    fits.push({
      modelName,
      runs: runs.length,
      fixedSeconds,
      perJobSeconds,
      perTokenSeconds,
      r2: total > 0 ? 1 - residual / total : 1,
      effectiveFlops: (4 * params) / perTokenSeconds,
    });
  }
  return fits;
}

/** The GPU a step-time fit was measured on, as the calibration's gpuTypes describe it (datasheet figures). */
export interface MeasuredGpu {
  readonly peakFlops: number;
  readonly hbmBytesPerSecond: number;
}

/** The throughput prior's parameters that reproduce one measured step-time fit (README, "Throughput model"). */
export interface ThroughputPriorFit {
  readonly modelName: string;
  readonly mfu: number;
  readonly saturationTokens: number;
  readonly perJobSeconds: number;
}

/**
 * Inverts the throughput prior for one fitted model: c_t = flopsPerTokenPerParam·N / (peak·mfu) gives the MFU;
 * c_f = overhead + weightPasses·baseBytes/HBM + saturation·c_t gives the saturation tokens (the stated overhead and
 * weight passes are kept); c_j is the per-job seconds. With the results in the calibration file, the prior predicts
 * the measured step times of that model on that GPU.
 */
export function throughputPriorFromFit(
  fit: StepTimeFit,
  measured: EngineRuns,
  gpu: MeasuredGpu,
  calibration: Calibration,
): ThroughputPriorFit {
  const run = measured.runs.find((r) => r.model_name === fit.modelName);
  if (!run) throw new CalibrationError(`engine measurements: no runs of model "${fit.modelName}"`);
  const t = calibration.throughput;
  const params = countBaseParams(modelConfigOfRun(run, measured.weight_dtype_bytes));
  const mfu = (t.flopsPerTokenPerParam * params) / (gpu.peakFlops * fit.perTokenSeconds);
  const weightStreaming = (t.weightPassesPerStep * params * measured.weight_dtype_bytes) / gpu.hbmBytesPerSecond;
  const saturationTokens = Math.max(0, (fit.fixedSeconds - t.stepOverheadSeconds - weightStreaming) / fit.perTokenSeconds);
  return { modelName: fit.modelName, mfu, saturationTokens, perJobSeconds: Math.max(0, fit.perJobSeconds) };
}
