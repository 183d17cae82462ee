import type { JobRecord } from './job-record';

/** A `jobs` row as SQL returns it (snake_case), joined with its model's name. */
export interface JobRow {
  id: string;
  team_id: string;
  model_id: string;
  model_name: string;
  training_file_id: string;
  validation_file_id: string | null;
  status: JobRecord['status'];
  hyperparameters: JobRecord['hyperparameters'];
  priority: number;
  suffix: string | null;
  metadata: Record<string, string>;
  stats: unknown;
  token_file_key: string | null;
  validation_token_file_key: string | null;
  error: JobRecord['error'];
  trained_tokens: string | null;
  attempt: number;
  node_id: string | null;
  gpu_index: number | null;
  total_steps: number | null;
  failures: number;
  preemptions: number;
  node_selector: Record<string, string>;
  queued_at: Date | null;
  wait_reason: JobRecord['waitReason'];
  estimated_start_at: Date | null;
  estimated_finish_at: Date | null;
  adapter_key: string | null;
  started_at: Date | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export function jobFromRow(r: JobRow): JobRecord {
  return {
    id: r.id,
    teamId: r.team_id,
    modelId: r.model_id,
    modelName: r.model_name,
    trainingFileId: r.training_file_id,
    validationFileId: r.validation_file_id,
    status: r.status,
    hyperparameters: r.hyperparameters,
    priority: r.priority,
    suffix: r.suffix,
    metadata: r.metadata,
    stats: r.stats,
    tokenFileKey: r.token_file_key,
    validationTokenFileKey: r.validation_token_file_key,
    error: r.error,
    trainedTokens: r.trained_tokens === null ? null : BigInt(r.trained_tokens),
    attempt: r.attempt,
    nodeId: r.node_id,
    gpuIndex: r.gpu_index,
    totalSteps: r.total_steps,
    failures: r.failures,
    preemptions: r.preemptions,
    nodeSelector: r.node_selector,
    queuedAt: r.queued_at,
    waitReason: r.wait_reason,
    estimatedStartAt: r.estimated_start_at,
    estimatedFinishAt: r.estimated_finish_at,
    adapterKey: r.adapter_key,
    startedAt: r.started_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}
