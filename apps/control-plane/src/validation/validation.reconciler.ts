import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { JobsRepository } from '../jobs/jobs.repository';
import { ValidationQueue } from './validation.queue';

const EVERY_MS = 30_000;

/**
 * Postgres is the source of truth: any job still `validating` is (re-)enqueued at start-up and periodically, so a
 * message lost with Redis, or never sent because Redis was down, cannot strand a job. Duplicates are harmless.
 */
@Injectable()
export class ValidationReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ValidationReconciler.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly jobs: JobsRepository,
    private readonly queue: ValidationQueue,
  ) {}

  onApplicationBootstrap(): void {
    void this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async reconcile(): Promise<number> {
    try {
      const ids = await this.jobs.idsInStatus('validating');
      for (const id of ids) await this.queue.ensureQueued(id);
      return ids.length;
    } catch (error) {
      this.logger.warn(`validation reconcile skipped: ${(error as Error).message}`);
      return 0;
    }
  }
}
