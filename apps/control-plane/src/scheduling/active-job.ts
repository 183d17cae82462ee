import type { Hyperparameters, JobStatus } from '@grove/contracts';
import type { ModelSummary } from '../models/model-config';

/** A job the scheduler looks at: waiting in the queue, assigned to a GPU, or running. */
export interface ActiveJob {
  id: string;
  status: JobStatus;
  attempt: number;
  nodeId: string | null;
  gpuIndex: number | null;
  priority: number;
  modelName: string;
  summary: ModelSummary;
  hyperparameters: Hyperparameters;
  /** Tokens of the tokenized training set (one epoch) and its longest example. */
  datasetTokens: number;
  datasetMaxLen: number;
  trainedTokens: number;
  preemptions: number;
  nodeSelector: Record<string, string>;
  createdAt: Date;
  /** Start of the current wait (null when placed). */
  queuedAt: Date | null;
  /** Last state change; for a placed job, when its current run was assigned or started. */
  updatedAt: Date;
  /** The wait reason last recorded (null when none). */
  waitReason: unknown;
  estimatedStartAt: Date | null;
}
