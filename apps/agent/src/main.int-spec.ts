import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { gpuMessageId, gpuQueueName, hyperparametersSchema, type GpuMessage } from '@grove/contracts';
import { AgentServiceService } from '@grove/proto';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './testing/eventually';
import { InMemoryControlPlane } from './testing/in-memory-control-plane';
import { makeTinyModel, makeTokenFile, requireEngine, tempDir } from './testing/tiny-engine-fixture';

const REPO = resolve(__dirname, '../../..');
const TOKEN = 'grove_join_process_test_secret';

function redisUrl(): string {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('TEST_REDIS_URL must be set: run the tests with `make test`');
  return url;
}

/** gRPC AgentService backed by the in-memory control plane. */
async function grpcStandIn(cp: InMemoryControlPlane): Promise<{ server: Server; address: string }> {
  const server = new Server();
  const unary = <Req, Res>(fn: (req: Req) => Promise<Res>) => (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
    if (call.metadata.get('authorization')[0] !== `Bearer ${TOKEN}`) return cb({ code: status.UNAUTHENTICATED, details: 'bad token' });
    fn(call.request).then((r) => cb(null, r), (e: Error) => cb({ code: status.INTERNAL, details: e.message }));
  };
  server.addService(AgentServiceService, {
    register: unary(cp.register.bind(cp)),
    heartbeat: unary(cp.heartbeat.bind(cp)),
    reportJobEvent: unary(cp.reportJobEvent.bind(cp)),
  });
  const port = await new Promise<number>((ok, fail) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
  return { server, address: `127.0.0.1:${port}` };
}

/** The `/v1/agent/...` HTTP routes backed by the in-memory control plane. */
async function httpStandIn(cp: InMemoryControlPlane): Promise<{ server: HttpServer; url: string }> {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const assignment = url.pathname.match(/^\/v1\/agent\/assignments\/([^/]+)$/);
    if (assignment) {
      const a = await cp.getAssignment(assignment[1], Number(url.searchParams.get('attempt')));
      if (!a) return res.writeHead(409).end('{"error":{"code":"stale_assignment"}}');
      const body = {
        job_id: a.jobId, attempt: a.attempt, node_id: a.nodeId, gpu_index: a.gpuIndex, model: a.model, total_steps: a.totalSteps,
        checkpoint_every: a.checkpointEvery, hyperparameters: a.hyperparameters, token_file_url: a.tokenFileUrl, checkpoint: a.checkpoint,
      };
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    if (req.method === 'GET' && cp.files.has(url.pathname)) return createReadStream(cp.files.get(url.pathname) as string).pipe(res.writeHead(200));
    const ckpt = url.pathname.match(/^\/v1\/agent\/jobs\/([^/]+)\/checkpoints\/(\d+)$/);
    if (req.method === 'PUT' && ckpt) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const key = `checkpoints/${ckpt[1]}/${ckpt[2]}`;
      cp.blobs.set(key, Buffer.concat(chunks));
      return res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ key }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function runMain(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/agent/src/main.ts'], { cwd: REPO, env: { PATH: process.env['PATH'] ?? '', ...env } });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return { child, output: () => output, exited: new Promise((ok) => child.once('exit', (code) => ok(code))) };
}

describe('agent process (main.ts)', () => {
  const cp = new InMemoryControlPlane();
  let root: string;
  let grpc: Awaited<ReturnType<typeof grpcStandIn>>;
  let http: Awaited<ReturnType<typeof httpStandIn>>;
  let env: Record<string, string>;
  let running: ChildProcess | undefined;

  beforeAll(async () => {
    requireEngine();
    root = tempDir('main');
    makeTinyModel(join(root, 'models', 'test--tiny'));
    mkdirSync(join(root, 'data'));
    cp.files.set('/v1/agent/jobs/job_main/token-file', makeTokenFile(join(root, 'data', 'good.gtok')));
    grpc = await grpcStandIn(cp);
    http = await httpStandIn(cp);
    env = {
      GROVE_GRPC_URL: grpc.address,
      GROVE_API_URL: http.url,
      GROVE_JOIN_TOKEN: TOKEN,
      REDIS_URL: redisUrl(),
      GROVE_NODE_NAME: `process-test-${process.pid}`,
      GROVE_MODELS_DIR: join(root, 'models'),
      GROVE_WORK_DIR: join(root, 'work'),
      GROVE_ENGINE_BIN: requireEngine(),
      GROVE_CPU_SLOTS: '1',
    };
  });
  afterAll(async () => {
    running?.kill('SIGKILL');
    grpc.server.forceShutdown();
    await new Promise((ok) => http.server.close(ok));
    rmSync(root, { recursive: true, force: true });
  });

  it('exits 1 naming a bad variable, without printing the join token', async () => {
    const run = runMain({ ...env, GROVE_BACKEND: 'tpu' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/GROVE_BACKEND/);
    expect(run.output()).not.toContain(TOKEN);
  });

  it('trains what its queue delivers and, on SIGTERM, hands the job back preempted and exits 0', async () => {
    cp.assignments.set('job_main', {
      jobId: 'job_main', attempt: 1, nodeId: 'node_test', gpuIndex: 0, model: 'test/tiny', totalSteps: 1_000_000, checkpointEvery: 0,
      hyperparameters: hyperparametersSchema.parse({ batch_size: 1, lora: { r: 2 } }), tokenFileUrl: '/v1/agent/jobs/job_main/token-file', validationTokenFileUrl: null, checkpoint: null,
    });
    const run = runMain(env);
    running = run.child;
    await eventually(() => expect(cp.registrations).toHaveLength(1));
    expect(cp.registrations[0]).toMatchObject({ nodeName: env['GROVE_NODE_NAME'], baseModels: ['test/tiny'] });

    const connection = new IORedis(redisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(gpuQueueName('node_test', 0), { connection });
    const start: GpuMessage = { kind: 'start', jobId: 'job_main', attempt: 1 };
    await queue.add('start', start, { jobId: gpuMessageId(start) });
    await eventually(() => expect(cp.eventsOf('job_main')).toEqual(['1:started']));
    await eventually(() => expect(cp.stepsOf('job_main').length).toBeGreaterThan(0));

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    running = undefined;
    expect(cp.eventsOf('job_main')).toEqual(['1:started', '1:preempted']);
    const preempted = cp.reports.at(-1)?.event?.value as { step: number; checkpointKey: string };
    expect(cp.blobs.get(preempted.checkpointKey)?.length).toBeGreaterThan(0);
    expect(run.output()).not.toContain(TOKEN);
    expect(run.output().split('\n').filter(Boolean).every((line) => line.startsWith('{'))).toBe(true);
    await queue.obliterate({ force: true });
    await queue.close();
    await connection.quit();
  });
});
