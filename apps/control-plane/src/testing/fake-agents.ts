import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { gpuQueueName, type GpuMessage } from '@grove/contracts';
import {
  AgentServiceClient, Backend, type HeartbeatRequest, type HeartbeatResponse, type RegisterResponse, type ReportJobEventRequest,
  type ReportJobEventResponse,
} from '@grove/proto';
import { Worker, type Job } from 'bullmq';
import { AgentGrpcServer } from '../agent-api/agent-grpc.server';
import type { TestApp } from './test-app';

export interface FakeNode {
  id: string;
  /** Every message its GPU 0 queue delivered, in order. */
  messages: GpuMessage[];
  /** Stops its heartbeats (the node will be marked lost). */
  silence: () => void;
}

export interface FakeNodeOptions {
  memoryBytes?: number;
  labels?: Record<string, string>;
  /** A CUDA node with this GPU (e.g. 'NVIDIA H100 80GB HBM3'); a CPU slot when absent. */
  gpuName?: string;
}

/**
 * Agents driven by hand over the real gRPC API and the real BullMQ queues: each node has one GPU, heartbeats like an
 * agent (registering again when told it is unknown) and records its dispatch messages. For tests of the control
 * plane's side of the protocol; the real agent process has its own end-to-end tests.
 */
export class FakeAgents {
  private readonly client: AgentServiceClient;
  private readonly workers: Worker[] = [];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly t: TestApp,
    private readonly joinToken: string,
  ) {
    this.client = new AgentServiceClient(`127.0.0.1:${t.app.get(AgentGrpcServer).port}`, credentials.createInsecure());
  }

  rpc<Req, Res>(method: 'register' | 'heartbeat' | 'reportJobEvent', req: Req): Promise<Res> {
    const md = new Metadata();
    md.set('authorization', `Bearer ${this.joinToken}`);
    const call = this.client[method] as unknown as (r: Req, m: Metadata, cb: (e: ServiceError | null, r: Res) => void) => void;
    return new Promise((resolve, reject) => call.call(this.client, req, md, (e, r) => (e ? reject(e) : resolve(r))));
  }

  report(req: ReportJobEventRequest): Promise<ReportJobEventResponse> {
    return this.rpc('reportJobEvent', req);
  }

  heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.rpc('heartbeat', req);
  }

  async node(name: string, models: string[], options: FakeNodeOptions = {}): Promise<FakeNode> {
    const registration = {
      nodeName: name, gpus: [{ index: 0, name: options.gpuName ?? 'cpu-slot', totalMemoryBytes: options.memoryBytes ?? 8 * 2 ** 30 }],
      engineVersion: 't', backend: options.gpuName ? Backend.BACKEND_CUDA : Backend.BACKEND_CPU, baseModels: models, labels: options.labels ?? {},
    };
    const reg = await this.rpc<unknown, RegisterResponse>('register', registration);
    const messages: GpuMessage[] = [];
    const url = new URL(this.t.config.redisUrl);
    this.workers.push(new Worker<GpuMessage>(gpuQueueName(reg.nodeId, 0), async (job: Job<GpuMessage>) => void messages.push(job.data), {
      connection: { host: url.hostname, port: Number(url.port), db: Number(url.pathname.slice(1) || 0), maxRetriesPerRequest: null },
    }));
    const beat = async () => {
      const { known } = await this.heartbeat({ nodeId: reg.nodeId, gpus: [], jobs: [] });
      if (!known) await this.rpc('register', registration);
    };
    const alive = setInterval(() => void beat().catch(() => undefined), 200);
    this.timers.push(alive);
    return { id: reg.nodeId, messages, silence: () => clearInterval(alive) };
  }

  async close(): Promise<void> {
    this.timers.forEach(clearInterval);
    await Promise.all(this.workers.map((w) => w.close()));
    this.client.close();
  }
}

/** Polls `probe` until it returns a value. */
export async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
