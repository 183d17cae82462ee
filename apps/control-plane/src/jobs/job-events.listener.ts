import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JOB_EVENTS_CHANNEL } from './jobs.repository';

const ANY_JOB = Symbol('any job');

/**
 * Wakes live event streams and the webhook fan-out: Postgres NOTIFYs the job id whenever one of its events is
 * committed. One LISTEN connection per process serves every subscriber.
 */
@Injectable()
export class JobEventsListener implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobEventsListener.name);
  private readonly emitter = new EventEmitter().setMaxListeners(0);
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

  /** Calls `onChange` each time the job gets an event; returns the unsubscribe function. */
  subscribe(jobId: string, onChange: () => void): () => void {
    this.emitter.on(jobId, onChange);
    return () => this.emitter.off(jobId, onChange);
  }

  /** Calls `onEvent` each time any job gets an event; returns the unsubscribe function. */
  subscribeAll(onEvent: () => void): () => void {
    this.emitter.on(ANY_JOB, onEvent);
    return () => this.emitter.off(ANY_JOB, onEvent);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl });
    client.on('notification', (n) => {
      if (n.payload) this.emitter.emit(n.payload);
      this.emitter.emit(ANY_JOB);
    });
    client.on('error', (error) => {
      this.logger.warn(`event listener connection lost: ${error.message}`);
      if (!this.closing) setTimeout(() => void this.connect().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    this.client = client;
  }
}
