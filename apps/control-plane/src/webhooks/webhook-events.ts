/** The job events a webhook can subscribe to, and the job-event log types they come from. */
export const WEBHOOK_EVENTS = ['job.queued', 'job.running', 'job.succeeded', 'job.failed', 'job.cancelled'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const DEFAULT_WEBHOOK_EVENTS: WebhookEvent[] = ['job.succeeded', 'job.failed', 'job.cancelled'];

/** `job_events.type` → webhook event. `job.started` is announced as `job.running` (the job's status from then on). */
const FROM_JOB_EVENT: Record<string, WebhookEvent> = {
  'job.queued': 'job.queued',
  'job.started': 'job.running',
  'job.succeeded': 'job.succeeded',
  'job.failed': 'job.failed',
  'job.cancelled': 'job.cancelled',
};

/** Which job-event log types are announced, and as what. */
export const ANNOUNCED_JOB_EVENTS = Object.entries(FROM_JOB_EVENT).map(([jobEventType, webhookEvent]) => ({ jobEventType, webhookEvent }));

export function isWebhookEvent(value: string): value is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(value);
}
