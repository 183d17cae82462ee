/** The scheduler's reads and bulk writes, each one SQL statement. */

/**
 * Jobs placed on GPUs (assigned or running), then up to $1 waiting jobs in rank order (priority, then longest wait).
 */
export const ACTIVE_JOBS_SQL = `
(SELECT j.id, j.status, j.attempt, j.node_id, j.gpu_index, j.priority, j.hyperparameters, j.trained_tokens,
        j.preemptions, j.node_selector, j.created_at, j.queued_at, j.updated_at, j.wait_reason,
        j.estimated_start_at, coalesce((j.stats->'training'->>'tokens')::bigint, 0) AS dataset_tokens,
        coalesce((j.stats->'training'->>'max_len')::int, 0) AS dataset_max_len, m.name AS model_name, m.summary
   FROM jobs j JOIN base_models m ON m.id = j.model_id
  WHERE j.status IN ('queued', 'running') AND j.node_id IS NOT NULL)
UNION ALL
(SELECT j.id, j.status, j.attempt, j.node_id, j.gpu_index, j.priority, j.hyperparameters, j.trained_tokens,
        j.preemptions, j.node_selector, j.created_at, j.queued_at, j.updated_at, j.wait_reason,
        j.estimated_start_at, coalesce((j.stats->'training'->>'tokens')::bigint, 0),
        coalesce((j.stats->'training'->>'max_len')::int, 0), m.name, m.summary
   FROM jobs j JOIN base_models m ON m.id = j.model_id
  WHERE j.status = 'queued' AND j.node_id IS NULL
  ORDER BY j.priority DESC, j.queued_at ASC NULLS LAST, j.id
  LIMIT $1)`;

/**
 * Saves why waiting jobs wait and when they should start and finish; only jobs still waiting are touched.
 * Params: 1 ids, 2 reasons (jsonb), 3 estimated starts, 4 estimated finishes (ISO text or null).
 */
export const RECORD_WAITING_SQL = `
UPDATE jobs j SET wait_reason = u.reason,
  estimated_start_at = u.start_at::timestamptz AT TIME ZONE 'UTC',
  estimated_finish_at = u.finish_at::timestamptz AT TIME ZONE 'UTC'
FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::text[]) AS u(id, reason, start_at, finish_at)
WHERE j.id = u.id AND j.status = 'queued' AND j.node_id IS NULL`;

/**
 * Takes back a job assigned to a GPU that has not started there yet, bumping its attempt so the pending start is
 * stale. Params: 1 channel, 2 job, 3 attempt, 4 event message.
 */
export const UNASSIGN_JOB_SQL = `
WITH moved AS (
  UPDATE jobs SET node_id = NULL, gpu_index = NULL, attempt = attempt + 1, updated_at = now()
  WHERE id = $2 AND attempt = $3 AND status = 'queued' AND node_id IS NOT NULL
  RETURNING id, attempt
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data)
  SELECT id, 'info', 'job.requeued', $4, jsonb_build_object('attempt', attempt) FROM moved RETURNING job_id
)
SELECT m.id, pg_notify($1, m.id)::text AS notified FROM moved m`;

/** Records that a preemption was asked for. Params: 1 channel, 2 job, 3 attempt, 4 message, 5 data. */
export const PREEMPTION_REQUESTED_SQL = `
WITH current AS (
  SELECT id FROM jobs WHERE id = $2 AND attempt = $3 AND status = 'running'
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data)
  SELECT id, 'info', 'job.preempting', $4, $5::jsonb FROM current RETURNING job_id
)
SELECT c.id, pg_notify($1, c.id)::text AS notified FROM current c`;
