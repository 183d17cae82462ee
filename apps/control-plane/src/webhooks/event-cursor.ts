/**
 * When may the webhook fan-out move its durable cursor over the job-event log?
 *
 * Event ids come from a sequence, and transactions commit in any order: id 100 can become visible after id 101, so
 * "the highest id seen" is not a safe cursor. Every writer of an announced event updates its job row first, so it
 * holds a transaction id before it draws the event id. Hence, with M the highest event id visible to a scan and
 * X that scan's snapshot xmax, every event ≤ M is either visible or written by a transaction with xid < X; once a
 * later snapshot's xmin ≥ X, all of those have ended and every event ≤ M is visible. That pair (M, X) is a mark;
 * the cursor advances to a mark only after the mark has matured and the events below it have been fanned out.
 * Until then the fan-out re-reads from the cursor and skips events that already have their deliveries.
 */
export interface CursorMark {
  upTo: bigint;
  xmax: bigint;
}

export interface ScanWindow {
  cursor: bigint;
  /** The scan snapshot's xmin and xmax (pg_current_snapshot()). */
  xmin: bigint;
  xmax: bigint;
  /** The highest event id visible to the scan (any type), null when the log is empty. */
  maxEventId: bigint | null;
  /** The last event of the scan's batch, and whether the batch was cut at its limit (more events wait). */
  lastEventId: bigint | null;
  full: boolean;
}

export interface CursorPlan {
  /** Where to move the cursor in the same statement that writes the batch's deliveries; null: leave it. */
  advanceTo: bigint | null;
  mark: CursorMark;
}

export function planCursor(mark: CursorMark | null, scan: ScanWindow): CursorPlan {
  const fresh: CursorMark = { upTo: scan.maxEventId ?? scan.cursor, xmax: scan.xmax };
  if (!mark || scan.xmin < mark.xmax) return { advanceTo: null, mark: mark ?? fresh };
  // A full batch fanned out everything up to its last event only.
  const safe = scan.full && scan.lastEventId !== null && scan.lastEventId < mark.upTo ? scan.lastEventId : mark.upTo;
  return { advanceTo: safe > scan.cursor ? safe : null, mark: fresh };
}
