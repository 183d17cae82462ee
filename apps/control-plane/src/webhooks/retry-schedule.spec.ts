import { describe, expect, it } from 'vitest';
import { afterFailure, retryDelayMs, type RetryPolicy } from './retry-schedule';

const policy: RetryPolicy = { maxAttempts: 8, baseDelayMs: 60_000, maxDelayMs: 3_600_000 };
const MIDDLE = 0.5; // jitter factor exactly 1

describe(retryDelayMs.name, () => {
  it('doubles from the base delay after each failed attempt, capped', () => {
    const minutes = [1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, policy, MIDDLE) / 60_000);
    expect(minutes).toEqual([1, 2, 4, 8, 16, 32, 60]);
  });

  it('jitters by ±20 % and never past the cap', () => {
    expect(retryDelayMs(1, policy, 0)).toBe(48_000);
    expect(retryDelayMs(1, policy, 0.999_999)).toBeCloseTo(72_000, -1);
    expect(retryDelayMs(7, policy, 0.999_999)).toBe(3_600_000);
    for (let i = 0; i < 100; i += 1) {
      const d = retryDelayMs(3, policy);
      expect(d).toBeGreaterThanOrEqual(192_000);
      expect(d).toBeLessThanOrEqual(288_000);
    }
  });
});

describe(afterFailure.name, () => {
  it('retries until the last attempt, then gives up', () => {
    expect(afterFailure(1, policy, MIDDLE)).toEqual({ retryInMs: 60_000 });
    expect(afterFailure(7, policy, MIDDLE)).toEqual({ retryInMs: 3_600_000 });
    expect(afterFailure(8, policy, MIDDLE)).toBe('give_up');
    expect(afterFailure(1, { ...policy, maxAttempts: 1 })).toBe('give_up');
  });
});
