import { priorityFromRank } from '@grove/contracts';
import { unixSeconds, unixSecondsOrNull } from '../common/presenters';
import type { JobEventRecord, JobRecord } from './job-record';

export function presentJob(job: JobRecord) {
  return {
    id: job.id,
    object: 'fine_tuning.job',
    model: job.modelName,
    model_id: job.modelId,
    training_file: job.trainingFileId,
    validation_file: job.validationFileId,
    status: job.status,
    hyperparameters: job.hyperparameters,
    priority: priorityFromRank(job.priority),
    suffix: job.suffix,
    metadata: job.metadata,
    dataset_stats: job.stats ?? null,
    error: job.error,
    trained_tokens: job.trainedTokens === null ? null : Number(job.trainedTokens),
    result_files: job.adapterKey ? [`/v1/jobs/${job.id}/adapter`] : [],
    total_steps: job.totalSteps,
    node_selector: job.nodeSelector,
    attempt: job.attempt,
    preemptions: job.preemptions,
    node_id: job.nodeId,
    wait_reason: job.waitReason,
    estimated_start_at: unixSecondsOrNull(job.estimatedStartAt),
    estimated_finish_at: unixSecondsOrNull(job.estimatedFinishAt),
    started_at: unixSecondsOrNull(job.startedAt),
    created_at: unixSeconds(job.createdAt),
    finished_at: unixSecondsOrNull(job.finishedAt),
  };
}

export function presentEvent(e: JobEventRecord) {
  return {
    id: e.id.toString(),
    object: 'fine_tuning.job.event',
    level: e.level,
    type: e.type,
    message: e.message,
    data: e.data ?? null,
    created_at: unixSeconds(e.createdAt),
  };
}
