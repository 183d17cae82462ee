import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { VALIDATION_QUEUE, type ValidationMessage } from '@grove/contracts';
import type { Queue } from 'bullmq';

/** Producer side of the validation stage. The message is only the job id; the BullMQ job id dedupes deliveries. */
@Injectable()
export class ValidationQueue {
  constructor(@InjectQueue(VALIDATION_QUEUE) private readonly queue: Queue<ValidationMessage>) {}

  /**
   * Makes sure the job has a live message: one that finished or failed (e.g. cut short by a shutdown) while the job
   * is still `validating` is replaced; a waiting, delayed or active one is left alone (no concurrent validations).
   */
  async ensureQueued(jobId: string): Promise<void> {
    const existing = await this.queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
      await existing.remove();
    }
    await this.enqueue(jobId);
  }

  async enqueue(jobId: string): Promise<void> {
    await this.queue.add('validate', { jobId }, {
      jobId,
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    });
  }
}
