import type { JobShape } from '@grove/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRecord } from '../nodes/node-record';
import { FakeAgents, until } from '../testing/fake-agents';
import {
  bearer, createTeam, jsonl, registerModel, startTestApp, uniqueName, uploadDataset, waitForJob, type TestApp,
} from '../testing/test-app';
import { tinyLlamaConfig } from '../testing/tiny-model';
import { ClusterScheduler } from './cluster-scheduler';
import { CPU_SPEC } from './gpu-specs';

// The memory model's fixed margin on a CPU slot this small (4 % of a few GiB is less).
const MARGIN = CPU_SPEC.marginMinBytes!;

/**
 * The scheduler through the control plane: real HTTP, gRPC, BullMQ and Postgres, with agents driven by hand. Every
 * waiting job says why and when it should start; a higher-priority job preempts via checkpoint, and the preempted
 * job resumes when room comes back.
 */
describe('scheduling through the control plane (real gRPC, BullMQ, Postgres)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let agents: FakeAgents;
  let joinToken: string;
  let fileId: string;

  const api = (path: string) => t.http().get(path).set(bearer(team.member)).expect(200);
  const freshModel = async () => (await registerModel(t, team.operator, uniqueName('llama')).expect(201)).body.name as string;
  async function submit(model: string, extra: Record<string, unknown> = {}): Promise<string> {
    const job = await t.http().post('/v1/jobs').set(bearer(team.member))
      .send({ model, training_file: fileId, hyperparameters: { n_epochs: 2, batch_size: 2, max_seq_len: 128 }, ...extra }).expect(201);
    return job.body.id;
  }
  const waitingFor = (id: string, code: string) => waitForJob(t, team.member, id, (j) => j.wait_reason?.code === code);

  /** GPU memory that holds exactly one job of this shape: its predicted peak plus the margin plus half a job. */
  async function oneJobMemory(jobId: string): Promise<number> {
    const job = (await api(`/v1/jobs/${jobId}`)).body;
    const seqLen = Math.min(job.hyperparameters.max_seq_len, job.dataset_stats.training.max_len);
    const shape: JobShape = { baseModel: job.model, seqLen, microBatchTokens: job.hyperparameters.micro_batch_size * seqLen, loraRank: job.hyperparameters.lora.r };
    const cpu = { backend: 'cpu' } as NodeRecord;
    const scheduler = t.app.get(ClusterScheduler);
    const one = scheduler.predictPeak(cpu, 'cpu-slot', [shape]);
    const two = scheduler.predictPeak(cpu, 'cpu-slot', [shape, shape]);
    return Math.floor(one + MARGIN + (two - one) / 2);
  }

  beforeAll(async () => {
    t = await startTestApp({ GROVE_DISPATCH_INTERVAL_MS: '100', GROVE_HEARTBEAT_INTERVAL_MS: '200', GROVE_SCHED_MIN_RUN_BEFORE_PREEMPT_S: '0' });
    team = await createTeam(t);
    joinToken = (await t.http().post('/v1/nodes/join-tokens').set(bearer(team.operator)).send({ name: 'sched' }).expect(201)).body.secret;
    agents = new FakeAgents(t, joinToken);
    fileId = (await uploadDataset(t, team.member, jsonl([1, 2, 3, 4].map((i) => ({ prompt: `Q${i}?`, completion: ` A${i}.` }))))).body.id;
  });
  afterAll(async () => {
    await agents?.close();
    await t.close();
  });

  it('tells why a job waits: no node has its model, no node matches its selector; a matching job starts', async () => {
    const orphan = await submit(await freshModel());
    const waiting = await waitingFor(orphan, 'no_node_has_model');
    expect(waiting.wait_reason.message).toMatch(/No online node serves base model/);
    expect(waiting).toMatchObject({ status: 'queued', node_id: null, estimated_start_at: null });

    const model = await freshModel();
    const gpu = await agents.node(uniqueName('node'), [model], { labels: { pool: 'a' } });
    const picky = await submit(model, { node_selector: { pool: 'b' } });
    expect((await waitingFor(picky, 'selector_unmatched')).wait_reason.selector).toEqual({ pool: 'b' });
    const easy = await submit(model, { node_selector: { pool: 'a' } });
    await until(() => gpu.messages.find((m) => m.jobId === easy && m.kind === 'start'), 'the matching job to start');
    expect((await waitForJob(t, team.member, easy, (j) => j.node_id !== null)).wait_reason).toBeNull();
    expect(gpu.messages.some((m) => m.jobId === picky)).toBe(false);
  });

  it('a high-priority job preempts a low one via checkpoint; the low one waits with an estimate and resumes after', async () => {
    const model = await freshModel();
    const low = await submit(model, { priority: 'low' });
    await waitingFor(low, 'no_node_has_model');
    const gpu = await agents.node(uniqueName('node'), [model], { memoryBytes: await oneJobMemory(low) });
    const lowStart = await until(() => gpu.messages.find((m) => m.jobId === low && m.kind === 'start'), 'the low job to start');
    await agents.report({ nodeId: gpu.id, jobId: low, attempt: lowStart.attempt, event: { $case: 'started', value: {} } });
    await waitForJob(t, team.member, low, (j) => j.status === 'running');

    const high = await submit(model, { priority: 'high' });
    const preempt = await until(() => gpu.messages.find((m) => m.jobId === low && m.kind === 'preempt'), 'the preempt message');
    expect(preempt.attempt).toBe(lowStart.attempt);
    expect(gpu.messages.some((m) => m.jobId === high)).toBe(false); // not while the low job still holds the memory
    const lowEvents = (await api(`/v1/jobs/${low}/events?limit=100`)).body.data;
    expect(lowEvents.find((e: { type: string }) => e.type === 'job.preempting').data).toEqual({ reason: 'preempted', for_job_id: high });

    await agents.report({ nodeId: gpu.id, jobId: low, attempt: lowStart.attempt, event: { $case: 'preempted', value: { step: 1, checkpointKey: '' } } });
    const highStart = await until(() => gpu.messages.find((m) => m.jobId === high && m.kind === 'start'), 'the high job to start');
    const requeued = await waitForJob(t, team.member, low, (j) => j.status === 'queued' && j.wait_reason !== null && j.estimated_start_at !== null);
    expect(requeued).toMatchObject({ node_id: null, preemptions: 1 });
    expect(['insufficient_memory', 'behind_higher_priority']).toContain(requeued.wait_reason.code);
    expect(requeued.estimated_finish_at).toBeGreaterThan(requeued.estimated_start_at);

    await agents.report({ nodeId: gpu.id, jobId: high, attempt: highStart.attempt, event: { $case: 'started', value: {} } });
    const adapter = await t.http().put(`/v1/agent/jobs/${high}/adapter?attempt=${highStart.attempt}`)
      .set(bearer(joinToken)).set('Content-Type', 'application/x-tar').send(Buffer.from('tar')).expect(201);
    await agents.report({ nodeId: gpu.id, jobId: high, attempt: highStart.attempt, event: { $case: 'succeeded', value: { adapterKey: adapter.body.key, trainedTokens: 10, finalLoss: 1 } } });
    const resumed = await until(() => gpu.messages.find((m) => m.jobId === low && m.kind === 'start' && m.attempt > lowStart.attempt), 'the low job to resume');
    expect(resumed.attempt).toBe(lowStart.attempt + 1);
  });

  it('a job running on an A100 moves, via checkpoint, to an H100 that comes online idle', async () => {
    // An 8B-shaped model (the control plane needs only its config) and enough data that the move pays: about an hour
    // predicted on the A100, well under half that on the H100.
    const eightB = tinyLlamaConfig({
      hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8,
      tie_word_embeddings: false, torch_dtype: 'bfloat16',
    });
    const model = (await registerModel(t, team.operator, uniqueName('llama8b'), eightB).expect(201)).body.name as string;
    const rows = Array.from({ length: 200 }, (_, i) => ({ prompt: `Question ${i}?`, completion: ` Answer ${i}.` }));
    const data = (await uploadDataset(t, team.member, jsonl(rows))).body.id;
    const job = (await t.http().post('/v1/jobs').set(bearer(team.member))
      .send({ model, training_file: data, hyperparameters: { n_epochs: 100, batch_size: 2, max_seq_len: 128 } }).expect(201)).body.id as string;
    const a100 = await agents.node(uniqueName('a100'), [model], { gpuName: 'NVIDIA A100-SXM4-40GB', memoryBytes: 40 * 2 ** 30 });
    const first = await until(() => a100.messages.find((m) => m.jobId === job && m.kind === 'start'), 'the job to start on the A100');
    await agents.report({ nodeId: a100.id, jobId: job, attempt: first.attempt, event: { $case: 'started', value: {} } });
    await waitForJob(t, team.member, job, (j) => j.status === 'running');

    const h100 = await agents.node(uniqueName('h100'), [model], { gpuName: 'NVIDIA H100 80GB HBM3', memoryBytes: 80 * 2 ** 30 });
    const preempt = await until(() => a100.messages.find((m) => m.jobId === job && m.kind === 'preempt'), 'the move off the A100');
    expect(preempt.attempt).toBe(first.attempt);
    const events = (await api(`/v1/jobs/${job}/events?limit=100`)).body.data;
    const moving = events.find((e: { type: string }) => e.type === 'job.preempting');
    expect(moving.data).toEqual({ reason: 'moving_to_faster_gpu', to_gpu_id: `${h100.id}/0` });
    expect(moving.message).toMatch(/Moving to the faster idle GPU/);

    await agents.report({ nodeId: a100.id, jobId: job, attempt: first.attempt, event: { $case: 'preempted', value: { step: 1, checkpointKey: '' } } });
    const moved = await until(() => h100.messages.find((m) => m.jobId === job && m.kind === 'start'), 'the job to start on the H100');
    expect(moved.attempt).toBe(first.attempt + 1);
    expect(a100.messages.filter((m) => m.jobId === job && m.kind === 'start')).toHaveLength(1);
  });
});
