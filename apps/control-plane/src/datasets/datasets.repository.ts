import { Injectable } from '@nestjs/common';
import type { JobStatus } from '@grove/contracts';
import { PrismaService } from '../database/prisma.service';

export interface DatasetRecord {
  id: string;
  teamId: string;
  filename: string;
  bytes: bigint;
  sha256: string;
  format: string;
  lines: number;
  examples: number;
  storageKey: string;
  createdAt: Date;
}

const ACTIVE: JobStatus[] = ['validating', 'queued', 'running'];

@Injectable()
export class DatasetsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(dataset: Omit<DatasetRecord, 'createdAt'>): Promise<DatasetRecord> {
    return this.prisma.dataset.create({ data: dataset });
  }

  findForTeam(teamId: string, id: string): Promise<DatasetRecord | null> {
    return this.prisma.dataset.findFirst({ where: { id, teamId } });
  }

  listForTeam(teamId: string, after: string | undefined, take: number): Promise<DatasetRecord[]> {
    return this.prisma.dataset.findMany({
      where: { teamId, ...(after ? { id: { lt: after } } : {}) },
      orderBy: { id: 'desc' },
      take,
    });
  }

  /**
   * Deletes the dataset unless an unfinished job uses it. The row lock orders this against job creation, which
   * takes a share lock on the datasets it references.
   */
  async deleteUnlessInUse(id: string): Promise<'deleted' | 'in_use' | 'missing'> {
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM datasets WHERE id = ${id} FOR UPDATE`;
      if (locked.length === 0) return 'missing';
      const users = await tx.job.count({
        where: { status: { in: ACTIVE }, OR: [{ trainingFileId: id }, { validationFileId: id }] },
      });
      if (users > 0) return 'in_use';
      await tx.dataset.delete({ where: { id } });
      return 'deleted';
    });
  }
}
