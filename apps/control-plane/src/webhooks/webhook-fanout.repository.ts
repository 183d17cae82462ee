import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { SQL_POOL } from '../database/sql-pool';
import type { JobRecord } from '../jobs/job-record';
import { jobFromRow, type JobRow } from '../jobs/job-rows';
import type { ScanWindow } from './event-cursor';
import type { DeliveryPayload } from './webhook-deliveries.repository';
import type { WebhookEvent } from './webhook-events';
import { ENSURE_CURSOR_SQL, FAN_OUT_SQL, SCAN_EVENTS_SQL } from './webhook-sql';

/** One job event one webhook should hear about. */
export interface PendingAnnouncement {
  webhookId: string;
  eventId: bigint;
  eventType: WebhookEvent;
  eventCreatedAt: Date;
  job: JobRecord;
}

export interface NewDelivery {
  id: string;
  webhookId: string;
  eventId: bigint;
  eventType: WebhookEvent;
  payload: DeliveryPayload;
}

interface ScanMeta {
  snapshot_xmin: string;
  snapshot_xmax: string;
  cursor_id: string;
  max_event_id: string | null;
  batch_events: number;
  batch_last_event_id: string | null;
}
type PairRow = JobRow & { webhook_id: string; event_id: string; webhook_event: WebhookEvent; event_created_at: Date };
/** The pair columns are all null on the one row of a scan with nothing to announce. */
type ScanRow = ScanMeta & (PairRow | { webhook_id: null });

@Injectable()
export class WebhookFanoutRepository {
  constructor(@Inject(SQL_POOL) private readonly pool: Pool) {}

  async ensureCursor(name: string): Promise<void> {
    await this.pool.query(ENSURE_CURSOR_SQL, [name]);
  }

  /** The next announcements after the cursor (at most `eventLimit` events) and the scan's window; null without a cursor. */
  async scan(
    cursorName: string,
    announced: { jobEventType: string; webhookEvent: WebhookEvent }[],
    eventLimit: number,
  ): Promise<{ window: ScanWindow; announcements: PendingAnnouncement[] } | null> {
    const { rows } = await this.pool.query<ScanRow>(SCAN_EVENTS_SQL, [
      cursorName, announced.map((a) => a.jobEventType), announced.map((a) => a.webhookEvent), eventLimit,
    ]);
    const first = rows[0];
    if (!first) return null;
    const window: ScanWindow = {
      cursor: BigInt(first.cursor_id),
      xmin: BigInt(first.snapshot_xmin),
      xmax: BigInt(first.snapshot_xmax),
      maxEventId: first.max_event_id === null ? null : BigInt(first.max_event_id),
      lastEventId: first.batch_last_event_id === null ? null : BigInt(first.batch_last_event_id),
      full: first.batch_events >= eventLimit,
    };
    const announcements = rows
      .filter((r): r is ScanMeta & PairRow => r.webhook_id !== null)
      .map((r) => ({
        webhookId: r.webhook_id,
        eventId: BigInt(r.event_id),
        eventType: r.webhook_event,
        eventCreatedAt: r.event_created_at,
        job: jobFromRow(r),
      }));
    return { window, announcements };
  }

  /** Writes the deliveries and moves the cursor in one statement; returns how many deliveries are new. */
  async fanOut(cursorName: string, advanceTo: bigint | null, deliveries: NewDelivery[]): Promise<number> {
    const { rows } = await this.pool.query<{ inserted: number }>(FAN_OUT_SQL, [
      cursorName,
      advanceTo?.toString() ?? null,
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.webhookId),
      deliveries.map((d) => d.eventId.toString()),
      deliveries.map((d) => d.eventType),
      deliveries.map((d) => JSON.stringify(d.payload)),
    ]);
    return rows[0]?.inserted ?? 0;
  }
}
