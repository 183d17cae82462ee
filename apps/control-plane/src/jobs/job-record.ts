import type { Hyperparameters, JobStatus } from '@grove/contracts';

export interface JobRecord {
  id: string;
  teamId: string;
  modelId: string;
  modelName: string;
  trainingFileId: string;
  validationFileId: string | null;
  status: JobStatus;
  hyperparameters: Hyperparameters;
  priority: number;
  suffix: string | null;
  metadata: Record<string, string>;
  stats: unknown;
  tokenFileKey: string | null;
  validationTokenFileKey: string | null;
  error: { code: string; message: string; details?: unknown } | null;
  trainedTokens: bigint | null;
  attempt: number;
  nodeId: string | null;
  gpuIndex: number | null;
  totalSteps: number | null;
  failures: number;
  preemptions: number;
  nodeSelector: Record<string, string>;
  queuedAt: Date | null;
  /** Why the scheduler keeps the job waiting ({code, message, ...}); null once placed. */
  waitReason: { code: string; message: string } | null;
  estimatedStartAt: Date | null;
  estimatedFinishAt: Date | null;
  adapterKey: string | null;
  startedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface JobEventRecord {
  id: bigint;
  jobId: string;
  level: 'info' | 'warn' | 'error';
  type: string;
  message: string;
  data: unknown;
  createdAt: Date;
}

export type NewJobEvent = Pick<JobEventRecord, 'level' | 'type' | 'message'> & { data?: unknown };

export interface JobFilter {
  status?: JobStatus;
  modelId?: string;
  metadata?: Record<string, string>;
}
