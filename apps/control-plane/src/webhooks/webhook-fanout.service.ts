import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { unixSeconds } from '../common/presenters';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { JobEventsListener } from '../jobs/job-events.listener';
import { presentJob } from '../jobs/job.presenter';
import { planCursor, type CursorMark } from './event-cursor';
import { WakeableLoop } from './wakeable-loop';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { ANNOUNCED_JOB_EVENTS } from './webhook-events';
import { WebhookFanoutRepository, type NewDelivery, type PendingAnnouncement } from './webhook-fanout.repository';
import { newDeliveryId } from './webhook-ids';

const CURSOR_NAME = 'webhooks';
const EVENTS_PER_PASS = 100;
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Turns job events into webhook deliveries: reads the job-event log after the `webhooks` cursor and writes one
 * delivery per (event, subscribed webhook of the job's team), moving the cursor in the same statement
 * (event-cursor.ts says how far it may move). Woken by each committed job event, and polls as a safety net.
 */
@Injectable()
export class WebhookFanoutService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookFanoutService.name);
  private readonly loop: WakeableLoop;
  private mark: CursorMark | null = null;
  private unsubscribe?: () => void;

  constructor(
    private readonly fanout: WebhookFanoutRepository,
    private readonly jobEvents: JobEventsListener,
    private readonly sender: WebhookDeliveryService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.loop = new WakeableLoop(() => this.pass(), config.webhooks.pollIntervalMs, (error) =>
      this.logger.warn(`webhook fan-out pass failed: ${error.message}`),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.fanout.ensureCursor(CURSOR_NAME);
    this.unsubscribe = this.jobEvents.subscribeAll(() => this.loop.wake());
    this.loop.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    await this.loop.stop(SHUTDOWN_GRACE_MS);
  }

  /** One batch; true when more events wait. */
  private async pass(): Promise<boolean> {
    const scan = await this.fanout.scan(CURSOR_NAME, ANNOUNCED_JOB_EVENTS, EVENTS_PER_PASS);
    if (!scan) return false;
    const plan = planCursor(this.mark, scan.window);
    const deliveries = toDeliveries(scan.announcements);
    if (deliveries.length > 0 || plan.advanceTo !== null) {
      const written = await this.fanout.fanOut(CURSOR_NAME, plan.advanceTo, deliveries);
      if (written > 0) this.sender.wake();
    }
    this.mark = plan.mark;
    return scan.window.full;
  }
}

/** Each delivery's body: its own id, the event, and the job as GET /v1/jobs/{id} shows it now. */
function toDeliveries(announcements: PendingAnnouncement[]): NewDelivery[] {
  const jobs = new Map<bigint, ReturnType<typeof presentJob>>();
  return announcements.map((a) => {
    const job = jobs.get(a.eventId) ?? presentJob(a.job);
    jobs.set(a.eventId, job);
    const id = newDeliveryId();
    return {
      id,
      webhookId: a.webhookId,
      eventId: a.eventId,
      eventType: a.eventType,
      payload: { id, type: a.eventType, created_at: unixSeconds(a.eventCreatedAt), data: { job } },
    };
  });
}
