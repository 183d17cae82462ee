/**
 * Webhook fan-out and delivery: each write is one atomic statement, so a crash between statements loses or doubles
 * nothing, and replicas share the work through row locks (SKIP LOCKED) and the (webhook_id, event_id) key.
 * Times are written as UTC like Prisma's (the columns are TIMESTAMP without time zone).
 */

const NOW = `(now() AT TIME ZONE 'UTC')`;

/** Creates the cursor at the log's current end, so a new installation does not announce history. Params: 1 name. */
export const ENSURE_CURSOR_SQL = `
INSERT INTO event_cursors (name, last_id) SELECT $1, coalesce(max(id), 0) FROM job_events
ON CONFLICT (name) DO NOTHING`;

/**
 * The next events after the cursor that some enabled webhook of the job's team subscribes to and has no delivery
 * for yet — at most $4 events, with every (event, webhook) pair and the job row — plus the scan's snapshot bounds
 * (see event-cursor.ts). Always one row at least (pair columns null when there is nothing to announce).
 * Params: 1 cursor name, 2 job-event types, 3 the webhook event each is announced as, 4 event limit.
 */
export const SCAN_EVENTS_SQL = `
WITH snap AS (
  SELECT pg_snapshot_xmin(s)::text AS snapshot_xmin, pg_snapshot_xmax(s)::text AS snapshot_xmax FROM pg_current_snapshot() s
), cur AS (
  SELECT last_id FROM event_cursors WHERE name = $1
), announced AS (
  SELECT * FROM unnest($2::text[], $3::text[]) AS a(job_event_type, webhook_event)
), candidates AS (
  SELECT e.id AS event_id, e.job_id, e.created_at AS event_created_at, a.webhook_event, w.id AS webhook_id
  FROM job_events e
  JOIN announced a ON a.job_event_type = e.type
  JOIN jobs j ON j.id = e.job_id
  JOIN webhooks w ON w.team_id = j.team_id AND w.disabled_at IS NULL AND a.webhook_event = ANY(w.events)
                 AND w.created_at <= e.created_at
  WHERE e.id > (SELECT last_id FROM cur)
    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.event_id = e.id)
), batch AS (
  SELECT DISTINCT event_id FROM candidates ORDER BY event_id LIMIT $4
), pairs AS (
  SELECT c.webhook_id, c.event_id, c.webhook_event, c.event_created_at, j.*, m.name AS model_name
  FROM candidates c JOIN batch b ON b.event_id = c.event_id
  JOIN jobs j ON j.id = c.job_id JOIN base_models m ON m.id = j.model_id
)
SELECT s.snapshot_xmin, s.snapshot_xmax, c.last_id AS cursor_id,
       (SELECT max(id) FROM job_events) AS max_event_id,
       (SELECT count(*) FROM batch)::int AS batch_events,
       (SELECT max(event_id) FROM batch) AS batch_last_event_id,
       p.*
FROM snap s CROSS JOIN cur c LEFT JOIN pairs p ON true
ORDER BY p.event_id, p.webhook_id`;

/**
 * Writes a batch's deliveries and moves the cursor, together. Deliveries of webhooks deleted since the scan are
 * skipped; pairs another replica wrote first are kept as they are.
 * Params: 1 cursor name, 2 new cursor (null: leave it), 3 ids, 4 webhook ids, 5 event ids, 6 event types, 7 payloads.
 */
export const FAN_OUT_SQL = `
WITH advanced AS (
  UPDATE event_cursors SET last_id = greatest(last_id, $2::bigint) WHERE name = $1 AND $2::bigint IS NOT NULL
  RETURNING last_id
), inserted AS (
  INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
  SELECT d.id, d.webhook_id, d.event_id, d.event_type, d.payload::jsonb, 'pending', 0, ${NOW}, ${NOW}
  FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS d(id, webhook_id, event_id, event_type, payload)
  WHERE EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)
  ON CONFLICT (webhook_id, event_id) DO NOTHING
  RETURNING id
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted`;

/**
 * Claims due deliveries for one attempt each: counts the attempt and pushes next_attempt_at out by a lease, so no
 * other replica takes them while this one is sending (after a crash they come due again when the lease ends).
 * Params: 1 limit, 2 lease ms.
 */
export const CLAIM_DUE_SQL = `
WITH due AS (
  SELECT id FROM webhook_deliveries
  WHERE status = 'pending' AND next_attempt_at <= ${NOW}
  ORDER BY next_attempt_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = ${NOW} + make_interval(secs => $2::double precision / 1000)
FROM due, webhooks w
WHERE d.id = due.id AND w.id = d.webhook_id
RETURNING d.id, d.event_type, d.payload, d.attempts, w.url, w.secret`;

/**
 * Records the outcome of attempt $2 (ignored if that attempt is no longer the current one).
 * Params: 1 id, 2 attempt, 3 new status (delivered | pending | failed), 4 status code, 5 error, 6 retry delay ms.
 */
export const RECORD_ATTEMPT_SQL = `
UPDATE webhook_deliveries
SET status = $3, last_status_code = $4, last_error = $5,
    delivered_at = CASE WHEN $3 = 'delivered' THEN ${NOW} ELSE delivered_at END,
    next_attempt_at = CASE WHEN $3 = 'pending' THEN ${NOW} + make_interval(secs => $6::double precision / 1000)
                      ELSE next_attempt_at END
WHERE id = $1 AND attempts = $2 AND status = 'pending'`;

/** Gives back a claimed attempt that was interrupted (shutdown): due again now, not counted. Params: 1 id, 2 attempt. */
export const RELEASE_ATTEMPT_SQL = `
UPDATE webhook_deliveries SET attempts = attempts - 1, next_attempt_at = ${NOW}
WHERE id = $1 AND attempts = $2 AND status = 'pending'`;

const DELIVERY_COLUMNS = `id, webhook_id, event_id, event_type, payload #>> '{data,job,id}' AS job_id, status, attempts,
  next_attempt_at, last_status_code, last_error, created_at, delivered_at`;

/** Newest first. Params: 1 webhook, 2 after (delivery id or null), 3 limit. */
export const LIST_DELIVERIES_SQL = `
SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
WHERE webhook_id = $1 AND ($2::text IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3`;

/** Params: 1 webhook, 2 delivery. */
export const FIND_DELIVERY_SQL = `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2`;

/**
 * Sends a finished delivery (failed, or delivered) again with a fresh retry schedule; no row if it is pending.
 * Params: 1 webhook, 2 delivery.
 */
export const REDELIVER_SQL = `
UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ${NOW}, delivered_at = NULL
WHERE webhook_id = $1 AND id = $2 AND status <> 'pending'
RETURNING ${DELIVERY_COLUMNS}`;
