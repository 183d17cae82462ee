/**
 * The job writes that must be single atomic statements. Each notifies JOB_EVENTS_CHANNEL with the job id when it
 * commits an event, which wakes live event streams.
 */

/**
 * Inserts a job and its first event, but only if every referenced dataset exists in the team; the datasets are
 * share-locked, so a concurrent delete either commits first (and no job is inserted) or waits for this one.
 * Params: 1 channel, 2 id, 3 team, 4 model, 5 training file, 6 validation file, 7 hyperparameters, 8 priority,
 * 9 suffix, 10 metadata, 11 event level, 12 event type, 13 event message, 14 node selector.
 */
export const INSERT_JOB_SQL = `
WITH wanted AS (
  SELECT unnest(array_remove(ARRAY[$5::text, $6::text], NULL)) AS id
), files AS (
  SELECT d.id FROM datasets d JOIN wanted w ON w.id = d.id WHERE d.team_id = $3 FOR SHARE OF d
), complete AS (
  SELECT (SELECT count(*) FROM files) = (SELECT count(*) FROM wanted) AS ok
), job AS (
  INSERT INTO jobs (id, team_id, model_id, training_file_id, validation_file_id, status, hyperparameters, priority,
                    suffix, metadata, node_selector, updated_at)
  SELECT $2, $3, $4, $5, $6, 'validating', $7::jsonb, $8, $9, $10::jsonb, $14::jsonb, now() FROM complete WHERE ok
  RETURNING *
), event AS (
  INSERT INTO job_events (job_id, level, type, message) SELECT id, $11, $12, $13 FROM job RETURNING job_id
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM files) AS found_files, j.*, m.name AS model_name,
       CASE WHEN j.id IS NULL THEN NULL ELSE pg_notify($1, j.id)::text END AS notified
FROM (SELECT 1) one
LEFT JOIN job j ON true
LEFT JOIN base_models m ON m.id = j.model_id`;

/**
 * Moves a job from one of the given states to another, updating the given fields (NULL keeps a field) and
 * recording the event, or does nothing when the job is not in one of those states.
 * Params: 1 channel, 2 id, 3 from states, 4 to state, 5 stats, 6 token file, 7 validation token file, 8 error,
 * 9 finished at, 10 event level, 11 event type, 12 event message, 13 event data, 14 total steps.
 */
export const TRANSITION_JOB_SQL = `
WITH moved AS (
  UPDATE jobs SET status = $4::"JobStatus", updated_at = now(),
    stats = coalesce($5::jsonb, stats),
    token_file_key = coalesce($6, token_file_key),
    validation_token_file_key = coalesce($7, validation_token_file_key),
    error = coalesce($8::jsonb, error),
    finished_at = coalesce($9::timestamp, finished_at),
    total_steps = coalesce($14::int, total_steps)
  WHERE id = $2 AND status = ANY($3::"JobStatus"[])
  RETURNING *
), event AS (
  INSERT INTO job_events (job_id, level, type, message, data) SELECT id, $10, $11, $12, $13::jsonb FROM moved
  RETURNING job_id
)
SELECT j.*, m.name AS model_name, pg_notify($1, j.id)::text AS notified
FROM moved j JOIN base_models m ON m.id = j.model_id`;

/** Params: 1 channel, 2 job, 3 level, 4 type, 5 message, 6 data. */
export const APPEND_EVENT_SQL = `
WITH event AS (
  INSERT INTO job_events (job_id, level, type, message, data) VALUES ($2, $3, $4, $5, $6::jsonb) RETURNING job_id
)
SELECT pg_notify($1, job_id)::text FROM event`;
