import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JOB_EVENTS_CHANNEL } from '../jobs/jobs.repository';

/**
 * Tells its subscribers that some job event was committed (LISTEN on the job-events channel), whatever the job.
 * JobEventsListener wakes one job's streams; this wakes the webhook fan-out, which then reads the log itself.
 */
@Injectable()
export class JobEventsSignal implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobEventsSignal.name);
  private readonly subscribers = new Set<() => void>();
  private client?: Client;
  private closing = false;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    await this.client?.end().catch(() => undefined);
  }

  /** Returns the unsubscribe function. */
  subscribe(onEvent: () => void): () => void {
    this.subscribers.add(onEvent);
    return () => this.subscribers.delete(onEvent);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl });
    client.on('notification', () => this.subscribers.forEach((s) => s()));
    client.on('error', (error) => {
      this.logger.warn(`job event signal connection lost: ${error.message}`);
      if (!this.closing) setTimeout(() => void this.connect().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    this.client = client;
  }
}
