import type { GpuTelemetry, JobTelemetry, StepMetrics } from '@grove/proto';
import type { EngineMemory, StepEvent } from '../engine/engine-events';

/**
 * One running job's progress as the engine reported it. `recent` holds the steps not yet sent in a heartbeat
 * (the loss curve, batched); a heartbeat that fails puts them back so no step is lost.
 */
export class JobProgress {
  private last: StepEvent | null = null;
  private tokensThisAttempt = 0;
  private stepsThisAttempt = 0;
  private recent: StepMetrics[] = [];

  constructor(
    readonly jobId: string,
    readonly attempt: number,
    readonly gpuIndex: number,
    readonly totalSteps: number,
    /** Steps done before this attempt (the resumed checkpoint's step). */
    private readonly resumedAtStep: number,
  ) {}

  record(e: StepEvent): void {
    this.last = e;
    this.tokensThisAttempt += e.tokens;
    this.stepsThisAttempt += 1;
    this.recent.push({
      step: e.step, loss: e.loss, learningRate: e.lr, tokens: e.tokens, tokensPerSecond: e.tokensPerSecond, gradNorm: e.gradNorm, validationLoss: e.valLoss,
    });
  }

  get step(): number {
    return this.last?.step ?? this.resumedAtStep;
  }

  get hasRecentSteps(): boolean {
    return this.recent.length > 0;
  }

  get lastLoss(): number {
    return this.last?.loss ?? 0;
  }

  /**
   * Tokens trained over the whole job. Steps before a resume ran elsewhere, so they are counted at this attempt's
   * mean tokens per step (token counts per step vary only with example lengths).
   */
  get trainedTokens(): number {
    if (this.stepsThisAttempt === 0) return 0;
    return Math.round(this.tokensThisAttempt + (this.resumedAtStep * this.tokensThisAttempt) / this.stepsThisAttempt);
  }

  /** The heartbeat entry; takes the recent steps with it. */
  takeTelemetry(): JobTelemetry {
    const recentSteps = this.recent;
    this.recent = [];
    return {
      jobId: this.jobId,
      attempt: this.attempt,
      gpuIndex: this.gpuIndex,
      step: this.step,
      totalSteps: this.totalSteps,
      loss: this.lastLoss,
      learningRate: this.last?.lr ?? 0,
      tokensPerSecond: this.last?.tokensPerSecond ?? 0,
      trainedTokens: this.trainedTokens,
      recentSteps,
    };
  }

  /** A heartbeat that did not go through: its steps go back in front of any newer ones. */
  putBack(sent: JobTelemetry): void {
    this.recent = [...sent.recentSteps, ...this.recent];
  }
}

/**
 * One GPU's engine memory: the sum over the engines (one per base model) running on it. A GPU engine also reports
 * the device's own figure (device-wide, so every engine on the GPU sees the same one): used and peak are at least
 * that, since it holds what the allocations leave out (CUDA context, cached pool blocks, library workspaces) and is
 * what must fit in the GPU.
 */
export function gpuTelemetry(index: number, memories: EngineMemory[]): GpuTelemetry {
  const sum = (pick: (m: EngineMemory) => number) => memories.reduce((total, m) => total + pick(m), 0);
  const device = memories.reduce((most, m) => Math.max(most, m.deviceUsedBytes ?? 0), 0);
  return {
    index,
    memoryUsedBytes: Math.max(sum((m) => m.current.total), device),
    memoryPeakBytes: Math.max(sum((m) => m.peak.total), device),
    baseWeightsBytes: sum((m) => m.current.baseWeights),
    activationsBytes: sum((m) => m.current.activations),
    adapterOptimizerBytes: sum((m) => m.current.adapterOptimizer),
  };
}
