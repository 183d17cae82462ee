/** Delay before retry number `attempt` (0-based): 0.5 s, 1 s, 2 s, 4 s, then 8 s. */
export function backoffMs(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 8_000);
}

/** A `Retry-After` header in seconds (the control plane never sends dates), capped at 30 s; undefined if absent. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Math.min(Number(header) * 1000, 30_000);
}

/** Statuses worth another try: the server or a proxy in front of it was briefly unable to answer. */
export function isRetryableStatus(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504;
}
