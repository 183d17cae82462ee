import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { newId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
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

  async get(id: string): Promise<NodeRecord> {
    const node = await this.nodes.findById(id);
    if (!node) throw ApiError.notFound('node', id);
    return node;
  }
}
