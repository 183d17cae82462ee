import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { VALIDATION_QUEUE, type ValidationMessage } from '@grove/contracts';
import type { Job } from 'bullmq';
import { ValidationService } from './validation.service';

/** Consumer side of the validation stage (BullMQ worker). */
@Processor(VALIDATION_QUEUE)
export class ValidationProcessor extends WorkerHost {
  constructor(private readonly validation: ValidationService) {
    super();
  }

  async process(job: Job<ValidationMessage>): Promise<void> {
    await this.validation.validate(job.data.jobId);
  }

  /** Retries are spent on an unexpected error (not a bad dataset): fail the job instead of leaving it validating. */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<ValidationMessage> | undefined, error: Error): Promise<void> {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    await this.validation.failUnexpectedly(job.data.jobId, error);
  }
}
