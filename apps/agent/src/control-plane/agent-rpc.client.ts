import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  AgentServiceClient,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type RegisterRequest,
  type RegisterResponse,
  type ReportJobEventRequest,
  type ReportJobEventResponse,
} from '@grove/proto';

/** The agent's calls to the control plane's AgentService. */
export interface AgentRpc {
  register(req: RegisterRequest): Promise<RegisterResponse>;
  heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse>;
  reportJobEvent(req: ReportJobEventRequest): Promise<ReportJobEventResponse>;
  close(): void;
}

const CALL_TIMEOUT_MS = 15_000;

type Unary<Req, Res> = (req: Req, md: Metadata, options: { deadline: Date }, cb: (e: ServiceError | null, r: Res) => void) => unknown;

/** AgentService over gRPC with the join token as bearer metadata (TLS when a CA file is given). */
export class GrpcAgentRpc implements AgentRpc {
  private readonly client: AgentServiceClient;
  private readonly metadata = new Metadata();

  constructor(address: string, joinToken: string, tlsCaPath: string | null) {
    const creds = tlsCaPath ? credentials.createSsl(readFileSync(tlsCaPath)) : credentials.createInsecure();
    this.client = new AgentServiceClient(address, creds);
    this.metadata.set('authorization', `Bearer ${joinToken}`);
  }

  register(req: RegisterRequest): Promise<RegisterResponse> {
    return this.call(this.client.register, req);
  }

  heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.call(this.client.heartbeat, req);
  }

  reportJobEvent(req: ReportJobEventRequest): Promise<ReportJobEventResponse> {
    return this.call(this.client.reportJobEvent, req);
  }

  close(): void {
    this.client.close();
  }

  private call<Req, Res>(method: unknown, req: Req): Promise<Res> {
    const fn = (method as Unary<Req, Res>).bind(this.client);
    return new Promise((resolve, reject) => {
      fn(req, this.metadata, { deadline: new Date(Date.now() + CALL_TIMEOUT_MS) }, (e, r) => (e ? reject(e) : resolve(r)));
    });
  }
}
