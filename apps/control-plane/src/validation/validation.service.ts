import { Inject, Injectable, Logger } from '@nestjs/common';
import { DatasetError } from '@grove/datasets';
import { rm } from 'node:fs/promises';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DatasetsService } from '../datasets/datasets.service';
import type { JobRecord } from '../jobs/job-record';
import { JobsRepository } from '../jobs/jobs.repository';
import { ModelsService } from '../models/models.service';
import { ARTIFACT_STORE, type ArtifactStore } from '../storage/artifact-store';
import { TokenizerThread } from './tokenizer-thread';

/**
 * The `validating` stage: tokenizes the job's datasets with its model's real tokenizer, writes the engine's token
 * files and the statistics the scheduler needs, then moves the job to `queued` — or to `failed` with the reasons.
 */
@Injectable()
export class ValidationService {
  private readonly logger = new Logger(ValidationService.name);

  constructor(
    private readonly jobs: JobsRepository,
    private readonly models: ModelsService,
    private readonly datasets: DatasetsService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokenizer: TokenizerThread,
  ) {}

  async validate(jobId: string): Promise<void> {
    const job = await this.jobs.findById(jobId);
    if (!job || job.status !== 'validating') return; // already handled (a duplicate delivery) or cancelled
    await this.jobs.appendEvent(jobId, { level: 'info', type: 'validation.started', message: 'Tokenizing the datasets' });
    const written: string[] = [];
    try {
      const training = await this.tokenize(job, job.trainingFileId, `tokens/${job.id}/train.gtok`);
      written.push(training.key);
      const validation = job.validationFileId
        ? await this.tokenize(job, job.validationFileId, `tokens/${job.id}/validation.gtok`)
        : null;
      if (validation) written.push(validation.key);
      const stats = { training: training.stats, validation: validation?.stats ?? null };
      const queued = await this.jobs.transition(
        job.id,
        ['validating'],
        'queued',
        { stats, tokenFileKey: training.key, validationTokenFileKey: validation?.key ?? null, totalSteps: totalSteps(job, training.stats.examples) },
        { level: 'info', type: 'job.queued', message: `Validated ${training.stats.examples} examples; job queued`, data: stats },
      );
      if (!queued) await Promise.all(written.map((k) => this.store.delete(k)));
    } catch (error) {
      await Promise.all(written.map((k) => this.store.delete(k)));
      if (!(error instanceof DatasetError)) throw error;
      const failure = { code: error.code, message: error.message, details: error.details };
      await this.jobs.transition(job.id, ['validating'], 'failed', { error: failure, finishedAt: new Date() }, {
        level: 'error',
        type: 'job.failed',
        message: `Dataset validation failed: ${error.message}`,
        data: failure,
      });
      this.logger.log(`job ${job.id} failed validation: ${error.message}`);
    }
  }

  async failUnexpectedly(jobId: string, error: Error): Promise<void> {
    const failure = { code: 'validation_error', message: `validation stage failed: ${error.message}` };
    await this.jobs.transition(jobId, ['validating'], 'failed', { error: failure, finishedAt: new Date() }, {
      level: 'error',
      type: 'job.failed',
      message: failure.message,
      data: failure,
    });
  }

  private async tokenize(job: JobRecord, fileId: string, key: string) {
    const dataset = await this.datasets.get(job.teamId, fileId);
    const model = await this.models.resolve(job.modelId);
    const outPath = await this.store.tempPath(`${job.id}.gtok`);
    try {
      const stats = await this.tokenizer.tokenize({
        modelId: model.id,
        tokenizerJsonPath: await this.store.localPath(model.tokenizerKey),
        tokenizerConfigPath: await this.store.localPath(model.tokenizerCfgKey),
        jsonlPath: await this.store.localPath(dataset.storageKey),
        maxSeqLen: job.hyperparameters.max_seq_len,
        onOverlength: job.hyperparameters.on_overlength,
        maxErrors: this.config.maxReportedErrors,
        outPath,
      });
      await this.store.putFile(key, outPath);
      return { key, stats };
    } finally {
      await rm(outPath, { force: true });
    }
  }
}

/** Optimizer steps for n_epochs over the examples that survived validation. */
export function totalSteps(job: Pick<JobRecord, 'hyperparameters'>, examples: number): number {
  const { n_epochs, batch_size } = job.hyperparameters;
  return Math.max(1, Math.ceil((examples * n_epochs) / batch_size));
}
