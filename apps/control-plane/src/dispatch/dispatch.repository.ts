import { Inject, Injectable } from '@nestjs/common';
import type { Hyperparameters, JobStatus } from '@grove/contracts';
import type { Pool } from 'pg';
import { PrismaService } from '../database/prisma.service';
import { SQL_POOL } from '../database/sql-pool';
import { JOB_EVENTS_CHANNEL } from '../jobs/jobs.repository';
import type { NewJobEvent } from '../jobs/job-record';
import type { ModelSummary } from '../models/model-config';
import {
  APPLY_REPORT_SQL, ASSIGN_JOB_SQL, RECORD_CHECKPOINT_SQL, RECORD_METRICS_SQL, REQUEUE_LOST_NODE_JOBS_SQL, REQUEUE_RESTARTED_NODE_JOBS_SQL,
} from './dispatch-sql';

export interface DispatchJob {
  id: string;
  status: JobStatus;
  attempt: number;
  nodeId: string | null;
  gpuIndex: number | null;
  priority: number;
  modelName: string;
  summary: ModelSummary;
  hyperparameters: Hyperparameters;
  updatedAt: Date;
}

export interface ReportOutcome {
  status: JobStatus;
  release: boolean;
  failures?: number;
  /** 1 when the run ended in a preemption (the churn limit counts them). */
  preemptions?: number;
  adapterKey?: string;
  trainedTokens?: number;
  error?: unknown;
  event: NewJobEvent;
}

export interface CheckpointRecord {
  step: number;
  attempt: number;
  key: string;
  createdAt: Date;
}

const DISPATCH_FIELDS = {
  id: true, status: true, attempt: true, nodeId: true, gpuIndex: true, priority: true, hyperparameters: true, updatedAt: true,
  model: { select: { name: true, summary: true } },
} as const;

@Injectable()
export class DispatchRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(SQL_POOL) private readonly pool: Pool,
  ) {}

  /** Jobs holding a GPU: assigned (still `queued` until the agent starts them) or running. */
  async placed(): Promise<DispatchJob[]> {
    const rows = await this.prisma.job.findMany({
      where: { status: { in: ['queued', 'running'] }, nodeId: { not: null } },
      select: DISPATCH_FIELDS,
    });
    return rows.map(toDispatchJob);
  }

  /** The new attempt number, or null when the job was assigned or moved meanwhile. */
  async assign(jobId: string, nodeId: string, gpuIndex: number, message: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ attempt: number }>(ASSIGN_JOB_SQL, [JOB_EVENTS_CHANNEL, jobId, nodeId, gpuIndex, message]);
    return rows[0]?.attempt ?? null;
  }

  /** False when the report is stale (another attempt, another node, or the job already finished). */
  async applyReport(jobId: string, attempt: number, nodeId: string, outcome: ReportOutcome): Promise<boolean> {
    const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    const { rowCount } = await this.pool.query(APPLY_REPORT_SQL, [
      JOB_EVENTS_CHANNEL, jobId, attempt, nodeId, outcome.status, outcome.release, outcome.failures ?? 0,
      outcome.adapterKey ?? null, outcome.trainedTokens ?? null, json(outcome.error),
      outcome.event.level, outcome.event.type, outcome.event.message, json(outcome.event.data), outcome.preemptions ?? 0,
    ]);
    return rowCount === 1;
  }

  /** Jobs placed on nodes now marked lost go back to `queued` (they resume from their last checkpoint). */
  async requeueJobsOfLostNodes(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(REQUEUE_LOST_NODE_JOBS_SQL, [JOB_EVENTS_CHANNEL]);
    return rows.map((r) => r.id);
  }

  async requeueJobsOfRestartedNode(nodeId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(REQUEUE_RESTARTED_NODE_JOBS_SQL, [JOB_EVENTS_CHANNEL, nodeId]);
    return rows.map((r) => r.id);
  }

  async recordCheckpoint(jobId: string, attempt: number, nodeId: string, step: number, key: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(RECORD_CHECKPOINT_SQL, [JOB_EVENTS_CHANNEL, jobId, attempt, nodeId, step, key]);
    return rowCount === 1;
  }

  async recordMetrics(jobId: string, attempt: number, nodeId: string, steps: unknown[], trainedTokens: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(RECORD_METRICS_SQL, [
      JOB_EVENTS_CHANNEL, jobId, attempt, nodeId, JSON.stringify(steps), Math.round(trainedTokens),
    ]);
    return rowCount === 1;
  }

  async checkpoints(jobId: string): Promise<CheckpointRecord[]> {
    return this.prisma.jobCheckpoint.findMany({
      where: { jobId },
      orderBy: { step: 'desc' },
      select: { step: true, attempt: true, key: true, createdAt: true },
    });
  }
}

function toDispatchJob(row: {
  id: string; status: JobStatus; attempt: number; nodeId: string | null; gpuIndex: number | null; priority: number;
  hyperparameters: unknown; updatedAt: Date; model: { name: string; summary: unknown };
}): DispatchJob {
  return {
    id: row.id,
    status: row.status,
    attempt: row.attempt,
    nodeId: row.nodeId,
    gpuIndex: row.gpuIndex,
    priority: row.priority,
    modelName: row.model.name,
    summary: row.model.summary as ModelSummary,
    hyperparameters: row.hyperparameters as Hyperparameters,
    updatedAt: row.updatedAt,
  };
}
