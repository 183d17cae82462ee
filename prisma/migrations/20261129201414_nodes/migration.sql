-- CreateEnum
CREATE TYPE "NodeState" AS ENUM ('online', 'lost');

-- CreateTable
CREATE TABLE "join_tokens" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "join_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "nodes" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "state" "NodeState" NOT NULL DEFAULT 'online',
    "join_token_id" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "engine_version" TEXT NOT NULL,
    "gpus" JSONB NOT NULL,
    "base_models" TEXT[],
    "labels" JSONB NOT NULL DEFAULT '{}',
    "telemetry" JSONB,
    "registered_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_heartbeat_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "nodes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "join_tokens_secret_hash_key" ON "join_tokens"("secret_hash");

-- CreateIndex
CREATE UNIQUE INDEX "nodes_name_key" ON "nodes"("name");

-- CreateIndex
CREATE INDEX "nodes_state_last_heartbeat_at_idx" ON "nodes"("state", "last_heartbeat_at");

-- AddForeignKey
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_join_token_id_fkey" FOREIGN KEY ("join_token_id") REFERENCES "join_tokens"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
