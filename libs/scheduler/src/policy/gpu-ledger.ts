import type { MemoryModel } from '../memory/memory-model';
import type { JobShape } from '../models/job-shape';
import type { ThroughputModel } from '../throughput/throughput-model';
import type { GpuState, RunningJob } from './cluster-state';
import { predictFinishTimes, totalCompletionSeconds, type ProgressingJob } from './set-completion';

type StepSeconds = (fusedTokens: number, jobCount: number) => number;

/** A job on a GPU during a decision round: either running already or started by this round. */
export interface LedgerJob extends JobShape {
  readonly id: string;
  readonly priority: number;
  readonly remainingTokens: number;
  readonly arrivalAt: number;
  readonly startedAt: number;
  readonly preemptions: number;
  readonly selector: Readonly<Record<string, string>> | undefined;
}

/**
 * One GPU as a decision round sees it, updated as the round starts and preempts jobs, so later choices in the same
 * round account for earlier ones. Memory figures are predictions, never measurements.
 */
export class LedgerGpu {
  readonly jobs: LedgerJob[];
  predictedBytes: number;
  reservedBy: string | null = null;
  private completionCache: number | null = null;
  private drainCache: number | null = null;
  private minStepsCache: number | null = null;
  private readonly capacityCache = new Map<string, number>();
  private stepCache: { readonly base: string; readonly seconds: StepSeconds } | null = null;
  private orderCache: { steps: Float64Array; tokens: Float64Array; fused: number } | null = null;

  constructor(
    readonly index: number,
    readonly state: GpuState,
    private readonly memory: MemoryModel,
    private readonly throughput: ThroughputModel,
    private readonly now: number,
  ) {
    this.jobs = state.jobs.map((j: RunningJob) => toLedgerJob(j, j.startedAt));
    this.predictedBytes = this.jobs.length > 0 ? memory.predictPeak(state.gpuType, this.jobs) : 0;
  }

  get baseModel(): string | null {
    return this.jobs.length > 0 ? this.jobs[0].baseModel : null;
  }

  /** Usable bytes for a process of `baseModel`: GPU memory minus the safety margin. */
  capacityFor(baseModel: string): number {
    let capacity = this.capacityCache.get(baseModel);
    if (capacity === undefined) {
      capacity = this.state.memoryBytes - this.memory.marginBytes(this.state.gpuType, this.state.memoryBytes, baseModel || null);
      this.capacityCache.set(baseModel, capacity);
    }
    return capacity;
  }

  /** Fewest fused steps any job here has left (Infinity when idle). */
  minRemainingSteps(): number {
    if (this.minStepsCache === null) {
      let min = Infinity;
      for (const j of this.jobs) min = Math.min(min, j.remainingTokens / j.microBatchTokens);
      this.minStepsCache = min;
    }
    return this.minStepsCache;
  }

  freeBytes(): number {
    const base = this.baseModel;
    return base === null ? this.capacityFor('') : this.capacityFor(base) - this.predictedBytes;
  }

  /** Bytes `job` would add here, or Infinity if another base model's process holds the GPU. */
  neededBytes(job: JobShape, increment: number): number {
    const base = this.baseModel;
    if (base === null) return this.memory.baselineBytes(this.state.gpuType, job.baseModel) + increment;
    return base === job.baseModel ? increment : Infinity;
  }

  /** Predicted peak of a process running exactly `jobs` on this GPU. */
  predictPeakOf(jobs: readonly JobShape[]): number {
    return this.memory.predictPeak(this.state.gpuType, jobs);
  }

  /** Predicted peak of a fresh process running only `job`. */
  aloneBytes(job: JobShape, increment: number): number {
    return this.memory.baselineBytes(this.state.gpuType, job.baseModel) + increment;
  }

  fits(job: JobShape, increment: number): boolean {
    const need = this.neededBytes(job, increment);
    if (need === Infinity) return false;
    const capacity = this.capacityFor(job.baseModel);
    if (this.predictedBytes + need > capacity) return false;
    // A set this big, or bigger, ran out of memory before: the OOM floor says no whatever the fit predicts.
    let tokens = job.microBatchTokens;
    let tokenSeqLen = job.microBatchTokens * job.seqLen;
    for (const j of this.jobs) {
      tokens += j.microBatchTokens;
      tokenSeqLen += j.microBatchTokens * j.seqLen;
    }
    return this.memory.oomFloorBytes(this.state.gpuType, job.baseModel, this.jobs.length + 1, tokens, tokenSeqLen) <= capacity;
  }

  stepSeconds = (fusedTokens: number, jobCount: number): number => this.stepsOf(this.jobs[0]?.baseModel ?? '')(fusedTokens, jobCount);

  /** The step-time predictor of a `base` process on this GPU, looked up once per base model. */
  private stepsOf(base: string): StepSeconds {
    if (this.stepCache?.base !== base) this.stepCache = { base, seconds: this.throughput.stepFunction(this.state.gpuType, base) };
    return this.stepCache.seconds;
  }

  /** Σ predicted remaining completion time of the jobs here. */
  completionSeconds(): number {
    if (this.completionCache === null) {
      this.completionCache = this.jobs.length === 0 ? 0 : totalCompletionSeconds(this.now, this.jobs, this.stepSeconds);
    }
    return this.completionCache;
  }

  /**
   * Increase of Σ completion time if `job` joins, for a job with no more steps left than any job here (the only kind
   * the policy lets join). It leaves first, so: it runs s steps of the bigger fused step τ', and every job here is
   * delayed by s·(τ' − τ); afterwards the set is as before. O(1), no allocation.
   */
  joinCostShortest(job: JobShape & { readonly remainingTokens: number }): { completion: number; busyExtension: number } {
    let fused = 0;
    for (const j of this.jobs) fused += j.microBatchTokens;
    const k = this.jobs.length;
    const steps = job.remainingTokens / job.microBatchTokens;
    const stepSeconds = this.stepsOf(job.baseModel);
    const before = stepSeconds(fused, k);
    const after = stepSeconds(fused + job.microBatchTokens, k + 1);
    return { completion: steps * after + k * steps * (after - before), busyExtension: steps * (after - before) };
  }

  /**
   * The same for a job (of this GPU's base model) that outlives some job here: the whole set is re-predicted once,
   * giving the increase of Σ completion and how much later the GPU drains.
   */
  joinCostOutliving(job: ProgressingJob): { completion: number; busyExtension: number } {
    // predictFinishTimes over the set plus the job, merged into the cached order by remaining steps without allocating.
    const { steps, tokens, fused } = this.byRemainingSteps();
    const stepSeconds = this.stepsOf(this.jobs[0].baseModel);
    const jobSteps = job.remainingTokens / job.microBatchTokens;
    let tokensLeft = fused + job.microBatchTokens;
    let count = steps.length + 1;
    let t = this.now;
    let done = 0;
    let total = 0;
    let pending = true;
    for (let i = 0; i < steps.length || pending; ) {
      const takeJob = pending && (i === steps.length || jobSteps < steps[i]);
      const s = takeJob ? jobSteps : steps[i];
      t += (s - done) * stepSeconds(tokensLeft, count);
      done = s;
      total += t - this.now;
      tokensLeft -= takeJob ? job.microBatchTokens : tokens[i];
      count--;
      if (takeJob) pending = false;
      else i++;
    }
    return { completion: total - this.completionSeconds(), busyExtension: t - this.drainAt() };
  }

  /** The jobs' remaining steps in ascending order (ties in list order), their micro-batch tokens, and Σ tokens. */
  private byRemainingSteps(): { steps: Float64Array; tokens: Float64Array; fused: number } {
    if (this.orderCache === null) {
      const n = this.jobs.length;
      const remaining = this.jobs.map((j) => j.remainingTokens / j.microBatchTokens);
      const order = remaining.map((_, i) => i).sort((a, b) => remaining[a] - remaining[b]);
      const steps = new Float64Array(n);
      const tokens = new Float64Array(n);
      let fused = 0;
      order.forEach((j, i) => {
        steps[i] = remaining[j];
        tokens[i] = this.jobs[j].microBatchTokens;
        fused += tokens[i];
      });
      this.orderCache = { steps, tokens, fused };
    }
    return this.orderCache;
  }

  /** Σ predicted remaining completion time of a hypothetical job set on this GPU (one base model). */
  completionSecondsOf(jobs: readonly LedgerJob[]): number {
    return jobs.length === 0 ? 0 : totalCompletionSeconds(this.now, jobs, this.stepFor(jobs));
  }

  /** Predicted finish times of a hypothetical job set on this GPU. */
  finishTimesOf(jobs: readonly LedgerJob[]): number[] {
    return jobs.length === 0 ? [] : predictFinishTimes(this.now, jobs, this.stepFor(jobs));
  }

  private stepFor(jobs: readonly LedgerJob[]): StepSeconds {
    return this.stepsOf(jobs[0].baseModel);
  }

  /** When the GPU can take new work: when it drains, never while its node is cordoned. */
  openAt(): number {
    return this.state.cordoned ? Infinity : this.drainAt();
  }

  /** When the last job here is predicted to finish (now when idle). */
  drainAt(): number {
    if (this.drainCache === null) {
      this.drainCache =
        this.jobs.length === 0 ? this.now : Math.max(...predictFinishTimes(this.now, this.jobs, this.stepSeconds));
    }
    return this.drainCache;
  }

  add(job: LedgerJob, increment: number): void {
    this.predictedBytes += this.neededBytes(job, increment);
    this.jobs.push(job);
    this.invalidate();
  }

  remove(jobId: string): LedgerJob {
    const i = this.jobs.findIndex((j) => j.id === jobId);
    const [job] = this.jobs.splice(i, 1);
    this.predictedBytes = this.jobs.length > 0 ? this.memory.predictPeak(this.state.gpuType, this.jobs) : 0;
    this.invalidate();
    return job;
  }

  private invalidate(): void {
    this.completionCache = null;
    this.drainCache = null;
    this.minStepsCache = null;
    this.orderCache = null;
  }
}

/**
 * A ledger job built field by field in one order, whatever extra fields the input carries, so every ledger job shares
 * one hidden class and the hot loops stay monomorphic.
 */
export function toLedgerJob(job: Omit<LedgerJob, 'startedAt' | 'selector'> & { readonly selector?: LedgerJob['selector'] }, startedAt: number): LedgerJob {
  return {
    id: job.id,
    baseModel: job.baseModel,
    microBatchTokens: job.microBatchTokens,
    seqLen: job.seqLen,
    loraRank: job.loraRank,
    priority: job.priority,
    remainingTokens: job.remainingTokens,
    arrivalAt: job.arrivalAt,
    startedAt,
    preemptions: job.preemptions,
    selector: job.selector,
  };
}
