import { Inject, Injectable } from '@nestjs/common';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DispatchRepository } from '../dispatch/dispatch.repository';
import type { JobRecord } from '../jobs/job-record';
import { JobsRepository } from '../jobs/jobs.repository';
import { NodesService } from '../nodes/nodes.service';
import { ARTIFACT_STORE, type ArtifactStore } from '../storage/artifact-store';

/** What agents fetch (assignments, token files, checkpoints) and upload (checkpoints, adapters). */
@Injectable()
export class AgentArtifactsService {
  constructor(
    private readonly jobs: JobsRepository,
    private readonly dispatch: DispatchRepository,
    private readonly nodes: NodesService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async assignment(joinTokenId: string, jobId: string, attempt: number, nodeId: string) {
    const job = await this.currentAttempt(joinTokenId, jobId, attempt, nodeId);
    const checkpoint = (await this.dispatch.checkpoints(job.id))[0] ?? null;
    return {
      job_id: job.id,
      attempt: job.attempt,
      node_id: job.nodeId,
      gpu_index: job.gpuIndex,
      model: job.modelName,
      total_steps: job.totalSteps,
      checkpoint_every: this.config.dispatch.checkpointEvery,
      hyperparameters: job.hyperparameters,
      token_file_url: `/v1/agent/jobs/${job.id}/token-file`,
      validation_token_file_url: job.validationTokenFileKey ? `/v1/agent/jobs/${job.id}/validation-token-file` : null,
      checkpoint: checkpoint ? { step: checkpoint.step, url: `/v1/agent/jobs/${job.id}/checkpoints/${checkpoint.step}` } : null,
    };
  }

  async tokenFile(jobId: string): Promise<Readable> {
    const job = await this.job(jobId);
    if (!job.tokenFileKey) throw new ApiError('conflict', `job ${jobId} has no token file (status ${job.status})`);
    return this.store.read(job.tokenFileKey);
  }

  async validationTokenFile(jobId: string): Promise<Readable> {
    const job = await this.job(jobId);
    if (!job.validationTokenFileKey) throw new ApiError('conflict', `job ${jobId} has no validation token file (status ${job.status})`);
    return this.store.read(job.validationTokenFileKey);
  }

  async checkpoint(jobId: string, step: number): Promise<Readable> {
    const found = (await this.dispatch.checkpoints(jobId)).find((c) => c.step === step);
    if (!found) throw ApiError.notFound('checkpoint', `${jobId}@${step}`);
    return this.store.read(found.key);
  }

  /** Stores an uploaded tar for the job's current attempt; returns its key. */
  async upload(joinTokenId: string, jobId: string, attempt: number, kind: 'checkpoint' | 'adapter', body: Readable, step?: number): Promise<string> {
    const job = await this.job(jobId);
    if (job.attempt !== attempt || !job.nodeId) throw new ApiError('conflict', `stale_assignment: job ${jobId} is at attempt ${job.attempt}`);
    await this.ownedNode(joinTokenId, job.nodeId);
    const key = kind === 'adapter' ? `adapters/${jobId}/attempt-${attempt}.tar` : `checkpoints/${jobId}/step-${step}-attempt-${attempt}.tar`;
    const temp = await this.store.tempPath(`${jobId}.tar`);
    try {
      await pipeline(body, createWriteStream(temp));
      await this.store.putFile(key, temp);
      return key;
    } finally {
      await rm(temp, { force: true });
    }
  }

  private async currentAttempt(joinTokenId: string, jobId: string, attempt: number, nodeId: string): Promise<JobRecord> {
    const job = await this.job(jobId);
    await this.ownedNode(joinTokenId, nodeId);
    if (job.attempt !== attempt || job.nodeId !== nodeId || (job.status !== 'queued' && job.status !== 'running')) {
      throw new ApiError('conflict', `stale_assignment: job ${jobId} is ${job.status} at attempt ${job.attempt} on ${job.nodeId ?? 'no node'}`);
    }
    return job;
  }

  private async ownedNode(joinTokenId: string, nodeId: string): Promise<void> {
    const node = await this.nodes.get(nodeId);
    if (node.joinTokenId !== joinTokenId) throw new ApiError('permission_denied', 'node registered with another join token');
  }

  private async job(jobId: string): Promise<JobRecord> {
    const job = await this.jobs.findById(jobId);
    if (!job) throw ApiError.notFound('job', jobId);
    return job;
  }
}
