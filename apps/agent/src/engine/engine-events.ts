import { z } from 'zod';

/** Engine allocations by category, in bytes (docs/serve-protocol.md). */
export interface MemorySplit {
  baseWeights: number;
  activations: number;
  adapterOptimizer: number;
  total: number;
}

export interface EngineMemory {
  current: MemorySplit;
  peak: MemorySplit;
  /** GPU engines only: the device's memory in use (pool cache, CUDA context, workspaces included). */
  deviceUsedBytes?: number;
}

export type EngineFailureReason = 'data_error' | 'diverged' | 'oom' | 'engine_error';

export interface StepEvent {
  event: 'step';
  id: string;
  step: number;
  loss: number;
  lr: number;
  tokens: number;
  tokensPerSecond: number;
  gradNorm: number;
  /** Set on steps that evaluated the validation set; NaN when that loss was not finite (the engine writes null). */
  valLoss?: number;
  memory: EngineMemory;
}

export interface JobFinishedEvent {
  event: 'job_finished';
  id: string;
  outputDir: string;
  earlyStopped: boolean;
  /** The best validation evaluation; null without a validation set or a finite evaluation. */
  bestStep: number | null;
  bestValLoss: number | null;
}

/** Every event `grove-engine serve` writes on stdout, camel-cased. */
export type EngineEvent =
  | { event: 'ready'; model: string; memory: EngineMemory }
  | { event: 'job_added'; id: string; memory: EngineMemory }
  | StepEvent
  | { event: 'checkpointed'; id: string; step: number; dir: string }
  | JobFinishedEvent
  | { event: 'job_failed'; id: string; reason: EngineFailureReason; message: string }
  | { event: 'job_removed'; id: string }
  | { event: 'status'; jobs: { id: string; step: number; steps: number }[]; memory: EngineMemory }
  | { event: 'error'; cmd: string; message: string }
  | { event: 'fatal'; message: string }
  | { event: 'shutdown' };

const bytes = z.number().nonnegative();
const split = z
  .object({ base_weights: bytes, activations: bytes, adapter_optimizer: bytes, total: bytes })
  .transform((m): MemorySplit => ({ baseWeights: m.base_weights, activations: m.activations, adapterOptimizer: m.adapter_optimizer, total: m.total }));
const memory = z
  .object({ current: split, peak: split, device_used_bytes: bytes.optional() })
  .transform(({ current, peak, device_used_bytes }): EngineMemory =>
    device_used_bytes === undefined ? { current, peak } : { current, peak, deviceUsedBytes: device_used_bytes },
  );
const id = z.string();
const count = z.number().int().nonnegative();

const eventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('ready'), model: z.string(), memory }),
  z.object({ event: z.literal('job_added'), id, memory }),
  z.object({
    event: z.literal('step'), id, step: count, loss: z.number(), lr: z.number(), tokens: count, tokens_per_s: z.number(), grad_norm: z.number(),
    val_loss: z.number().nullable().optional(), memory,
  }),
  z.object({ event: z.literal('checkpointed'), id, step: count, dir: z.string() }),
  z.object({
    event: z.literal('job_finished'), id, output_dir: z.string(),
    early_stopped: z.boolean().default(false), best_step: count.nullable().default(null), best_val_loss: z.number().nullable().default(null),
  }),
  z.object({ event: z.literal('job_failed'), id, reason: z.enum(['data_error', 'diverged', 'oom', 'engine_error']), message: z.string() }),
  z.object({ event: z.literal('job_removed'), id }),
  z.object({ event: z.literal('status'), jobs: z.array(z.object({ id, step: count, steps: count })), memory }),
  z.object({ event: z.literal('error'), cmd: z.string(), message: z.string() }),
  z.object({ event: z.literal('fatal'), message: z.string() }),
  z.object({ event: z.literal('shutdown') }),
]);

export class EngineProtocolError extends Error {
  readonly code = 'engine_protocol';
}

/** One stdout line → a typed event; a line that is not a known event is a protocol error naming the problem. */
export function parseEngineEvent(line: string): EngineEvent {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new EngineProtocolError(`engine wrote a line that is not JSON: ${line.slice(0, 200)}`);
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
    throw new EngineProtocolError(`engine wrote an unexpected event (${problems}): ${line.slice(0, 200)}`);
  }
  const e = parsed.data;
  if (e.event === 'step') {
    const { tokens_per_s, grad_norm, val_loss, ...rest } = e;
    return { ...rest, tokensPerSecond: tokens_per_s, gradNorm: grad_norm, ...(val_loss === undefined ? {} : { valLoss: val_loss ?? NaN }) };
  }
  if (e.event === 'job_finished') {
    return { event: e.event, id: e.id, outputDir: e.output_dir, earlyStopped: e.early_stopped, bestStep: e.best_step, bestValLoss: e.best_val_loss };
  }
  return e;
}
