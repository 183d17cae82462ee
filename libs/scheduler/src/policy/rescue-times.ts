import type { LedgerGpu } from './gpu-ledger';

/**
 * Per GPU, what an aged job would wait for to take it, as of the start of a round. An aged job may preempt every job
 * that arrived after it once that run has lasted the minimum run time; jobs that arrived before it must finish first.
 */
export class RescueTimes {
  private readonly earliestArrival: Float64Array;
  private readonly drainAt: Float64Array;
  private readonly cordoned: Uint8Array;

  constructor(
    gpus: readonly LedgerGpu[],
    private readonly minRunSeconds: number,
  ) {
    this.earliestArrival = new Float64Array(gpus.length).fill(Infinity);
    this.drainAt = new Float64Array(gpus.length);
    this.cordoned = new Uint8Array(gpus.length);
    for (const g of gpus) {
      this.cordoned[g.index] = g.state.cordoned ? 1 : 0;
      this.drainAt[g.index] = g.drainAt();
      for (const j of g.jobs) this.earliestArrival[g.index] = Math.min(this.earliestArrival[g.index], j.arrivalAt);
    }
  }

  /**
   * Seconds until a job that arrived at `arrivalAt` could be sure of one of `gpuIndices` as an aged job. Never less
   * than the minimum run time: even a free GPU may be taken by another job first, whose run is then protected that
   * long. Longer where every GPU holds a job that arrived before it (the first to drain); Infinity when all are cordoned.
   */
  secondsToSecure(arrivalAt: number, now: number, gpuIndices: readonly number[]): number {
    let best = Infinity;
    for (const i of gpuIndices) {
      if (this.cordoned[i]) continue;
      const wait = this.earliestArrival[i] <= arrivalAt ? this.drainAt[i] - now : 0;
      if (wait < best) best = wait;
    }
    return Math.max(this.minRunSeconds, best);
  }
}
