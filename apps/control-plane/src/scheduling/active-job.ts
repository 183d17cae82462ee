import type { DispatchJob } from '../dispatch/dispatch.repository';

/** A job the scheduler looks at: waiting in the queue, assigned to a GPU, or running. */
export interface ActiveJob extends DispatchJob {
  /** Tokens of the tokenized training set (one epoch) and its longest example. */
  datasetTokens: number;
  datasetMaxLen: number;
  trainedTokens: number;
  preemptions: number;
  nodeSelector: Record<string, string>;
  createdAt: Date;
  /** Start of the current wait (null when placed). */
  queuedAt: Date | null;
  /** The wait reason last recorded (null when none). */
  waitReason: unknown;
  estimatedStartAt: Date | null;
}
