/** The aggregate reads behind GET /metrics: a handful of scans, whatever the number of jobs and nodes. */

/** Job counts as (kind, key, n) rows: by state, queued-and-unplaced by priority rank, failed by error code. */
export const JOB_COUNTS_SQL = `
SELECT 'state' AS kind, status::text AS key, count(*)::bigint AS n FROM jobs GROUP BY status
UNION ALL
SELECT 'queued_priority', priority::text, count(*) FROM jobs WHERE status = 'queued' AND node_id IS NULL GROUP BY priority
UNION ALL
SELECT 'failure_reason', coalesce(error->>'code', 'unknown'), count(*) FROM jobs WHERE status = 'failed' GROUP BY 2
UNION ALL
SELECT 'preemptions', '', coalesce(sum(preemptions), 0)::bigint FROM jobs`;

/**
 * Time from submission to first start of every started job, bucketed: `bucket` = how many of the upper bounds $1
 * (ascending, seconds) lie below the wait, i.e. the index of the first bound ≥ it (Prometheus buckets are `le`,
 * inclusive; width_bucket alone would put a wait equal to a bound in the next bucket).
 */
export const JOB_WAIT_BUCKETS_SQL = `
SELECT width_bucket(w.seconds, $1::float8[]) - (w.seconds = ANY($1::float8[]))::int AS bucket,
       count(*)::bigint AS n, sum(w.seconds) AS seconds
FROM (SELECT extract(epoch FROM started_at - created_at)::float8 AS seconds FROM jobs WHERE started_at IS NOT NULL) w
GROUP BY 1`;

export const NODES_SQL = `SELECT name, state::text AS state, cordoned, draining, gpus, telemetry FROM nodes`;
