/** BullMQ queue names. Payloads carry ids only; Postgres holds the state. */
export const VALIDATION_QUEUE = 'grove.validation';

export interface ValidationMessage {
  jobId: string;
}
