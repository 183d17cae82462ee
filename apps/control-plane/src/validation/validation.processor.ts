import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { VALIDATION_QUEUE, type ValidationMessage } from '@grove/contracts';
import { Worker, type Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { redisConnection } from '../database/redis-connection';
import { ShuttingDownError } from './tokenizer-thread';
import { ValidationService } from './validation.service';

const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Consumer side of the validation stage: a BullMQ worker whose shutdown is bounded. (BullMQ's `Worker.close()` can
 * wait forever on a blocking connection that Redis dropped — taskforcesh/bullmq#4656 — and a control plane must
 * still stop on SIGTERM; whatever it was doing stays `validating` and is re-enqueued at the next start.)
 */
@Injectable()
export class ValidationProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ValidationProcessor.name);
  private worker?: Worker<ValidationMessage>;

  constructor(
    private readonly validation: ValidationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<ValidationMessage>(VALIDATION_QUEUE, (job) => this.validation.validate(job.data.jobId), {
      connection: redisConnection(this.config.redisUrl, { maxRetriesPerRequest: null }),
      concurrency: this.config.validationConcurrency,
    });
    this.worker.on('failed', (job, error) => void this.onFailed(job, error));
    this.worker.on('error', (error) => this.logger.warn(`validation worker: ${error.message}`));
  }

  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS);
    });
    const outcome = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(`validation worker did not close within ${CLOSE_TIMEOUT_MS} ms; disconnecting it`);
      await worker.disconnect().catch(() => undefined);
    }
  }

  /**
   * Retries are spent on an unexpected error (not a bad dataset): fail the job instead of leaving it validating.
   * Work cut short by a shutdown is not the job's fault: it stays `validating` and is re-enqueued after restart.
   */
  private async onFailed(job: Job<ValidationMessage> | undefined, error: Error): Promise<void> {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1) || error instanceof ShuttingDownError) return;
    await this.validation.failUnexpectedly(job.data.jobId, error).catch((e) => this.logger.warn(`could not fail ${job.data.jobId}: ${(e as Error).message}`));
  }
}
