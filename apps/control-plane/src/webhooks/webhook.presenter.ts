import { unixSeconds, unixSecondsOrNull } from '../common/presenters';
import type { DeliveryRecord } from './webhook-deliveries.repository';
import type { WebhookRecord } from './webhooks.repository';

export function presentWebhook(w: WebhookRecord) {
  return { id: w.id, object: 'webhook', url: w.url, events: w.events, created_at: unixSeconds(w.createdAt) };
}

/** At creation only: the signing secret, which is never shown again. */
export function presentNewWebhook(w: WebhookRecord) {
  return { ...presentWebhook(w), secret: w.secret };
}

export function presentDelivery(d: DeliveryRecord) {
  return {
    id: d.id,
    object: 'webhook.delivery',
    webhook_id: d.webhookId,
    event_id: d.eventId.toString(),
    event_type: d.eventType,
    job_id: d.jobId,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    next_attempt_at: d.status === 'pending' ? unixSeconds(d.nextAttemptAt) : null,
    created_at: unixSeconds(d.createdAt),
    delivered_at: unixSecondsOrNull(d.deliveredAt),
  };
}
