import { z } from 'zod';
import { modelConfigSchema } from '../models/model-config';

const loraTargetSchema = z.enum(['q', 'k', 'v', 'o', 'gate', 'up', 'down']);

const gpuTypeSchema = z.object({
  memoryBytes: z.number().positive(),
  /** Dense bf16 tensor-core peak, FLOP/s. */
  peakFlops: z.number().positive(),
  hbmBytesPerSecond: z.number().positive(),
  /** Overrides memory.contextBytes / memory.marginMinBytes for this type (a CPU slot has no CUDA context). */
  contextBytes: z.number().nonnegative().optional(),
  marginMinBytes: z.number().nonnegative().optional(),
});

/** Analytic memory model coefficients (see README, "Memory model"). */
const memorySchema = z.object({
  /** CUDA context, allocator pools and library workspaces: once per engine process (one per GPU). */
  contextBytes: z.number().nonnegative(),
  loraTargets: z.array(loraTargetSchema).min(1),
  /** fp32 parameter, gradient, AdamW m and v: 4 copies × 4 bytes. */
  loraStateBytesPerParam: z.number().positive(),
  /**
   * Activations the engine keeps per token per layer, in elements of dtypeBytes: hidden-wide (layer input, both norm
   * outputs, the residual sum, q and the attention output: 6), key/value-wide (k, v: 2) and intermediate-wide (gate,
   * up, SwiGLU: 3). fp32 row statistics (two rstd, one log-sum-exp per head) and each LoRA's x·A (rank fp32 values
   * per target) are counted exactly, not through these factors.
   */
  activationHiddenFactor: z.number().nonnegative(),
  activationKvFactor: z.number().nonnegative(),
  activationIntermediateFactor: z.number().nonnegative(),
  /** Per token outside the saved layers (one layer's backward gradients, the head's rows), in elements. */
  transientHiddenFactor: z.number().nonnegative(),
  transientIntermediateFactor: z.number().nonnegative(),
  /** Once per engine process: the language-model head's fp32 logits are computed in chunks of at most this. */
  logitsChunkBytes: z.number().nonnegative(),
  /** 1 when attention scores are materialised (B·heads·L² per layer), 0 for fused (flash-style) attention. */
  attentionScoresFactor: z.number().nonnegative(),
  marginFraction: z.number().min(0).max(0.5),
  marginMinBytes: z.number().nonnegative(),
});

/** Throughput prior: step time = overhead + perJob·k + (saturation + fused tokens)·flopsPerToken/(peak·mfu) + weight streaming. */
const throughputSchema = z.object({
  /** Forward (2N) plus backward through frozen weights (2N) FLOPs per token per base parameter. */
  flopsPerTokenPerParam: z.number().positive(),
  mfu: z.number().positive().max(1),
  /** Tokens' worth of GEMM time lost per step to low utilisation at small fused batches. */
  saturationTokens: z.number().nonnegative(),
  /** Times the base weights stream from HBM per step (forward + backward). */
  weightPassesPerStep: z.number().nonnegative(),
  stepOverheadSeconds: z.number().nonnegative(),
  perJobSeconds: z.number().nonnegative(),
});

/** How the simulated cluster deviates from the priors: the "ground truth" the policies must learn. */
const simulatedTruthSchema = z.object({
  memoryExtraBytes: z.number(),
  memoryExtraBytesPerToken: z.number(),
  memoryExtraBytesPerTokenSeqLen: z.number(),
  /** True step time = prior step time × this factor. */
  stepTimeFactor: z.number().positive(),
  modelLoadBytesPerSecond: z.number().positive(),
  adapterStartSeconds: z.number().nonnegative(),
  checkpointSeconds: z.number().nonnegative(),
  oomRecoverySeconds: z.number().nonnegative(),
});

export const calibrationSchema = z.object({
  provenance: z.string().min(1),
  models: z.record(modelConfigSchema),
  gpuTypes: z.record(gpuTypeSchema),
  memory: memorySchema,
  throughput: throughputSchema,
  simulatedTruth: simulatedTruthSchema,
});
export type Calibration = z.infer<typeof calibrationSchema>;
export type MemoryCalibration = Calibration['memory'];
export type ThroughputCalibration = Calibration['throughput'];
export type SimulatedTruth = Calibration['simulatedTruth'];
export type GpuTypeSpec = Calibration['gpuTypes'][string];

export class CalibrationError extends Error {
  readonly code = 'invalid_calibration';
}

/** Validates a parsed calibration document (for example the shipped `default-calibration.json`). */
export function parseCalibration(value: unknown): Calibration {
  const parsed = calibrationSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CalibrationError(`calibration ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

const RECORD_SECTIONS = ['models', 'gpuTypes'] as const;
const FIELD_SECTIONS = ['memory', 'throughput', 'simulatedTruth'] as const;

/**
 * `base` with a partial calibration document laid over it: `provenance` is replaced; `models` and `gpuTypes` entries
 * are added or replaced whole; fields of `memory`, `throughput` and `simulatedTruth` replace the base's one by one.
 * The result is validated like a whole document. For replaying traces with measured or what-if coefficients.
 */
export function overrideCalibration(base: Calibration, override: unknown): Calibration {
  if (!isPlainObject(override)) throw new CalibrationError('calibration override: must be a JSON object');
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (key === 'provenance') merged.provenance = value;
    else if ((RECORD_SECTIONS as readonly string[]).includes(key) || (FIELD_SECTIONS as readonly string[]).includes(key)) {
      if (!isPlainObject(value)) throw new CalibrationError(`calibration override: ${key} must be an object`);
      merged[key] = { ...(base[key as keyof Calibration] as object), ...value };
    } else {
      throw new CalibrationError(`calibration override: unknown section "${key}"`);
    }
  }
  return parseCalibration(merged);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
