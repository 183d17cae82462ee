import { Inject, Injectable, Logger } from '@nestjs/common';
import { status, type Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import {
  Backend, type AgentServiceServer, type HeartbeatRequest, type HeartbeatResponse, type RegisterRequest, type RegisterResponse,
  type ReportJobEventRequest, type ReportJobEventResponse,
} from '@grove/proto';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DispatchRepository } from '../dispatch/dispatch.repository';
import { JobRunsService } from '../dispatch/job-runs.service';
import { JoinTokensService } from '../nodes/join-tokens.service';
import { ClusterScheduler } from '../scheduling/cluster-scheduler';
import { NodesService } from '../nodes/nodes.service';

/** gRPC status for an error: ApiError codes map like their HTTP statuses; anything else is INTERNAL. */
export class RpcError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
  }
}

const API_TO_RPC: Partial<Record<ApiError['code'], status>> = {
  invalid_request: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  conflict: status.ALREADY_EXISTS,
  unavailable: status.UNAVAILABLE,
};

const BACKEND_NAMES: Record<number, string> = { [Backend.BACKEND_CPU]: 'cpu', [Backend.BACKEND_CUDA]: 'cuda' };

/** AgentService: authenticates the join token on every call, then delegates to the node services. */
@Injectable()
export class AgentRpcHandlers {
  private readonly logger = new Logger(AgentRpcHandlers.name);

  constructor(
    private readonly joinTokens: JoinTokensService,
    private readonly nodes: NodesService,
    private readonly runs: JobRunsService,
    private readonly dispatch: DispatchRepository,
    private readonly scheduler: ClusterScheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  implementation(): AgentServiceServer {
    return {
      register: this.unary((call) => this.register(call.request, call.metadata)),
      heartbeat: this.unary((call) => this.heartbeat(call.request, call.metadata)),
      reportJobEvent: this.unary((call) => this.reportJobEvent(call.request, call.metadata)),
    };
  }

  private async register(req: RegisterRequest, metadata: Metadata): Promise<RegisterResponse> {
    const token = await this.authenticate(metadata);
    const backend = BACKEND_NAMES[req.backend];
    if (!backend) throw new RpcError(status.INVALID_ARGUMENT, 'backend must be BACKEND_CPU or BACKEND_CUDA');
    const node = await this.nodes.register({
      name: req.nodeName,
      joinTokenId: token.id,
      backend,
      engineVersion: req.engineVersion,
      gpus: req.gpus.map((g) => ({ index: g.index, name: g.name, totalMemoryBytes: g.totalMemoryBytes })),
      baseModels: req.baseModels,
      labels: req.labels,
    });
    const requeued = await this.dispatch.requeueJobsOfRestartedNode(node.id);
    if (requeued.length > 0) this.logger.warn(`node ${node.name} registered again; requeued ${requeued.length} job(s)`);
    return { nodeId: node.id, heartbeatIntervalMs: this.config.heartbeatIntervalMs };
  }

  private async heartbeat(req: HeartbeatRequest, metadata: Metadata): Promise<HeartbeatResponse> {
    const token = await this.authenticate(metadata);
    const node = await this.nodes.get(req.nodeId).catch(() => null);
    if (!node) return { known: false };
    if (node.joinTokenId !== token.id) throw new RpcError(status.PERMISSION_DENIED, 'node registered with another join token');
    const telemetry = { gpus: req.gpus, jobs: req.jobs.map(({ recentSteps: _, ...j }) => j) };
    const known = await this.nodes.heartbeat(req.nodeId, telemetry);
    if (known) {
      await this.runs.recordTelemetry(req.nodeId, req.jobs);
      this.scheduler.observeHeartbeat(node, telemetry);
    }
    return { known };
  }

  private async reportJobEvent(req: ReportJobEventRequest, metadata: Metadata): Promise<ReportJobEventResponse> {
    await this.ownedNode(req.nodeId, await this.authenticate(metadata));
    const verdict = await this.runs.report(req.nodeId, req);
    return verdict.accepted ? { accepted: true, reason: '' } : { accepted: false, reason: verdict.reason };
  }

  /** The node, checked to belong to the presented join token. */
  private async ownedNode(nodeId: string, token: { id: string }) {
    const node = await this.nodes.get(nodeId).catch(() => null);
    if (!node) throw new RpcError(status.NOT_FOUND, `unknown node ${nodeId}: register first`);
    if (node.joinTokenId !== token.id) throw new RpcError(status.PERMISSION_DENIED, 'node registered with another join token');
    return node;
  }

  private async authenticate(metadata: Metadata) {
    const header = metadata.get('authorization')[0];
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new RpcError(status.UNAUTHENTICATED, 'missing join token (metadata authorization: Bearer <token>)');
    const token = await this.joinTokens.resolve(match[1]!);
    if (!token) throw new RpcError(status.UNAUTHENTICATED, 'invalid or revoked join token');
    return token;
  }

  private unary<Req, Res>(handler: (call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      handler(call).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toServiceError(error)),
      );
    };
  }
}

function toServiceError(error: unknown): { code: status; details: string } {
  if (error instanceof RpcError) return { code: error.code, details: error.message };
  if (error instanceof ApiError) return { code: API_TO_RPC[error.code] ?? status.INTERNAL, details: error.message };
  return { code: status.INTERNAL, details: 'internal error' };
}
