import { Injectable } from '@nestjs/common';
import { Prisma } from '@prisma/client';
import { PrismaService } from '../database/prisma.service';
import type { Actor, AuditEventRecord, NewAuditEvent } from './audit-event';

export interface AuditFilter {
  targetType?: string;
  targetId?: string;
  action?: string;
}

/** The audit log: append-only. */
@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  async record(actor: Actor, event: NewAuditEvent): Promise<void> {
    await this.prisma.auditEvent.create({
      data: {
        actorTokenId: actor.tokenId,
        actorTeamId: actor.teamId,
        action: event.action,
        targetType: event.targetType,
        targetId: event.targetId,
        data: (event.data ?? Prisma.DbNull) as Prisma.InputJsonValue,
      },
    });
  }

  /** Newest first; `after` is the last id of the previous page. */
  async list(filter: AuditFilter, after: string | undefined, take: number): Promise<AuditEventRecord[]> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        targetType: filter.targetType,
        targetId: filter.targetId,
        action: filter.action,
        ...(after && /^\d+$/.test(after) ? { id: { lt: BigInt(after) } } : {}),
      },
      orderBy: { id: 'desc' },
      take,
    });
    return rows.map((r) => ({ ...r, id: r.id.toString() }));
  }
}
