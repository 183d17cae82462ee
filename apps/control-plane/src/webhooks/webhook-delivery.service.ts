import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { afterFailure } from './retry-schedule';
import { WebhookDeliveriesRepository, type AttemptOutcome, type ClaimedDelivery, type DeliveryPayload } from './webhook-deliveries.repository';
import { WebhookSender, type SendResult } from './webhook-sender';
import { signatureHeader } from './webhook-signature';
import { WakeableLoop } from './wakeable-loop';

/** A claim outlives the request's timeout by this much, for reading the answer and recording it. */
const LEASE_MARGIN_MS = 30_000;
const MAX_ERROR_CHARS = 500;
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Sends due deliveries: claims up to `concurrency` at a time (replicas share them through SKIP LOCKED), POSTs each
 * signed body, and records the result: 2xx delivered; anything else retried with backoff, then failed.
 */
@Injectable()
export class WebhookDeliveryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookDeliveryService.name);
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly loop: WakeableLoop;

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly sender: WebhookSender,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.loop = new WakeableLoop(() => this.claimAndSend(), config.webhooks.pollIntervalMs, (error) =>
      this.logger.warn(`webhook delivery round failed: ${error.message}`),
    );
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  /** Interrupted attempts are given back (due again at once, not counted); bounded. */
  async onModuleDestroy(): Promise<void> {
    this.shutdown.abort();
    await this.loop.stop(SHUTDOWN_GRACE_MS);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.inFlight), new Promise((resolve) => (timeout = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(timeout);
  }

  /** Looks for due deliveries now (new ones were written, or one was redelivered). */
  wake(): void {
    this.loop.wake();
  }

  private async claimAndSend(): Promise<boolean> {
    const free = this.config.webhooks.concurrency - this.inFlight.size;
    if (free <= 0 || this.shutdown.signal.aborted) return false;
    const claimed = await this.deliveries.claimDue(free, this.config.webhooks.timeoutMs + LEASE_MARGIN_MS);
    for (const delivery of claimed) {
      const attempt: Promise<void> = this.attempt(delivery)
        .catch((error) => this.logger.warn(`webhook delivery ${delivery.id} not recorded: ${(error as Error).message}`))
        .finally(() => {
          this.inFlight.delete(attempt);
          this.wake();
        });
      this.inFlight.add(attempt);
    }
    return false;
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const body = serializePayload(delivery.payload);
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': 'Grove-Webhooks/1',
      'Grove-Event': delivery.eventType,
      'Grove-Delivery': delivery.id,
      'Grove-Signature': signatureHeader(delivery.secret, body, Math.floor(Date.now() / 1000)),
    };
    const result = await this.sender.post(delivery.url, body, headers, this.config.webhooks.timeoutMs, this.shutdown.signal);
    if (result.kind === 'aborted') {
      await this.deliveries.release(delivery.id, delivery.attempt);
      return;
    }
    const outcome = this.outcome(delivery.attempt, result);
    if (outcome.status !== 'delivered') {
      this.logger.log(`webhook delivery ${delivery.id} attempt ${delivery.attempt} to ${delivery.url} failed (${outcome.error}); ${outcome.status}`);
    }
    await this.deliveries.record(delivery.id, delivery.attempt, outcome);
  }

  private outcome(attempt: number, result: Exclude<SendResult, { kind: 'aborted' }>): AttemptOutcome {
    if (result.kind === 'response' && result.statusCode >= 200 && result.statusCode < 300) {
      return { status: 'delivered', statusCode: result.statusCode };
    }
    const statusCode = result.kind === 'response' ? result.statusCode : null;
    const error = truncate(result.kind === 'response' ? `HTTP ${result.statusCode}${result.bodySnippet ? `: ${result.bodySnippet}` : ''}` : result.message);
    const next = afterFailure(attempt, this.config.webhooks.retry);
    return next === 'give_up' ? { status: 'failed', statusCode, error } : { status: 'pending', statusCode, error, retryInMs: next.retryInMs };
  }
}

/** The exact bytes sent and signed; fields in a fixed order (the stored JSONB does not keep it). */
export function serializePayload(p: DeliveryPayload): string {
  return JSON.stringify({ id: p.id, type: p.type, created_at: p.created_at, data: p.data });
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}
