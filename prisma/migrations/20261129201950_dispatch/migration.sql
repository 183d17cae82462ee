-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "adapter_key" TEXT,
ADD COLUMN     "attempt" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "gpu_index" INTEGER,
ADD COLUMN     "node_id" TEXT,
ADD COLUMN     "started_at" TIMESTAMP(3),
ADD COLUMN     "total_steps" INTEGER;

-- CreateTable
CREATE TABLE "job_checkpoints" (
    "job_id" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_checkpoints_pkey" PRIMARY KEY ("job_id","step")
);

-- CreateIndex
CREATE INDEX "jobs_node_id_idx" ON "jobs"("node_id");

-- AddForeignKey
ALTER TABLE "job_checkpoints" ADD CONSTRAINT "job_checkpoints_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
