import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PrismaService } from '../database/prisma.service';
import { SQL_POOL } from '../database/sql-pool';

export interface WebhookRecord {
  id: string;
  teamId: string;
  url: string;
  secret: string;
  events: string[];
  createdAt: Date;
  disabledAt: Date | null;
}

// created_at comes from the database clock, like job_events.created_at: the fan-out compares the two.
const INSERT_WEBHOOK_SQL = `
INSERT INTO webhooks (id, team_id, url, secret, events, created_at) VALUES ($1, $2, $3, $4, $5::text[], now() AT TIME ZONE 'UTC')
RETURNING id, team_id AS "teamId", url, secret, events, created_at AS "createdAt", disabled_at AS "disabledAt"`;

@Injectable()
export class WebhooksRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(SQL_POOL) private readonly pool: Pool,
  ) {}

  async create(webhook: Pick<WebhookRecord, 'id' | 'teamId' | 'url' | 'secret' | 'events'>): Promise<WebhookRecord> {
    const { rows } = await this.pool.query<WebhookRecord>(INSERT_WEBHOOK_SQL, [webhook.id, webhook.teamId, webhook.url, webhook.secret, webhook.events]);
    return rows[0]!;
  }

  findForTeam(teamId: string, id: string): Promise<WebhookRecord | null> {
    return this.prisma.webhook.findFirst({ where: { id, teamId } });
  }

  listForTeam(teamId: string, after: string | undefined, take: number): Promise<WebhookRecord[]> {
    return this.prisma.webhook.findMany({
      where: { teamId, ...(after ? { id: { lt: after } } : {}) },
      orderBy: { id: 'desc' },
      take,
    });
  }

  /** Deletes the webhook and its delivery log; false when the team has no such webhook. */
  async delete(teamId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.webhook.deleteMany({ where: { id, teamId } });
    return count === 1;
  }
}
