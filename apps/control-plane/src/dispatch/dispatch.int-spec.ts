import {
  FailureReason, type HeartbeatRequest, type HeartbeatResponse,
} from '@grove/proto';
import type { Response as SuperagentResponse } from 'superagent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgents, until as untilAsync } from '../testing/fake-agents';
import {
  bearer, createTeam, jsonl, registerModel, startTestApp, uniqueName, uploadDataset, waitForJob, type TestApp,
} from '../testing/test-app';

/**
 * The control plane's side of the agent protocol, driven the way an agent drives it: real gRPC, real BullMQ queues
 * on the real Redis, the real HTTP artifact endpoints. (The real agent process is tested end to end in apps/agent.)
 */
describe('dispatch to GPU queues and agent reports (real gRPC, BullMQ, Postgres)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let agents: FakeAgents;
  let joinToken: string;
  let fileId: string;

  const report = (req: Parameters<FakeAgents['report']>[0]) => agents.report(req);
  const rpc = <Req, Res>(method: 'register' | 'heartbeat' | 'reportJobEvent', req: Req) => agents.rpc<Req, Res>(method, req);
  const node = (name: string, models: string[], memoryBytes?: number) => agents.node(name, models, { memoryBytes });
  const until = <T>(probe: () => T | undefined, what: string, ms?: number) => untilAsync(probe, what, ms);
  const agentHttp = (path: string) => t.http().get(path).set(bearer(joinToken));

  /** Each test gets its own base model, so only that test's nodes can take its jobs. */
  async function freshModel(): Promise<string> {
    return (await registerModel(t, team.operator, uniqueName('llama')).expect(201)).body.name;
  }

  async function queuedJob(modelName: string): Promise<string> {
    const job = await t.http().post('/v1/jobs').set(bearer(team.member))
      .send({ model: modelName, training_file: fileId, hyperparameters: { n_epochs: 2, batch_size: 2, max_seq_len: 128 } }).expect(201);
    await waitForJob(t, team.member, job.body.id, (j) => j.status !== 'validating');
    return job.body.id;
  }

  beforeAll(async () => {
    t = await startTestApp({ GROVE_DISPATCH_INTERVAL_MS: '100', GROVE_HEARTBEAT_INTERVAL_MS: '200', GROVE_NODE_GRACE_MS: '4000', GROVE_CHECKPOINT_EVERY: '5' });
    team = await createTeam(t);
    joinToken = (await t.http().post('/v1/nodes/join-tokens').set(bearer(team.operator)).send({ name: 'test' }).expect(201)).body.secret;
    agents = new FakeAgents(t, joinToken);
    fileId = (await uploadDataset(t, team.member, jsonl([1, 2, 3, 4, 5].map((i) => ({ prompt: `Q${i}?`, completion: ` A${i}.` }))))).body.id;
  });
  afterAll(async () => {
    await agents?.close();
    await t.close();
  });

  it('runs a job through the whole protocol: start message, assignment, artifacts, metrics, checkpoint, success', async () => {
    const modelName = await freshModel();
    const gpu = await node(uniqueName('node'), [modelName]);
    const jobId = await queuedJob(modelName);
    const start = await until(() => gpu.messages.find((m) => m.jobId === jobId), 'the start message');
    expect(start).toEqual({ kind: 'start', jobId, attempt: 1 });

    const assignment = await agentHttp(`/v1/agent/assignments/${jobId}?attempt=1&node_id=${gpu.id}`).expect(200);
    expect(assignment.body).toMatchObject({ job_id: jobId, attempt: 1, gpu_index: 0, model: modelName, total_steps: 5, checkpoint_every: 5, checkpoint: null });
    const tokens = await agentHttp(assignment.body.token_file_url).buffer(true).parse(binary).expect(200);
    expect((tokens.body as Buffer).subarray(0, 8).toString()).toBe('GROVETOK');
    await t.http().get(assignment.body.token_file_url).set(bearer('grove_join_wrong')).expect(401);

    expect(await report({ nodeId: gpu.id, jobId, attempt: 1, event: { $case: 'started', value: {} } })).toEqual({ accepted: true, reason: '' });
    expect((await waitForJob(t, team.member, jobId, (j) => j.status === 'running')).started_at).toEqual(expect.any(Number));

    const steps = [1, 2].map((step) => ({ step, loss: 3 - step / 2, learningRate: 1e-4, tokens: 40, tokensPerSecond: 500, gradNorm: 1.5 }));
    const hb: HeartbeatRequest = {
      nodeId: gpu.id, gpus: [], jobs: [{ jobId, attempt: 1, gpuIndex: 0, step: 2, totalSteps: 5, loss: 2, learningRate: 1e-4, tokensPerSecond: 500, trainedTokens: 80, recentSteps: steps }],
    };
    expect(await rpc<HeartbeatRequest, HeartbeatResponse>('heartbeat', hb)).toEqual({ known: true });
    const metrics = (await t.http().get(`/v1/jobs/${jobId}/events?limit=100`).set(bearer(team.member))).body.data.filter((e: { type: string }) => e.type === 'metrics');
    expect(metrics.map((e: { data: { step: number; loss: number } }) => [e.data.step, e.data.loss])).toEqual([[1, 2.5], [2, 2]]);

    const ckpt = await t.http().put(`/v1/agent/jobs/${jobId}/checkpoints/5?attempt=1`).set(bearer(joinToken)).set('Content-Type', 'application/x-tar').send(Buffer.from('checkpoint-bytes')).expect(201);
    expect(await report({ nodeId: gpu.id, jobId, attempt: 1, event: { $case: 'checkpointSaved', value: { step: 5, checkpointKey: ckpt.body.key } } })).toMatchObject({ accepted: true });
    const listed = await t.http().get(`/v1/jobs/${jobId}/checkpoints`).set(bearer(team.member)).expect(200);
    expect(listed.body.data.map((c: { step: number }) => c.step)).toEqual([5]);

    const adapter = await t.http().put(`/v1/agent/jobs/${jobId}/adapter?attempt=1`).set(bearer(joinToken)).set('Content-Type', 'application/x-tar').send(Buffer.from('adapter-tar')).expect(201);
    expect(await report({ nodeId: gpu.id, jobId, attempt: 1, event: { $case: 'succeeded', value: { adapterKey: adapter.body.key, trainedTokens: 200, finalLoss: 1.25 } } })).toMatchObject({ accepted: true });
    const done = await waitForJob(t, team.member, jobId, (j) => j.status === 'succeeded');
    expect(done).toMatchObject({ trained_tokens: 200, result_files: [`/v1/jobs/${jobId}/adapter`] });
    const download = await t.http().get(`/v1/jobs/${jobId}/adapter`).set(bearer(team.member)).buffer(true).parse(binary).expect(200);
    expect((download.body as Buffer).toString()).toBe('adapter-tar');
    expect(await report({ nodeId: gpu.id, jobId, attempt: 1, event: { $case: 'failed', value: { reason: FailureReason.FAILURE_REASON_ENGINE_CRASH, message: 'late' } } }))
      .toMatchObject({ accepted: false });
  });

  it('requeues the jobs of a lost node to another node as a new attempt, refusing the old attempt', async () => {
    const modelName = await freshModel();
    const first = await node(uniqueName('node'), [modelName]);
    const jobId = await queuedJob(modelName);
    const start = await until(() => first.messages.find((m) => m.jobId === jobId), 'the first start message');
    await report({ nodeId: first.id, jobId, attempt: start.attempt, event: { $case: 'started', value: {} } });
    const second = await node(uniqueName('node'), [modelName]);
    first.silence();
    {
      const restart = await until(() => second.messages.find((m) => m.jobId === jobId), 'the start message on the second node', 20_000);
      expect(restart.attempt).toBe(start.attempt + 1);
      const events = (await t.http().get(`/v1/jobs/${jobId}/events?limit=100`).set(bearer(team.member))).body.data.map((e: { type: string }) => e.type);
      expect(events).toContain('job.requeued');
      await agentHttp(`/v1/agent/assignments/${jobId}?attempt=${start.attempt}&node_id=${first.id}`).expect(409);
      expect(await report({ nodeId: first.id, jobId, attempt: start.attempt, event: { $case: 'succeeded', value: { adapterKey: 'x', trainedTokens: 1, finalLoss: 1 } } }))
        .toMatchObject({ accepted: false });
      await agentHttp(`/v1/agent/assignments/${jobId}?attempt=${restart.attempt}&node_id=${second.id}`).expect(200);
    }
  });

  it('sends a cancel message for a running job; an OOM requeues for a bigger GPU; a data error fails the job', async () => {
    const modelName = await freshModel();
    const gpu = await node(uniqueName('node'), [modelName]);
    {
      const a = await queuedJob(modelName);
      const startA = await until(() => gpu.messages.find((m) => m.jobId === a), 'start of a');
      await report({ nodeId: gpu.id, jobId: a, attempt: startA.attempt, event: { $case: 'started', value: {} } });
      await t.http().post(`/v1/jobs/${a}/cancel`).set(bearer(team.member)).expect(200);
      expect(await until(() => gpu.messages.find((m) => m.jobId === a && m.kind === 'cancel'), 'the cancel message')).toEqual({ kind: 'cancel', jobId: a, attempt: startA.attempt });

      const b = await queuedJob(modelName);
      const startB = await until(() => gpu.messages.find((m) => m.jobId === b), 'start of b');
      await report({ nodeId: gpu.id, jobId: b, attempt: startB.attempt, event: { $case: 'failed', value: { reason: FailureReason.FAILURE_REASON_OOM, message: 'alloc failed' } } });
      // The memory model learned that b does not fit this GPU: b waits, and says why, until a bigger GPU comes.
      const waiting = await waitForJob(t, team.member, b, (j) => j.status === 'queued' && j.wait_reason !== null);
      expect(waiting.wait_reason.code).toBe('exceeds_gpu_memory');
      expect(waiting.node_id).toBeNull();
      const big = await node(uniqueName('node'), [modelName], 64 * 2 ** 30);
      const retried = await until(() => big.messages.find((m) => m.jobId === b), 'the retry on the bigger GPU');
      expect(retried.attempt).toBe(startB.attempt + 1);
      expect(gpu.messages.filter((m) => m.jobId === b && m.kind === 'start')).toHaveLength(1);
      await report({ nodeId: big.id, jobId: b, attempt: retried.attempt, event: { $case: 'failed', value: { reason: FailureReason.FAILURE_REASON_DATA_ERROR, message: 'token id 999999 outside the vocabulary' } } });
      const failed = await waitForJob(t, team.member, b, (j) => j.status === 'failed');
      expect(failed.error).toEqual({ code: 'data_error', message: 'token id 999999 outside the vocabulary' });
    }
  });
});

function binary(res: SuperagentResponse, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
