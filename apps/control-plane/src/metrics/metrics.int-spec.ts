import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQL_POOL } from '../database/sql-pool';
import { bearer, createTeam, jsonl, registerModel, startTestApp, uniqueName, uploadDataset, type TestApp } from '../testing/test-app';
import { SNAPSHOT_TTL_MS } from './metrics.service';
import { parsePrometheusText, type PromExposition } from './testing/parse-prometheus-text';

// Other test files share the database, so counts over all jobs are checked as differences between two scrapes.
// No dispatcher or validation worker runs here: the jobs and nodes written below stay exactly as written.
const quiet = { GROVE_GRPC_ENABLED: 'false', GROVE_VALIDATION_WORKER: 'false' };

describe('GET /metrics (real Postgres)', () => {
  let t: TestApp;
  let pool: Pool;
  let refs: { teamId: string; modelId: string; fileId: string };

  beforeAll(async () => {
    t = await startTestApp(quiet);
    pool = t.app.get(SQL_POOL);
    const team = await createTeam(t);
    const model = await registerModel(t, team.operator, uniqueName('llama')).expect(201);
    const file = await uploadDataset(t, team.member, jsonl([{ prompt: 'a', completion: 'b' }])).expect(201);
    refs = { teamId: team.teamId, modelId: model.body.id, fileId: file.body.id };
  });
  afterAll(() => t.close());

  async function scrape(): Promise<PromExposition> {
    await new Promise((r) => setTimeout(r, SNAPSHOT_TTL_MS + 50)); // past the previous scrape's cached snapshot
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;.* version=0\.0\.4/);
    return parsePrometheusText(res.text);
  }

  /** Inserts a job as the dispatcher and agents would have left it. */
  async function insertJob(fields: { status: string; priority?: number; waitSeconds?: number; error?: object; preemptions?: number; nodeId?: string }) {
    await pool.query(
      `INSERT INTO jobs (id, team_id, model_id, training_file_id, status, hyperparameters, priority, error, preemptions,
                         node_id, created_at, started_at, updated_at)
       VALUES ($1, $2, $3, $4, $5::"JobStatus", '{}', $6, $7::jsonb, $8, $9, now() - interval '2 days',
               now() - interval '2 days' + make_interval(secs => $10::float8), now())`,
      [uniqueName('job'), refs.teamId, refs.modelId, refs.fileId, fields.status, fields.priority ?? 1,
       fields.error ? JSON.stringify(fields.error) : null, fields.preemptions ?? 0, fields.nodeId ?? null, fields.waitSeconds ?? null],
    );
  }

  async function insertNode(name: string, state: 'online' | 'lost', telemetry: object | null, flags = { cordoned: false, draining: false }) {
    const joinToken = uniqueName('jt');
    await pool.query(`INSERT INTO join_tokens (id, name, secret_hash, prefix) VALUES ($1, $1, $1, 'x')`, [joinToken]);
    const gpus = [{ index: 0, name: 'H100', totalMemoryBytes: 80e9 }, { index: 1, name: 'H100', totalMemoryBytes: 80e9 }];
    await pool.query(
      `INSERT INTO nodes (id, name, state, join_token_id, backend, engine_version, gpus, base_models, telemetry, cordoned, draining)
       VALUES ($1, $1, $2::"NodeState", $3, 'cuda', 'test', $4::jsonb, '{}', $5::jsonb, $6, $7)`,
      [name, state, joinToken, JSON.stringify(gpus), telemetry && JSON.stringify(telemetry), flags.cordoned, flags.draining],
    );
  }

  it('reports queue depth, jobs by state, failures, preemptions and the wait histogram from the database', async () => {
    const before = await scrape();
    await insertJob({ status: 'queued', priority: 0 });
    await insertJob({ status: 'queued', priority: 3 });
    await insertJob({ status: 'queued', priority: 3 });
    await insertJob({ status: 'queued', priority: 2 });
    await insertJob({ status: 'queued', priority: 2, nodeId: 'node_placed_not_started' }); // placed: no longer waiting
    await insertJob({ status: 'running', waitSeconds: 0.5, preemptions: 2 });
    await insertJob({ status: 'succeeded', waitSeconds: 20, preemptions: 1 });
    await insertJob({ status: 'failed', waitSeconds: 100_000, error: { code: 'METRICS_TEST_OOM', message: 'x' } });
    await insertJob({ status: 'failed', error: { code: 'METRICS_TEST_OOM', message: 'y' } });
    await insertJob({ status: 'failed', error: { message: 'no code' } });
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => (after.value(name, labels) ?? NaN) - (before.value(name, labels) ?? 0);

    expect(['low', 'normal', 'high', 'critical'].map((priority) => delta('grove_queue_depth', { priority }))).toEqual([1, 0, 1, 2]);
    expect(['validating', 'queued', 'running', 'succeeded', 'failed', 'cancelled'].map((state) => delta('grove_jobs', { state })))
      .toEqual([0, 5, 1, 1, 3, 0]);
    expect(after.value('grove_job_failures_total', { reason: 'METRICS_TEST_OOM' })).toBe(2);
    expect(delta('grove_job_failures_total', { reason: 'unknown' })).toBe(1);
    expect(delta('grove_jobs_preemptions_total')).toBe(3);
    const bucket = (le: string) => delta('grove_job_wait_seconds_bucket', { le });
    expect([bucket('1'), bucket('15'), bucket('30'), bucket('86400'), bucket('+Inf')]).toEqual([1, 1, 2, 2, 3]);
    expect(delta('grove_job_wait_seconds_count')).toBe(3);
    expect(delta('grove_job_wait_seconds_sum')).toBeCloseTo(100_020.5, 3);
    expect(after.types.get('grove_job_wait_seconds')).toBe('histogram');
  });

  it('reports nodes by state and the GPUs of online nodes from their telemetry', async () => {
    const before = await scrape();
    const online = uniqueName('gpu-node');
    const lost = uniqueName('gone-node');
    const job = (gpuIndex: number, tokensPerSecond: number) => ({
      jobId: 'job_x', attempt: 1, gpuIndex, step: 1, totalSteps: 9, loss: 2, learningRate: 1e-4, tokensPerSecond, trainedTokens: 5,
    });
    const gpu = (index: number, memoryUsedBytes: number) => ({
      index, memoryUsedBytes, memoryPeakBytes: memoryUsedBytes, baseWeightsBytes: 0, activationsBytes: 0, adapterOptimizerBytes: 0,
    });
    await insertNode(online, 'online', { gpus: [gpu(0, 12e9), gpu(1, 3e9)], jobs: [job(0, 1000), job(0, 250), job(1, 40)] }, { cordoned: true, draining: false });
    await insertNode(lost, 'lost', { gpus: [gpu(0, 1e9)], jobs: [job(0, 5)] });
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => (after.value(name, labels) ?? NaN) - (before.value(name, labels) ?? 0);

    expect([delta('grove_nodes', { state: 'online' }), delta('grove_nodes', { state: 'lost' })]).toEqual([1, 1]);
    expect([delta('grove_nodes_cordoned'), delta('grove_nodes_draining')]).toEqual([1, 0]);
    const at = (gpu: string) => ({ node: online, gpu });
    expect([after.value('grove_gpu_memory_used_bytes', at('0')), after.value('grove_gpu_memory_used_bytes', at('1'))]).toEqual([12e9, 3e9]);
    expect(after.value('grove_gpu_memory_total_bytes', at('1'))).toBe(80e9);
    expect([after.value('grove_gpu_tokens_per_second', at('0')), after.value('grove_gpu_tokens_per_second', at('1'))]).toEqual([1250, 40]);
    expect(after.samples.filter((s) => s.labels['node'] === lost)).toEqual([]);
  });

  it('needs no token by default, and GROVE_METRICS_TOKEN when it is set', async () => {
    const secret = 'metrics-secret-0123456789';
    const locked = await startTestApp({ ...quiet, GROVE_METRICS_TOKEN: secret });
    try {
      const missing = await locked.http().get('/metrics').expect(401);
      expect(missing.body.error).toMatchObject({ code: 'unauthenticated' });
      await locked.http().get('/metrics').set(bearer(locked.adminToken)).expect(401);
      const ok = await locked.http().get('/metrics').set(bearer(secret)).expect(200);
      expect(parsePrometheusText(ok.text).types.get('grove_queue_depth')).toBe('gauge');
    } finally {
      await locked.close();
    }
  });
});
