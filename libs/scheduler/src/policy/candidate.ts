import type { QueuedJob } from './cluster-state';
import type { Eligibility } from './eligibility';

/** A queued job with the facts one decision round computes for it once. */
export interface Candidate {
  readonly job: QueuedJob;
  readonly eligibility: Eligibility;
  /** Priority class, or AGED_CLASS once the job has waited long enough. */
  readonly effectiveClass: number;
  /** Predicted remaining seconds running alone on the fastest eligible GPU type (the SRPT key). */
  readonly soloSeconds: number;
  /** Order inside the effective class, ascending: waitingSince for aged jobs, soloSeconds for the rest. */
  readonly sortKey: number;
  /** Predicted bytes the job adds to a process, per entry of eligibility.gpuTypes. */
  readonly increments: readonly number[];
}

/** Effective class of a job that has waited long enough to outrank every priority. */
export const AGED_CLASS = Number.MAX_SAFE_INTEGER;

export function incrementOn(c: Candidate, gpuType: string): number {
  return c.increments[c.eligibility.gpuTypes.indexOf(gpuType)];
}
