import { describe, expect, it } from 'vitest';
import { planCursor, type ScanWindow } from './event-cursor';

const scan = (over: Partial<ScanWindow> = {}): ScanWindow => ({
  cursor: 10n, xmin: 500n, xmax: 510n, maxEventId: 40n, lastEventId: null, full: false, ...over,
});

describe(planCursor.name, () => {
  it('does not move on the first scan; it marks what that scan saw', () => {
    expect(planCursor(null, scan())).toEqual({ advanceTo: null, mark: { upTo: 40n, xmax: 510n } });
  });

  it('waits while a transaction that was running at the mark may still commit a lower event id', () => {
    const mark = { upTo: 40n, xmax: 510n };
    expect(planCursor(mark, scan({ xmin: 509n, xmax: 530n, maxEventId: 60n }))).toEqual({ advanceTo: null, mark });
  });

  it('advances to a matured mark and marks the new scan', () => {
    const plan = planCursor({ upTo: 40n, xmax: 510n }, scan({ xmin: 510n, xmax: 530n, maxEventId: 60n }));
    expect(plan).toEqual({ advanceTo: 40n, mark: { upTo: 60n, xmax: 530n } });
  });

  it('stops at the last event of a batch cut at its limit', () => {
    const plan = planCursor({ upTo: 40n, xmax: 510n }, scan({ xmin: 520n, lastEventId: 25n, full: true }));
    expect(plan.advanceTo).toBe(25n);
    expect(planCursor({ upTo: 40n, xmax: 510n }, scan({ xmin: 520n, lastEventId: 55n, full: true })).advanceTo).toBe(40n);
  });

  it('never moves backwards (another replica may have advanced it further)', () => {
    expect(planCursor({ upTo: 40n, xmax: 510n }, scan({ cursor: 45n, xmin: 520n })).advanceTo).toBeNull();
  });

  it('starts from the cursor on an empty log', () => {
    expect(planCursor(null, scan({ maxEventId: null })).mark.upTo).toBe(10n);
  });
});
