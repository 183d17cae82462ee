import { Injectable } from '@nestjs/common';
import { Prisma } from '@prisma/client';
import { PrismaService } from '../database/prisma.service';
import type { NodeRecord, NodeRegistration, NodeTelemetry } from './node-record';

@Injectable()
export class NodesRepository {
  constructor(private readonly prisma: PrismaService) {}

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
}

function toNode(row: Prisma.NodeGetPayload<object>): NodeRecord {
  return {
    ...row,
    gpus: row.gpus as unknown as NodeRecord['gpus'],
    labels: row.labels as Record<string, string>,
    telemetry: row.telemetry as unknown as NodeRecord['telemetry'],
  };
}
