import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { SQL_POOL } from '../database/sql-pool';
import type { WebhookEvent } from './webhook-events';
import {
  CLAIM_DUE_SQL, FIND_DELIVERY_SQL, LIST_DELIVERIES_SQL, RECORD_ATTEMPT_SQL, REDELIVER_SQL, RELEASE_ATTEMPT_SQL,
} from './webhook-sql';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  eventId: bigint;
  eventType: WebhookEvent;
  jobId: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** The body announced and where to: one claimed attempt. */
export interface ClaimedDelivery {
  id: string;
  eventType: WebhookEvent;
  payload: DeliveryPayload;
  attempt: number;
  url: string;
  secret: string;
}

export interface DeliveryPayload {
  id: string;
  type: WebhookEvent;
  created_at: number;
  data: { job: unknown };
}

export type AttemptOutcome =
  | { status: 'delivered'; statusCode: number }
  | { status: 'pending'; statusCode: number | null; error: string; retryInMs: number }
  | { status: 'failed'; statusCode: number | null; error: string };

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: WebhookEvent;
  job_id: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

@Injectable()
export class WebhookDeliveriesRepository {
  constructor(@Inject(SQL_POOL) private readonly pool: Pool) {}

  async list(webhookId: string, after: string | undefined, take: number): Promise<DeliveryRecord[]> {
    const { rows } = await this.pool.query<DeliveryRow>(LIST_DELIVERIES_SQL, [webhookId, after ?? null, take]);
    return rows.map(fromRow);
  }

  async find(webhookId: string, id: string): Promise<DeliveryRecord | null> {
    const { rows } = await this.pool.query<DeliveryRow>(FIND_DELIVERY_SQL, [webhookId, id]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** Makes a finished delivery pending again with a fresh retry schedule; null when it is missing or pending. */
  async redeliver(webhookId: string, id: string): Promise<DeliveryRecord | null> {
    const { rows } = await this.pool.query<DeliveryRow>(REDELIVER_SQL, [webhookId, id]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.pool.query<{ id: string; event_type: WebhookEvent; payload: DeliveryPayload; attempts: number; url: string; secret: string }>(
      CLAIM_DUE_SQL,
      [limit, leaseMs],
    );
    return rows.map((r) => ({ id: r.id, eventType: r.event_type, payload: r.payload, attempt: r.attempts, url: r.url, secret: r.secret }));
  }

  async record(id: string, attempt: number, outcome: AttemptOutcome): Promise<void> {
    const error = outcome.status === 'delivered' ? null : outcome.error;
    const retryInMs = outcome.status === 'pending' ? outcome.retryInMs : null;
    await this.pool.query(RECORD_ATTEMPT_SQL, [id, attempt, outcome.status, outcome.statusCode, error, retryInMs]);
  }

  async release(id: string, attempt: number): Promise<void> {
    await this.pool.query(RELEASE_ATTEMPT_SQL, [id, attempt]);
  }
}

function fromRow(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    eventId: BigInt(r.event_id),
    eventType: r.event_type,
    jobId: r.job_id,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}
