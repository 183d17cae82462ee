import { Inject, Injectable } from '@nestjs/common';
import type { JobStatus } from '@grove/contracts';
import { Prisma } from '@prisma/client';
import type { Pool } from 'pg';
import { PrismaService } from '../database/prisma.service';
import { SQL_POOL } from '../database/sql-pool';
import { jobFromRow, type JobRow } from './job-rows';
import { APPEND_EVENT_SQL, INSERT_JOB_SQL, TRANSITION_JOB_SQL } from './job-sql';
import type { JobEventRecord, JobFilter, JobRecord, NewJobEvent } from './job-record';

export const JOB_EVENTS_CHANNEL = 'grove_job_events';

const WITH_MODEL_NAME = { model: { select: { name: true } } } as const;
type PrismaJobRow = Prisma.JobGetPayload<{ include: typeof WITH_MODEL_NAME }>;

export class ReferencedFileMissingError extends Error {
  constructor(readonly fileId: string) {
    super(`file ${fileId} is gone`);
  }
}

type NewJob = Pick<JobRecord, 'id' | 'teamId' | 'modelId' | 'trainingFileId' | 'validationFileId' | 'hyperparameters' | 'priority' | 'suffix' | 'metadata' | 'nodeSelector'>;
type TransitionFields = Partial<Pick<JobRecord, 'stats' | 'tokenFileKey' | 'validationTokenFileKey' | 'error' | 'finishedAt' | 'totalSteps'>>;

@Injectable()
export class JobsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(SQL_POOL) private readonly pool: Pool,
  ) {}

  /** Inserts the job and its first event atomically; throws ReferencedFileMissingError naming a missing file. */
  async create(job: NewJob, event: NewJobEvent): Promise<JobRecord> {
    const { rows } = await this.pool.query<JobRow & { found_files: string[] }>(INSERT_JOB_SQL, [
      JOB_EVENTS_CHANNEL, job.id, job.teamId, job.modelId, job.trainingFileId, job.validationFileId,
      JSON.stringify(job.hyperparameters), job.priority, job.suffix, JSON.stringify(job.metadata),
      event.level, event.type, event.message, JSON.stringify(job.nodeSelector),
    ]);
    const row = rows[0]!;
    if (row.id === null) {
      const missing = [job.trainingFileId, job.validationFileId].find((f) => f !== null && !row.found_files.includes(f));
      throw new ReferencedFileMissingError(missing ?? job.trainingFileId);
    }
    return jobFromRow(row);
  }

  async findForTeam(teamId: string, id: string): Promise<JobRecord | null> {
    const row = await this.prisma.job.findFirst({ where: { id, teamId }, include: WITH_MODEL_NAME });
    return row ? toJob(row) : null;
  }

  async findById(id: string): Promise<JobRecord | null> {
    const row = await this.prisma.job.findUnique({ where: { id }, include: WITH_MODEL_NAME });
    return row ? toJob(row) : null;
  }

  async listForTeam(teamId: string, filter: JobFilter, after: string | undefined, take: number): Promise<JobRecord[]> {
    const metadata = Object.entries(filter.metadata ?? {}).map(([k, v]) => ({ metadata: { path: [k], equals: v } }));
    const rows = await this.prisma.job.findMany({
      where: {
        teamId,
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.modelId ? { modelId: filter.modelId } : {}),
        ...(after ? { id: { lt: after } } : {}),
        AND: metadata,
      },
      orderBy: { id: 'desc' },
      take,
      include: WITH_MODEL_NAME,
    });
    return rows.map(toJob);
  }

  async idsInStatus(status: JobStatus): Promise<string[]> {
    const rows = await this.prisma.job.findMany({ where: { status }, select: { id: true }, orderBy: { id: 'asc' } });
    return rows.map((r) => r.id);
  }

  /**
   * Moves the job from one of `from` to `to` (with the other fields) and records the event, atomically.
   * Returns null when the job was not in `from` (someone else moved it first): nothing is written then.
   */
  async transition(id: string, from: JobStatus[], to: JobStatus, fields: TransitionFields, event: NewJobEvent): Promise<JobRecord | null> {
    const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
    const { rows } = await this.pool.query<JobRow>(TRANSITION_JOB_SQL, [
      JOB_EVENTS_CHANNEL, id, from, to, json(fields.stats), fields.tokenFileKey ?? null, fields.validationTokenFileKey ?? null,
      json(fields.error), fields.finishedAt ?? null, event.level, event.type, event.message, json(event.data),
      fields.totalSteps ?? null,
    ]);
    return rows[0] ? jobFromRow(rows[0]) : null;
  }

  async appendEvent(jobId: string, event: NewJobEvent): Promise<void> {
    const data = event.data === undefined ? null : JSON.stringify(event.data);
    await this.pool.query(APPEND_EVENT_SQL, [JOB_EVENTS_CHANNEL, jobId, event.level, event.type, event.message, data]);
  }

  async events(jobId: string, afterId: bigint | undefined, take: number): Promise<JobEventRecord[]> {
    const rows = await this.prisma.jobEvent.findMany({
      where: { jobId, ...(afterId !== undefined ? { id: { gt: afterId } } : {}) },
      orderBy: { id: 'asc' },
      take,
    });
    return rows.map((r) => ({ ...r, level: r.level as JobEventRecord['level'] }));
  }
}

function toJob({ model, ...row }: PrismaJobRow): JobRecord {
  return {
    ...row,
    modelName: model.name,
    hyperparameters: row.hyperparameters as unknown as JobRecord['hyperparameters'],
    metadata: row.metadata as Record<string, string>,
    error: row.error as JobRecord['error'],
    nodeSelector: row.nodeSelector as Record<string, string>,
    waitReason: row.waitReason as JobRecord['waitReason'],
  };
}
