/** Why a job is still waiting; `code` is stable and machine-readable. */
export type WaitReason =
  | { readonly code: 'unknown_model'; readonly baseModel: string }
  | { readonly code: 'no_node_has_model'; readonly baseModel: string }
  | { readonly code: 'selector_unmatched'; readonly selector: Readonly<Record<string, string>> }
  | { readonly code: 'all_matching_nodes_cordoned'; readonly nodes: number }
  | { readonly code: 'exceeds_gpu_memory'; readonly neededBytes: number; readonly largestGpuBytes: number }
  | { readonly code: 'insufficient_memory'; readonly neededBytes: number; readonly largestFreeBytes: number }
  | { readonly code: 'behind_higher_priority'; readonly count: number }
  | { readonly code: 'reserved_for_aged_job'; readonly jobId: string }
  /**
   * Memory is free beside same-base jobs, but joining them is predicted to raise total turnaround: waiting is cheaper,
   * or the jobs there have less work left and would be slowed. gpuId names the best such GPU when one was costed.
   */
  | { readonly code: 'colocation_not_beneficial'; readonly gpuId: string | null }
  | { readonly code: 'queued_in_order'; readonly ahead: number };

export interface StartDecision {
  readonly jobId: string;
  readonly gpuId: string;
}

/** Stop a running job via checkpoint (no progress lost) and put it back in the queue. */
export interface PreemptDecision {
  readonly jobId: string;
  readonly gpuId: string;
  /** The job whose start needs the room; the job itself when it moves to a faster GPU (`toGpuId`). */
  readonly forJobId: string;
  /** Set when the job leaves to run on this idle, faster GPU (which the round kept free for it). */
  readonly toGpuId?: string;
}

export interface WaitingJob {
  readonly jobId: string;
  readonly reason: WaitReason;
  /** Predicted start and finish (same clock as ClusterState.now); null when the job cannot run as things stand. */
  readonly estimatedStartAt: number | null;
  readonly estimatedFinishAt: number | null;
}

/** The output of one decision round. Preemptions are applied before starts. */
export interface RoundDecisions {
  readonly preemptions: readonly PreemptDecision[];
  readonly starts: readonly StartDecision[];
  readonly waiting: readonly WaitingJob[];
}
