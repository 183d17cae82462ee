import type { ActiveJob } from './active-job';
import type { WaitingUpdate } from './scheduling.repository';

/** Estimates move a little every round; they are rewritten only when they move by this much (or by 10 %). */
const ESTIMATE_SLACK_MS = 60_000;

/**
 * Whether a waiting job's stored reason or estimate is stale enough to rewrite: another reason code or numbers, an
 * estimate appearing or disappearing, or a start estimate off by more than a minute and 10 % of the time left.
 */
export function waitingChanged(job: Pick<ActiveJob, 'waitReason' | 'estimatedStartAt'>, update: WaitingUpdate, now: Date): boolean {
  if (canonical(job.waitReason) !== canonical(update.reason)) return true;
  const before = job.estimatedStartAt;
  const after = update.estimatedStartAt;
  if ((before === null) !== (after === null)) return true;
  if (before === null || after === null) return false;
  const slack = Math.max(ESTIMATE_SLACK_MS, 0.1 * Math.abs(after.getTime() - now.getTime()));
  return Math.abs(after.getTime() - before.getTime()) > slack;
}

/** JSON with sorted keys: Postgres' jsonb reorders keys, so compare content, not text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}
