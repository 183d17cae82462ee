import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { SQL_POOL } from '../database/sql-pool';
import { JOB_EVENTS_CHANNEL } from '../jobs/jobs.repository';
import type { ActiveJob } from './active-job';
import { ACTIVE_JOBS_SQL, PREEMPTION_REQUESTED_SQL, RECORD_WAITING_SQL, UNASSIGN_JOB_SQL } from './scheduling-sql';

export interface WaitingUpdate {
  jobId: string;
  reason: unknown;
  estimatedStartAt: Date | null;
  estimatedFinishAt: Date | null;
}

interface ActiveJobRow {
  id: string;
  status: ActiveJob['status'];
  attempt: number;
  node_id: string | null;
  gpu_index: number | null;
  priority: number;
  hyperparameters: ActiveJob['hyperparameters'];
  trained_tokens: string | null;
  preemptions: number;
  node_selector: Record<string, string>;
  created_at: Date;
  queued_at: Date | null;
  updated_at: Date;
  wait_reason: unknown;
  estimated_start_at: Date | null;
  dataset_tokens: string;
  dataset_max_len: number;
  model_name: string;
  summary: ActiveJob['summary'];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

@Injectable()
export class SchedulingRepository {
  constructor(@Inject(SQL_POOL) private readonly pool: Pool) {}

  /** Every placed job, and the first `waitingLimit` waiting jobs in rank order. */
  async activeJobs(waitingLimit: number): Promise<ActiveJob[]> {
    const { rows } = await this.pool.query<ActiveJobRow>(ACTIVE_JOBS_SQL, [waitingLimit]);
    return rows.map((r) => ({
      id: r.id,
      status: r.status,
      attempt: r.attempt,
      nodeId: r.node_id,
      gpuIndex: r.gpu_index,
      priority: r.priority,
      modelName: r.model_name,
      summary: r.summary,
      hyperparameters: r.hyperparameters,
      datasetTokens: Number(r.dataset_tokens),
      datasetMaxLen: r.dataset_max_len,
      trainedTokens: r.trained_tokens === null ? 0 : Number(r.trained_tokens),
      preemptions: r.preemptions,
      nodeSelector: r.node_selector,
      createdAt: r.created_at,
      queuedAt: r.queued_at,
      updatedAt: r.updated_at,
      waitReason: r.wait_reason,
      estimatedStartAt: r.estimated_start_at,
    }));
  }

  async recordWaiting(updates: readonly WaitingUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await this.pool.query(RECORD_WAITING_SQL, [
      updates.map((u) => u.jobId),
      updates.map((u) => JSON.stringify(u.reason)),
      updates.map((u) => iso(u.estimatedStartAt)),
      updates.map((u) => iso(u.estimatedFinishAt)),
    ]);
  }

  /** False when the job started, finished or moved meanwhile. */
  async unassign(jobId: string, attempt: number, message: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(UNASSIGN_JOB_SQL, [JOB_EVENTS_CHANNEL, jobId, attempt, message]);
    return rowCount === 1;
  }

  async preemptionRequested(jobId: string, attempt: number, message: string, data: Record<string, unknown>): Promise<void> {
    await this.pool.query(PREEMPTION_REQUESTED_SQL, [JOB_EVENTS_CHANNEL, jobId, attempt, message, JSON.stringify(data)]);
  }

  /** Runs `work` only if no other control-plane replica is scheduling now (a session advisory lock). */
  async exclusively<T>(work: () => Promise<T>): Promise<T | null> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [SCHEDULER_LOCK]);
      if (!rows[0]?.locked) return null;
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [SCHEDULER_LOCK]);
      }
    } finally {
      client.release();
    }
  }
}

/** Advisory lock key of the scheduling round ("grove" in ASCII). */
const SCHEDULER_LOCK = 0x67726f7665;
