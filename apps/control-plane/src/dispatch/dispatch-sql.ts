/** Dispatch writes, each one atomic statement that also records the job event and NOTIFYs its id. */

/**
 * Assigns a queued, unassigned job to a GPU and bumps its attempt.
 * Params: 1 channel, 2 job, 3 node, 4 gpu, 5 event message.
 */
export const ASSIGN_JOB_SQL = `
WITH assigned AS (
  UPDATE jobs SET node_id = $3, gpu_index = $4, attempt = attempt + 1, updated_at = now(),
    wait_reason = NULL, estimated_start_at = NULL, estimated_finish_at = NULL
  WHERE id = $2 AND status = 'queued' AND node_id IS NULL
  RETURNING id, attempt
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data)
  SELECT id, 'info', 'job.assigned', $5, jsonb_build_object('node_id', $3::text, 'gpu_index', $4::int, 'attempt', attempt)
  FROM assigned RETURNING job_id
)
SELECT a.attempt, pg_notify($1, a.id)::text AS notified FROM assigned a`;

/**
 * Applies an agent's report to the job's current attempt on that node; no row when the report is stale.
 * Params: 1 channel, 2 job, 3 attempt, 4 node, 5 new status, 6 release the GPU (requeue), 7 failures to add,
 * 8 adapter key, 9 trained tokens, 10 error, 11 event level, 12 event type, 13 event message, 14 event data,
 * 15 preemptions to add.
 */
export const APPLY_REPORT_SQL = `
WITH moved AS (
  UPDATE jobs SET status = $5::"JobStatus", updated_at = now(),
    node_id = CASE WHEN $6::bool THEN NULL ELSE node_id END,
    gpu_index = CASE WHEN $6::bool THEN NULL ELSE gpu_index END,
    failures = failures + $7::int,
    preemptions = preemptions + $15::int,
    adapter_key = coalesce($8, adapter_key),
    trained_tokens = coalesce($9::bigint, trained_tokens),
    error = coalesce($10::jsonb, error),
    started_at = CASE WHEN $5::text = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
    finished_at = CASE WHEN $5::text IN ('succeeded', 'failed', 'cancelled') THEN now() ELSE finished_at END
  WHERE id = $2 AND attempt = $3 AND node_id = $4 AND status IN ('queued', 'running')
  RETURNING id
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data) SELECT id, $11, $12, $13, $14::jsonb FROM moved
  RETURNING job_id
)
SELECT m.id, pg_notify($1, m.id)::text AS notified FROM moved m`;

/** Jobs placed on lost nodes go back to the queue. Params: 1 channel. */
export const REQUEUE_LOST_NODE_JOBS_SQL = `
WITH moved AS (
  UPDATE jobs SET status = 'queued', node_id = NULL, gpu_index = NULL, updated_at = now()
  WHERE node_id IN (SELECT id FROM nodes WHERE state = 'lost') AND status IN ('queued', 'running')
  RETURNING id, attempt
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data)
  SELECT id, 'warn', 'job.requeued', 'Its node stopped answering; the job will resume from its last checkpoint elsewhere',
         jsonb_build_object('attempt', attempt)
  FROM moved RETURNING job_id
)
SELECT m.id, pg_notify($1, m.id)::text AS notified FROM moved m`;

/**
 * Records a checkpoint of the current attempt. Params: 1 channel, 2 job, 3 attempt, 4 node, 5 step, 6 key.
 */
export const RECORD_CHECKPOINT_SQL = `
WITH current AS (
  SELECT id FROM jobs WHERE id = $2 AND attempt = $3 AND node_id = $4 AND status IN ('queued', 'running')
), saved AS (
  INSERT INTO job_checkpoints (job_id, step, attempt, key) SELECT id, $5, $3, $6 FROM current
  ON CONFLICT (job_id, step) DO UPDATE SET key = EXCLUDED.key, attempt = EXCLUDED.attempt
  RETURNING job_id
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data)
  SELECT job_id, 'info', 'checkpoint.saved', 'Checkpoint saved at step ' || $5::text, jsonb_build_object('step', $5::int)
  FROM saved RETURNING job_id
)
SELECT s.job_id, pg_notify($1, s.job_id)::text AS notified FROM saved s`;

/**
 * The loss curve: one `metrics` event per reported step (with `val_loss` on evaluated steps; null when it was not
 * finite), for the job's current attempt on that node only. A
 * heartbeat can land just after that attempt's final report, so a finished attempt still takes its last steps.
 * Params: 1 channel, 2 job, 3 attempt, 4 node, 5 steps jsonb array, 6 trained tokens.
 */
export const RECORD_METRICS_SQL = `
WITH current AS (
  UPDATE jobs SET trained_tokens = greatest(coalesce(trained_tokens, 0), $6::bigint)
  WHERE id = $2 AND attempt = $3 AND node_id = $4 AND status IN ('running', 'succeeded', 'failed')
  RETURNING id
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data)
  SELECT c.id, 'info', 'metrics',
         format('step %s: loss %s', s->>'step', round((s->>'loss')::numeric, 4))
           || coalesce(format(', val_loss %s', round((s->>'val_loss')::numeric, 4)), ''), s
  FROM current c, jsonb_array_elements($5::jsonb) s
  RETURNING job_id
)
SELECT c.id, CASE WHEN (SELECT count(*) FROM event) > 0 THEN pg_notify($1, c.id)::text END AS notified FROM current c`;

/**
 * A node that registers again has restarted its agent: what was placed on it is gone, so it goes back to the queue.
 * Params: 1 channel, 2 node id.
 */
export const REQUEUE_RESTARTED_NODE_JOBS_SQL = `
WITH moved AS (
  UPDATE jobs SET status = 'queued', node_id = NULL, gpu_index = NULL, updated_at = now()
  WHERE node_id = $2 AND status IN ('queued', 'running')
  RETURNING id, attempt
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data)
  SELECT id, 'warn', 'job.requeued', 'Its agent restarted; the job will resume from its last checkpoint',
         jsonb_build_object('attempt', attempt)
  FROM moved RETURNING job_id
)
SELECT m.id, pg_notify($1, m.id)::text AS notified FROM moved m`;
