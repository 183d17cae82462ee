import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { AgentServiceClient, Backend, type HeartbeatRequest, type HeartbeatResponse, type RegisterRequest, type RegisterResponse } from '@grove/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTeam, startTestApp, uniqueName, type TestApp } from '../testing/test-app';
import { AgentGrpcServer } from './agent-grpc.server';

function auth(token: string): Metadata {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

function register(client: AgentServiceClient, req: RegisterRequest, token: string): Promise<RegisterResponse> {
  return new Promise((resolve, reject) => client.register(req, auth(token), (e: ServiceError | null, r: RegisterResponse) => (e ? reject(e) : resolve(r))));
}

function heartbeat(client: AgentServiceClient, req: HeartbeatRequest, token: string): Promise<HeartbeatResponse> {
  return new Promise((resolve, reject) => client.heartbeat(req, auth(token), (e: ServiceError | null, r: HeartbeatResponse) => (e ? reject(e) : resolve(r))));
}

describe('AgentService over real gRPC: join tokens, registration, heartbeats, lost nodes', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let client: AgentServiceClient;
  let joinToken: string;

  const registration = (name: string): RegisterRequest => ({
    nodeName: name,
    gpus: [{ index: 0, name: 'cpu-slot-0', totalMemoryBytes: 8 * 2 ** 30 }, { index: 1, name: 'cpu-slot-1', totalMemoryBytes: 8 * 2 ** 30 }],
    engineVersion: '0.1.0',
    backend: Backend.BACKEND_CPU,
    baseModels: ['demo/tiny-llama'],
    labels: { pool: 'cpu' },
  });

  beforeAll(async () => {
    t = await startTestApp({ GROVE_HEARTBEAT_INTERVAL_MS: '200', GROVE_NODE_GRACE_MS: '800', GROVE_DISPATCH_INTERVAL_MS: '100' });
    team = await createTeam(t);
    const port = t.app.get(AgentGrpcServer).port;
    client = new AgentServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    joinToken = (await t.http().post('/v1/nodes/join-tokens').set(bearer(team.operator)).send({ name: 'rack-1' }).expect(201)).body.secret;
  });
  afterAll(async () => {
    client?.close();
    await t.close();
  });

  it('refuses agents without a valid join token', async () => {
    await expect(register(client, registration('x'), '')).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(register(client, registration('x'), 'grove_join_nope')).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('registers a node, takes telemetry, and shows it to operators only', async () => {
    const name = uniqueName('node');
    const reg = await register(client, registration(name), joinToken);
    expect(reg).toEqual({ nodeId: expect.stringMatching(/^node_/), heartbeatIntervalMs: 200 });
    const hb: HeartbeatRequest = {
      nodeId: reg.nodeId,
      gpus: [{ index: 0, memoryUsedBytes: 123456, memoryPeakBytes: 234567, baseWeightsBytes: 100000, activationsBytes: 20000, adapterOptimizerBytes: 3456 }],
      jobs: [{ jobId: 'job_x', attempt: 1, gpuIndex: 0, step: 3, totalSteps: 10, loss: 2.5, learningRate: 1e-4, tokensPerSecond: 900, trainedTokens: 3000, recentSteps: [] }],
    };
    expect(await heartbeat(client, hb, joinToken)).toEqual({ known: true });
    const nodes = await t.http().get('/v1/nodes').set(bearer(team.operator)).expect(200);
    const node = nodes.body.data.find((n: { name: string }) => n.name === name);
    expect(node).toMatchObject({
      id: reg.nodeId, state: 'online', backend: 'cpu', labels: { pool: 'cpu' }, base_models: ['demo/tiny-llama'],
      gpus: [
        { index: 0, name: 'cpu-slot-0', memory_total_bytes: 8 * 2 ** 30, memory_used_bytes: 123456, memory_peak_bytes: 234567 },
        { index: 1, name: 'cpu-slot-1', memory_total_bytes: 8 * 2 ** 30, memory_used_bytes: null, memory_peak_bytes: null },
      ],
      running_jobs: [{ job_id: 'job_x', gpu_index: 0, step: 3, total_steps: 10, loss: 2.5, tokens_per_second: 900 }],
    });
    await t.http().get('/v1/nodes').set(bearer(team.member)).expect(403);
  });

  it('re-registering under the same name keeps the node id', async () => {
    const name = uniqueName('node');
    const first = await register(client, registration(name), joinToken);
    const again = await register(client, registration(name), joinToken);
    expect(again.nodeId).toBe(first.nodeId);
  });

  it('marks a silent node lost after the grace period; its next heartbeat is told to register again', async () => {
    const name = uniqueName('node');
    const reg = await register(client, registration(name), joinToken);
    const deadline = Date.now() + 10_000;
    let state = 'online';
    while (state !== 'lost' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await t.http().get(`/v1/nodes/${reg.nodeId}`).set(bearer(team.operator)).expect(200)).body.state;
    }
    expect(state).toBe('lost');
    expect(await heartbeat(client, { nodeId: reg.nodeId, gpus: [], jobs: [] }, joinToken)).toEqual({ known: false });
    await register(client, registration(name), joinToken);
    expect((await t.http().get(`/v1/nodes/${reg.nodeId}`).set(bearer(team.operator)).expect(200)).body.state).toBe('online');
  });

  it('a revoked join token stops working, and a node cannot heartbeat with another token', async () => {
    const other = (await t.http().post('/v1/nodes/join-tokens').set(bearer(team.operator)).send({ name: 'rack-2' }).expect(201)).body;
    const reg = await register(client, registration(uniqueName('node')), joinToken);
    await expect(heartbeat(client, { nodeId: reg.nodeId, gpus: [], jobs: [] }, other.secret))
      .rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await t.http().delete(`/v1/nodes/join-tokens/${other.id}`).set(bearer(team.operator)).expect(200);
    await expect(register(client, registration(uniqueName('node')), other.secret)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('rejects a registration with duplicate GPU indexes', async () => {
    const bad = { ...registration(uniqueName('node')), gpus: [{ index: 0, name: 'a', totalMemoryBytes: 1 }, { index: 0, name: 'b', totalMemoryBytes: 1 }] };
    await expect(register(client, bad, joinToken)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
