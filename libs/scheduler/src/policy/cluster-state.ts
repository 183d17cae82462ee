import type { JobShape } from '../models/job-shape';

/** A job waiting in the queue (never started, preempted, or requeued after an OOM). */
export interface QueuedJob extends JobShape {
  readonly id: string;
  /** Priority class: larger is more urgent. */
  readonly priority: number;
  readonly remainingTokens: number;
  readonly arrivalAt: number;
  /** Start of the current wait: arrival, or the moment of the last preemption. */
  readonly waitingSince: number;
  readonly preemptions: number;
  /** Node labels the job requires (all must match). */
  readonly selector?: Readonly<Record<string, string>>;
}

/** A job co-trained in a GPU's engine process. */
export interface RunningJob extends JobShape {
  readonly id: string;
  readonly priority: number;
  readonly remainingTokens: number;
  readonly arrivalAt: number;
  /** When the current run began (churn limit: no preemption before minRunSeconds). */
  readonly startedAt: number;
  readonly preemptions: number;
  /** Node labels the job requires (all must match): where it may move to. */
  readonly selector?: Readonly<Record<string, string>>;
}

export interface GpuState {
  readonly id: string;
  readonly nodeId: string;
  readonly gpuType: string;
  readonly memoryBytes: number;
  /** The node's labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** The node is cordoned: nothing new starts there (running jobs stay). */
  readonly cordoned: boolean;
  /** Base models whose weights this node can serve; null = any. */
  readonly models: readonly string[] | null;
  readonly jobs: readonly RunningJob[];
}

/** Everything one decision round looks at. Times are seconds on any monotonic clock. */
export interface ClusterState {
  readonly now: number;
  readonly gpus: readonly GpuState[];
  readonly queue: readonly QueuedJob[];
}
