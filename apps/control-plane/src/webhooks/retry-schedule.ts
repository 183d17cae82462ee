export interface RetryPolicy {
  /** Attempts in all (the first try included) before a delivery is marked failed. */
  maxAttempts: number;
  /** Wait after the first failed attempt; each later wait doubles. */
  baseDelayMs: number;
  /** No single wait is longer than this. */
  maxDelayMs: number;
}

/**
 * How long to wait after failed attempt number `attempt` (1-based): base·2^(attempt−1), ±20 % jitter so receivers
 * coming back from an outage are not hit by every retry at once, capped at maxDelayMs. `random` is in [0, 1).
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: number = Math.random()): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
  const jitter = 0.8 + 0.4 * random;
  return Math.round(Math.min(policy.maxDelayMs, exponential * jitter));
}

/** What to do after failed attempt number `attempt`: retry after a delay, or give up. */
export function afterFailure(attempt: number, policy: RetryPolicy, random?: number): { retryInMs: number } | 'give_up' {
  return attempt >= policy.maxAttempts ? 'give_up' : { retryInMs: retryDelayMs(attempt, policy, random) };
}
