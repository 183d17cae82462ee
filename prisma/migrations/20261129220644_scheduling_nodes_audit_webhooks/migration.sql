-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "estimated_finish_at" TIMESTAMP(3),
ADD COLUMN     "estimated_start_at" TIMESTAMP(3),
ADD COLUMN     "node_selector" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "preemptions" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "queued_at" TIMESTAMP(3),
ADD COLUMN     "wait_reason" JSONB;

-- AlterTable
ALTER TABLE "nodes" ADD COLUMN     "cordoned" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "draining" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "operator_labels" JSONB NOT NULL DEFAULT '{}';

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "actor_token_id" TEXT,
    "actor_team_id" TEXT,
    "action" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "data" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhooks" (
    "id" TEXT NOT NULL,
    "team_id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "events" TEXT[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disabled_at" TIMESTAMP(3),

    CONSTRAINT "webhooks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" TEXT NOT NULL,
    "webhook_id" TEXT NOT NULL,
    "event_id" BIGINT NOT NULL,
    "event_type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMP(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_cursors" (
    "name" TEXT NOT NULL,
    "last_id" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "event_cursors_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "audit_events_target_type_target_id_id_idx" ON "audit_events"("target_type", "target_id", "id");

-- CreateIndex
CREATE INDEX "webhooks_team_id_idx" ON "webhooks"("team_id");

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_webhook_id_event_id_key" ON "webhook_deliveries"("webhook_id", "event_id");

-- AddForeignKey
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_fkey" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- queued_at: the start of a job's current wait for a GPU, for aging. Whatever puts a job back in the queue unplaced
-- (validation, preemption, OOM requeue, a lost node) starts a new wait; a trigger keeps every writer honest.
CREATE FUNCTION jobs_set_queued_at() RETURNS trigger AS $$
BEGIN
  IF NEW.status = 'queued' AND NEW.node_id IS NULL
     AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'queued' OR OLD.node_id IS NOT NULL) THEN
    NEW.queued_at := now() AT TIME ZONE 'UTC';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_queued_at BEFORE INSERT OR UPDATE OF status, node_id ON jobs
  FOR EACH ROW EXECUTE FUNCTION jobs_set_queued_at();

UPDATE jobs SET queued_at = updated_at WHERE status = 'queued' AND node_id IS NULL;

CREATE INDEX "jobs_status_queued_at_idx" ON "jobs"("status", "queued_at");
