import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Actor } from '../audit/audit-event';
import type { NodeAction } from './node-actions-sql';
import type { NodeRecord, NodeRegistration, NodeTelemetry } from './node-record';
import { NodesRepository } from './nodes.repository';

/** Worker nodes: registration, liveness by heartbeat, and the lost-node sweep. */
@Injectable()
export class NodesService {
  private readonly logger = new Logger(NodesService.name);

  constructor(
    private readonly nodes: NodesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async register(node: NodeRegistration): Promise<NodeRecord> {
    if (!node.name) throw new ApiError('invalid_request', 'node_name is required', 'node_name');
    const indexes = node.gpus.map((g) => g.index);
    if (new Set(indexes).size !== indexes.length) throw new ApiError('invalid_request', 'GPU indexes must be unique', 'gpus');
    const registered = await this.nodes.upsert(newId('node'), node, new Date());
    this.logger.log(`node ${registered.name} (${registered.id}) registered with ${registered.gpus.length} GPU(s)`);
    return registered;
  }

  heartbeat(nodeId: string, telemetry: NodeTelemetry): Promise<boolean> {
    return this.nodes.heartbeat(nodeId, telemetry, new Date());
  }

  /** Nodes silent for longer than the grace period become `lost` (their jobs are requeued by the dispatcher). */
  async sweepLost(now = new Date()): Promise<NodeRecord[]> {
    const lost = await this.nodes.markLostSince(new Date(now.getTime() - this.config.nodeGraceMs));
    for (const node of lost) this.logger.warn(`node ${node.name} (${node.id}) missed heartbeats; marked lost`);
    return lost;
  }

  list(): Promise<NodeRecord[]> {
    return this.nodes.list();
  }

  async get(idOrName: string): Promise<NodeRecord> {
    const node = await this.nodes.findByIdOrName(idOrName);
    if (!node) throw ApiError.notFound('node', idOrName);
    return node;
  }

  /** No new work starts on the node; what runs there keeps running. */
  cordon(idOrName: string, actor: Actor, reason?: string): Promise<NodeRecord> {
    return this.act(idOrName, 'cordon', actor, reason ? { reason } : {});
  }

  uncordon(idOrName: string, actor: Actor): Promise<NodeRecord> {
    return this.act(idOrName, 'uncordon', actor, {});
  }

  /** Cordons the node; the scheduler checkpoints its jobs and places them elsewhere, then the node stays cordoned. */
  drain(idOrName: string, actor: Actor, reason?: string): Promise<NodeRecord> {
    return this.act(idOrName, 'drain', actor, reason ? { reason } : {});
  }

  /** Sets operator labels; a null value removes one. */
  label(idOrName: string, actor: Actor, labels: Record<string, string | null>): Promise<NodeRecord> {
    return this.act(idOrName, 'label', actor, { labels });
  }

  /** Forgets a node nothing runs on. An online node must be cordoned first (its agent would otherwise re-register). */
  async remove(idOrName: string, actor: Actor): Promise<NodeRecord> {
    const node = await this.get(idOrName);
    if (node.state === 'online' && !node.cordoned) {
      throw new ApiError('conflict', `node ${node.name} is online and schedulable: drain it (or cordon it) before removing it`);
    }
    if (!(await this.nodes.applyAction(node.id, 'remove', actor, { name: node.name }))) {
      throw new ApiError('conflict', `node ${node.name} still has jobs placed on it: drain it first`);
    }
    this.logger.log(`node ${node.name} (${node.id}) removed`);
    return node;
  }

  /** Draining nodes that have no jobs left; they stay cordoned. */
  finishDrains(): Promise<string[]> {
    return this.nodes.finishDrains();
  }

  private async act(idOrName: string, action: NodeAction, actor: Actor, data: Record<string, unknown>): Promise<NodeRecord> {
    const node = await this.get(idOrName);
    if (!(await this.nodes.applyAction(node.id, action, actor, data))) throw ApiError.notFound('node', idOrName);
    this.logger.log(`node ${node.name} (${node.id}): ${action}`);
    return this.get(node.id);
  }
}
