import { Inject, Injectable } from '@nestjs/common';
import { Prisma } from '@prisma/client';
import type { Pool } from 'pg';
import type { Actor } from '../audit/audit-event';
import { PrismaService } from '../database/prisma.service';
import { SQL_POOL } from '../database/sql-pool';
import type { NodeRecord, NodeRegistration, NodeTelemetry } from './node-record';
import { FINISH_DRAINS_SQL, nodeActionSql, type NodeAction } from './node-actions-sql';

@Injectable()
export class NodesRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(SQL_POOL) private readonly pool: Pool,
  ) {}

  /** A node re-registering under its name keeps its id; it comes back online with its new description. */
  async upsert(id: string, node: NodeRegistration, now: Date): Promise<NodeRecord> {
    const data = {
      joinTokenId: node.joinTokenId,
      backend: node.backend,
      engineVersion: node.engineVersion,
      gpus: node.gpus as unknown as Prisma.InputJsonValue,
      baseModels: node.baseModels,
      labels: node.labels,
      state: 'online' as const,
      lastHeartbeatAt: now,
    };
    const row = await this.prisma.node.upsert({
      where: { name: node.name },
      create: { id, name: node.name, ...data, registeredAt: now },
      update: { ...data, telemetry: Prisma.DbNull },
    });
    return toNode(row);
  }

  /** Records a heartbeat from an online node; false when the node is unknown or was marked lost. */
  async heartbeat(id: string, telemetry: NodeTelemetry, now: Date): Promise<boolean> {
    const updated = await this.prisma.node.updateMany({
      where: { id, state: 'online' },
      data: { lastHeartbeatAt: now, telemetry: telemetry as unknown as Prisma.InputJsonValue },
    });
    return updated.count === 1;
  }

  /** Marks online nodes silent since `cutoff` as lost; returns them. */
  async markLostSince(cutoff: Date): Promise<NodeRecord[]> {
    const rows = await this.prisma.node.updateManyAndReturn({
      where: { state: 'online', lastHeartbeatAt: { lt: cutoff } },
      data: { state: 'lost' },
    });
    return rows.map(toNode);
  }

  async list(): Promise<NodeRecord[]> {
    return (await this.prisma.node.findMany({ orderBy: { name: 'asc' } })).map(toNode);
  }

  async findById(id: string): Promise<NodeRecord | null> {
    const row = await this.prisma.node.findUnique({ where: { id } });
    return row ? toNode(row) : null;
  }

  /** By id, or by name (what operators type). */
  async findByIdOrName(idOrName: string): Promise<NodeRecord | null> {
    const row = await this.prisma.node.findFirst({ where: { OR: [{ id: idOrName }, { name: idOrName }] } });
    return row ? toNode(row) : null;
  }

  /** Applies an operator action and records its audit event in one statement; false when the node is gone. */
  async applyAction(nodeId: string, action: NodeAction, actor: Actor, data: Record<string, unknown>): Promise<boolean> {
    const { rowCount } = await this.pool.query(nodeActionSql(action), [nodeId, actor.tokenId, actor.teamId, `node.${action}`, JSON.stringify(data)]);
    return rowCount === 1;
  }

  /** Draining nodes with nothing placed on them any more become plain cordoned nodes. */
  async finishDrains(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(FINISH_DRAINS_SQL);
    return rows.map((r) => r.id);
  }
}

function toNode(row: Prisma.NodeGetPayload<object>): NodeRecord {
  const agentLabels = row.labels as Record<string, string>;
  const operatorLabels = row.operatorLabels as Record<string, string>;
  return {
    ...row,
    gpus: row.gpus as unknown as NodeRecord['gpus'],
    labels: { ...agentLabels, ...operatorLabels },
    agentLabels,
    operatorLabels,
    telemetry: row.telemetry as unknown as NodeRecord['telemetry'],
  };
}
