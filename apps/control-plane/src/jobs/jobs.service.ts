import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { isTerminal, priorityRank, type JobSpec } from '@grove/contracts';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { DispatchRepository } from '../dispatch/dispatch.repository';
import { GpuQueues } from '../dispatch/gpu-queues';
import { ModelsService } from '../models/models.service';
import { ARTIFACT_STORE, type ArtifactStore } from '../storage/artifact-store';
import { ValidationQueue } from '../validation/validation.queue';
import type { JobEventRecord, JobFilter, JobRecord } from './job-record';
import { JobEventsListener } from './job-events.listener';
import { JobsRepository, ReferencedFileMissingError } from './jobs.repository';

const STREAM_PAGE = 100;
const STREAM_SAFETY_POLL_MS = 2_000;

@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly models: ModelsService,
    private readonly validation: ValidationQueue,
    private readonly listener: JobEventsListener,
    private readonly queues: GpuQueues,
    private readonly dispatch: DispatchRepository,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {}

  /** Records the job as `validating` and hands it to the validation stage; Postgres is the record of truth. */
  async create(teamId: string, spec: JobSpec): Promise<JobRecord> {
    const model = await this.models.resolve(spec.model, 'model');
    const maxLen = spec.hyperparameters.max_seq_len;
    if (maxLen > model.summary.maxPositionEmbeddings) {
      throw new ApiError(
        'invalid_request',
        `hyperparameters.max_seq_len: ${maxLen} exceeds the model's max_position_embeddings (${model.summary.maxPositionEmbeddings})`,
        'hyperparameters.max_seq_len',
      );
    }
    const id = newId('job');
    let job: JobRecord;
    try {
      job = await this.jobs.create(
        {
          id,
          teamId,
          modelId: model.id,
          trainingFileId: spec.training_file,
          validationFileId: spec.validation_file ?? null,
          hyperparameters: spec.hyperparameters,
          priority: priorityRank(spec.priority),
          suffix: spec.suffix ?? null,
          metadata: spec.metadata,
          nodeSelector: spec.node_selector,
        },
        { level: 'info', type: 'job.created', message: `Created fine-tuning job ${id}` },
      );
    } catch (error) {
      if (error instanceof ReferencedFileMissingError) {
        const param = error.fileId === spec.training_file ? 'training_file' : 'validation_file';
        throw ApiError.notFound('file', error.fileId, param);
      }
      throw error;
    }
    // A lost enqueue is not a lost job: the validation reconciler re-enqueues every job still `validating`.
    await this.validation.enqueue(id).catch((error) => this.logger.warn(`enqueue of ${id} deferred: ${error.message}`));
    return job;
  }

  async get(teamId: string, id: string): Promise<JobRecord> {
    const job = await this.jobs.findForTeam(teamId, id);
    if (!job) throw ApiError.notFound('job', id);
    return job;
  }

  list(teamId: string, filter: JobFilter, after: string | undefined, limit: number): Promise<JobRecord[]> {
    return this.jobs.listForTeam(teamId, filter, after, limit + 1);
  }

  async cancel(teamId: string, id: string): Promise<JobRecord> {
    const job = await this.get(teamId, id);
    if (isTerminal(job.status)) throw new ApiError('conflict', `job ${id} is already ${job.status}`);
    const cancelled = await this.jobs.transition(
      id,
      ['validating', 'queued', 'running'],
      'cancelled',
      { finishedAt: new Date() },
      { level: 'info', type: 'job.cancelled', message: 'Job cancelled by request' },
    );
    if (!cancelled) return this.cancel(teamId, id);
    if (job.nodeId !== null && job.gpuIndex !== null) {
      // The agent drops the job; its later reports are stale because the job is finished.
      await this.queues.send(job.nodeId, job.gpuIndex, { kind: 'cancel', jobId: id, attempt: job.attempt })
        .catch((error) => this.logger.warn(`cancel message for ${id} not sent: ${(error as Error).message}`));
    }
    return cancelled;
  }

  /** The trained PEFT adapter as a tar (adapter_model.safetensors, adapter_config.json, metrics.jsonl). */
  async adapter(teamId: string, id: string): Promise<Readable> {
    const job = await this.get(teamId, id);
    if (job.status !== 'succeeded' || !job.adapterKey) throw new ApiError('conflict', `job ${id} has no adapter (status ${job.status})`);
    return this.store.read(job.adapterKey);
  }

  async checkpoints(teamId: string, id: string) {
    await this.get(teamId, id);
    return this.dispatch.checkpoints(id);
  }

  async events(teamId: string, id: string, after: bigint | undefined, limit: number): Promise<JobEventRecord[]> {
    await this.get(teamId, id);
    return this.jobs.events(id, after, limit + 1);
  }

  /**
   * Every event after `after`, then live ones as they are committed, until the job is finished and its last
   * event sent, or `signal` aborts (the client went away).
   */
  async *follow(teamId: string, id: string, after: bigint | undefined, signal: AbortSignal): AsyncGenerator<JobEventRecord> {
    await this.get(teamId, id);
    let cursor = after;
    let wake: (() => void) | undefined;
    const unsubscribe = this.listener.subscribe(id, () => wake?.());
    try {
      while (!signal.aborted) {
        const batch = await this.jobs.events(id, cursor, STREAM_PAGE);
        for (const event of batch) {
          cursor = event.id;
          yield event;
        }
        if (batch.length === STREAM_PAGE) continue;
        const job = await this.jobs.findById(id);
        if (!job || isTerminal(job.status)) {
          if ((await this.jobs.events(id, cursor, 1)).length === 0) return;
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, STREAM_SAFETY_POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
          signal.addEventListener('abort', () => wake?.(), { once: true });
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  }
}
