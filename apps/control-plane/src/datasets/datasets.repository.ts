import { Inject, Injectable } from '@nestjs/common';
import type { JobStatus } from '@grove/contracts';
import type { Pool } from 'pg';
import { PrismaService } from '../database/prisma.service';
import { SQL_POOL } from '../database/sql-pool';

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
  constructor(
    private readonly prisma: PrismaService,
    @Inject(SQL_POOL) private readonly pool: Pool,
  ) {}

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
   * share-locks the datasets it references: the job check below runs after any such insert has committed.
   */
  async deleteUnlessInUse(id: string): Promise<'deleted' | 'in_use' | 'missing'> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const locked = await client.query('SELECT id FROM datasets WHERE id = $1 FOR UPDATE', [id]);
      if (locked.rowCount === 0) {
        await client.query('ROLLBACK');
        return 'missing';
      }
      const deleted = await client.query(
        `DELETE FROM datasets WHERE id = $1 AND NOT EXISTS (
           SELECT 1 FROM jobs WHERE status = ANY($2::"JobStatus"[]) AND (training_file_id = $1 OR validation_file_id = $1))`,
        [id, ACTIVE],
      );
      await client.query('COMMIT');
      return deleted.rowCount === 1 ? 'deleted' : 'in_use';
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
