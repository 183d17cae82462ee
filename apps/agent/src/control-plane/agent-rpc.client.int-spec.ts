import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { AgentServiceService, Backend, type ReportJobEventRequest } from '@grove/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcAgentRpc } from './agent-rpc.client';

/** A stand-in AgentService that checks the bearer token and echoes what it got. */
function standIn(token: string, seen: ReportJobEventRequest[]): Server {
  const server = new Server();
  const authed = <Req, Res>(answer: (req: Req) => Res) => (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
    if (call.metadata.get('authorization')[0] !== `Bearer ${token}`) return cb({ code: status.UNAUTHENTICATED, details: 'bad token' });
    cb(null, answer(call.request));
  };
  server.addService(AgentServiceService, {
    register: authed(() => ({ nodeId: 'node_1', heartbeatIntervalMs: 100 })),
    heartbeat: authed(() => ({ known: false })),
    reportJobEvent: authed((req: ReportJobEventRequest) => {
      seen.push(req);
      return { accepted: true, reason: '' };
    }),
  });
  return server;
}

describe(GrpcAgentRpc.name, () => {
  const seen: ReportJobEventRequest[] = [];
  let server: Server;
  let address: string;

  beforeAll(async () => {
    server = standIn('grove_join_rpc', seen);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => server.forceShutdown());

  it('calls every RPC with the join token', async () => {
    const sut = new GrpcAgentRpc(address, 'grove_join_rpc', null);
    expect(await sut.register({ nodeName: 'n', gpus: [], engineVersion: 'v', backend: Backend.BACKEND_CPU, baseModels: [], labels: {} })).toEqual({ nodeId: 'node_1', heartbeatIntervalMs: 100 });
    expect(await sut.heartbeat({ nodeId: 'node_1', gpus: [], jobs: [] })).toEqual({ known: false });
    const report: ReportJobEventRequest = { nodeId: 'node_1', jobId: 'job_1', attempt: 2, event: { $case: 'preempted', value: { step: 7, checkpointKey: 'k' } } };
    expect(await sut.reportJobEvent(report)).toEqual({ accepted: true, reason: '' });
    expect(seen).toEqual([report]);
    sut.close();
  });

  it('surfaces a refused token as UNAUTHENTICATED', async () => {
    const sut = new GrpcAgentRpc(address, 'wrong', null);
    await expect(sut.heartbeat({ nodeId: 'node_1', gpus: [], jobs: [] })).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    sut.close();
  });
});
