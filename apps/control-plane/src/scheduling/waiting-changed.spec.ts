import { describe, expect, it } from 'vitest';
import { waitingChanged } from './waiting-changed';

const now = new Date(1_000_000_000);
const reason = { code: 'insufficient_memory', message: 'm', needed_bytes: 1 };
const at = (ms: number) => new Date(now.getTime() + ms);

describe(waitingChanged.name, () => {
  it('rewrites a new reason or new numbers, whatever the key order Postgres returned', () => {
    const stored = { waitReason: { needed_bytes: 1, message: 'm', code: 'insufficient_memory' }, estimatedStartAt: at(60_000) };
    expect(waitingChanged(stored, { jobId: 'j', reason, estimatedStartAt: at(60_000), estimatedFinishAt: null }, now)).toBe(false);
    expect(waitingChanged(stored, { jobId: 'j', reason: { ...reason, needed_bytes: 2 }, estimatedStartAt: at(60_000), estimatedFinishAt: null }, now)).toBe(true);
  });

  it('ignores estimate drift under a minute and 10 % of the wait, and rewrites larger moves or an estimate appearing', () => {
    const stored = { waitReason: reason, estimatedStartAt: at(3_600_000) };
    expect(waitingChanged(stored, { jobId: 'j', reason, estimatedStartAt: at(3_900_000), estimatedFinishAt: null }, now)).toBe(false);
    expect(waitingChanged(stored, { jobId: 'j', reason, estimatedStartAt: at(4_100_000), estimatedFinishAt: null }, now)).toBe(true);
    expect(waitingChanged({ waitReason: reason, estimatedStartAt: null }, { jobId: 'j', reason, estimatedStartAt: at(1), estimatedFinishAt: null }, now)).toBe(true);
  });
});
