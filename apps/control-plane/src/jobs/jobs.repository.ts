import { Injectable } from '@nestjs/common';
import type { JobStatus } from '@grove/contracts';
import { Prisma } from '@prisma/client';
import { PrismaService } from '../database/prisma.service';
import type { JobEventRecord, JobFilter, JobRecord, NewJobEvent } from './job-record';

export const JOB_EVENTS_CHANNEL = 'grove_job_events';

const WITH_MODEL_NAME = { model: { select: { name: true } } } as const;
type JobRow = Prisma.JobGetPayload<{ include: typeof WITH_MODEL_NAME }>;

export class ReferencedFileMissingError extends Error {
  constructor(readonly fileId: string) {
    super(`file ${fileId} is gone`);
  }
}

@Injectable()
export class JobsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Inserts the job with its first event. Share-locks the referenced datasets so a concurrent delete either
   * happens before (and this fails) or waits until the job exists (and is refused).
   */
  async create(job: Omit<JobRecord, 'modelName' | 'createdAt' | 'updatedAt' | 'finishedAt' | 'stats' | 'tokenFileKey' | 'validationTokenFileKey' | 'error' | 'trainedTokens'>, event: NewJobEvent): Promise<JobRecord> {
    const fileIds = [job.trainingFileId, job.validationFileId].filter((f): f is string => f !== null);
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM datasets WHERE id IN (${Prisma.join(fileIds)}) FOR SHARE`;
      const missing = fileIds.find((f) => !locked.some((l) => l.id === f));
      if (missing) throw new ReferencedFileMissingError(missing);
      const row = await tx.job.create({
        data: {
          ...job,
          hyperparameters: job.hyperparameters as unknown as Prisma.InputJsonValue,
          metadata: job.metadata,
          events: { create: { ...event, data: (event.data ?? undefined) as Prisma.InputJsonValue | undefined } },
        },
        include: WITH_MODEL_NAME,
      });
      await tx.$executeRaw`SELECT pg_notify(${JOB_EVENTS_CHANNEL}, ${row.id})`;
      return toJob(row);
    });
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
  async transition(
    id: string,
    from: JobStatus[],
    to: JobStatus,
    fields: Partial<Pick<JobRecord, 'stats' | 'tokenFileKey' | 'validationTokenFileKey' | 'error' | 'finishedAt'>>,
    event: NewJobEvent,
  ): Promise<JobRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      const data = {
        status: to,
        ...fields,
        stats: fields.stats === undefined ? undefined : (fields.stats as Prisma.InputJsonValue),
        error: fields.error === undefined ? undefined : (fields.error as unknown as Prisma.InputJsonValue),
      };
      const moved = await tx.job.updateMany({ where: { id, status: { in: from } }, data });
      if (moved.count === 0) return null;
      await tx.jobEvent.create({ data: { jobId: id, ...event, data: (event.data ?? undefined) as Prisma.InputJsonValue | undefined } });
      await tx.$executeRaw`SELECT pg_notify(${JOB_EVENTS_CHANNEL}, ${id})`;
      return toJob((await tx.job.findUniqueOrThrow({ where: { id }, include: WITH_MODEL_NAME })));
    });
  }

  async appendEvent(jobId: string, event: NewJobEvent): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.jobEvent.create({ data: { jobId, ...event, data: (event.data ?? undefined) as Prisma.InputJsonValue | undefined } }),
      this.prisma.$executeRaw`SELECT pg_notify(${JOB_EVENTS_CHANNEL}, ${jobId})`,
    ]);
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

function toJob({ model, ...row }: JobRow): JobRecord {
  return {
    ...row,
    modelName: model.name,
    hyperparameters: row.hyperparameters as unknown as JobRecord['hyperparameters'],
    metadata: row.metadata as Record<string, string>,
    error: row.error as JobRecord['error'],
  };
}
