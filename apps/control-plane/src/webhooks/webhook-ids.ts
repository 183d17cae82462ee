import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

/** Time-ordered ids like common/ids.ts (whose prefix list is shared with other modules): newest-first pages are index scans. */
export function newWebhookId(): string {
  return `wh_${ulid().toLowerCase()}`;
}

export function newDeliveryId(): string {
  return `whdel_${ulid().toLowerCase()}`;
}
