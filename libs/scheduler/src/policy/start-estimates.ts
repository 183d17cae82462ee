import type { WaitingJob, WaitReason } from './decisions';

export interface EstimateInput {
  readonly jobId: string;
  readonly reason: WaitReason;
  /** GPUs the job may use; empty when it cannot run as things stand. */
  readonly gpus: readonly number[];
  readonly soloSeconds: number;
}

/**
 * Start/finish estimates by list scheduling: waiting jobs, in policy order, each take the eligible GPU that frees up
 * first and hold it for their solo run time. Ignores co-location and future arrivals, so starts are usually
 * pessimistic for small jobs and the estimate is a bound to show people, not a promise.
 */
export function estimateStarts(jobs: readonly EstimateInput[], drainAt: readonly number[], now: number): WaitingJob[] {
  const available = Float64Array.from(drainAt);
  return jobs.map((j) => {
    if (j.gpus.length === 0 || !Number.isFinite(j.soloSeconds)) {
      return { jobId: j.jobId, reason: j.reason, estimatedStartAt: null, estimatedFinishAt: null };
    }
    let best = j.gpus[0];
    for (const i of j.gpus) if (available[i] < available[best]) best = i;
    const start = Math.max(now, available[best]);
    const finish = start + j.soloSeconds;
    available[best] = finish;
    return { jobId: j.jobId, reason: j.reason, estimatedStartAt: start, estimatedFinishAt: finish };
  });
}
