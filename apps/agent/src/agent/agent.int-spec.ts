import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { hyperparametersSchema } from '@grove/contracts';
import { Backend, FailureReason } from '@grove/proto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadAgentConfig, type AgentConfig } from '../config/agent-config';
import { unpackInto } from '../control-plane/tar-archive';
import { EnginePool } from '../engine/engine-pool';
import type { EngineProcess } from '../engine/engine-process';
import type { Assignment } from '../jobs/assignment';
import { InMemoryControlPlane } from '../testing/in-memory-control-plane';
import { InMemoryDispatch } from '../testing/in-memory-dispatch';
import { makeTinyModel, makeTokenFile, requireEngine, tempDir } from '../testing/tiny-engine-fixture';
import { Agent } from './agent';
import { eventually } from '../testing/eventually';

const MODEL = 'test/tiny-llama';

describe(Agent.name, () => {
  let root: string;
  let config: AgentConfig;
  let cp: InMemoryControlPlane;
  let dispatch: InMemoryDispatch;
  let engines: EngineProcess[];
  let sut: Agent;

  beforeAll(() => {
    root = tempDir('agent');
    makeTinyModel(join(root, 'models', MODEL.replace('/', '--')));
    mkdirSync(join(root, 'data'));
    makeTokenFile(join(root, 'data', 'good.gtok'));
    makeTokenFile(join(root, 'data', 'bad.gtok'), 4, { badToken: true });
    config = loadAgentConfig({
      GROVE_GRPC_URL: '127.0.0.1:1',
      GROVE_API_URL: 'http://127.0.0.1:1',
      GROVE_JOIN_TOKEN: 'grove_join_test',
      REDIS_URL: 'redis://127.0.0.1:1',
      GROVE_MODELS_DIR: join(root, 'models'),
      GROVE_WORK_DIR: join(root, 'work'),
      GROVE_ENGINE_BIN: requireEngine(),
      GROVE_CPU_SLOTS: '2',
      GROVE_CHECKPOINT_EVERY: '0',
      GROVE_LABELS: 'pool=test',
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    cp = new InMemoryControlPlane();
    cp.files.set('/tokens/good', join(root, 'data', 'good.gtok'));
    cp.files.set('/tokens/bad', join(root, 'data', 'bad.gtok'));
    dispatch = new InMemoryDispatch();
    engines = [];
    const pool = new EnginePool({ bin: config.engine.bin, threads: 1, backend: 'cpu', memoryLimitBytes: null, idleMs: 60_000, log: () => undefined });
    pool.onStarted((e) => engines.push(e));
    sut = new Agent({
      config,
      rpc: cp,
      artifacts: cp,
      dispatch,
      engines: pool,
      inventory: { gpus: [{ index: 0, name: 'cpu-slot-0', totalMemoryBytes: 2 ** 30 }, { index: 1, name: 'cpu-slot-1', totalMemoryBytes: 2 ** 30 }], baseModels: [MODEL], engineVersion: 'test' },
      log: pino({ level: 'silent' }),
    });
    await sut.start();
  });
  afterEach(async () => {
    await sut.stop();
  });

  function assign(jobId: string, attempt: number, overrides: Partial<Assignment> = {}): void {
    cp.assignments.set(jobId, {
      jobId,
      attempt,
      nodeId: 'node_test',
      gpuIndex: 0,
      model: MODEL,
      totalSteps: 5,
      checkpointEvery: null,
      hyperparameters: hyperparametersSchema.parse({ batch_size: 2, micro_batch_size: 1, learning_rate: 1e-3, lora: { r: 4, alpha: 8 } }),
      tokenFileUrl: '/tokens/good',
      validationTokenFileUrl: null,
      checkpoint: null,
      ...overrides,
    });
  }

  const start = (jobId: string, attempt: number, gpu = 0) => dispatch.deliver(gpu, { kind: 'start', jobId, attempt });

  it('registers the node and consumes a queue per GPU', () => {
    expect(cp.registrations[0]).toEqual({
      nodeName: config.nodeName,
      gpus: [{ index: 0, name: 'cpu-slot-0', totalMemoryBytes: 2 ** 30 }, { index: 1, name: 'cpu-slot-1', totalMemoryBytes: 2 ** 30 }],
      engineVersion: 'test',
      backend: Backend.BACKEND_CPU,
      baseModels: [MODEL],
      labels: { pool: 'test' },
    });
    expect(sut.nodeId).toBe('node_test');
    expect(dispatch.nodeId).toBe('node_test');
  });

  it('co-trains two jobs in one engine, streams every step in heartbeats, uploads each adapter and reports success', async () => {
    assign('job_a', 1, { totalSteps: 4 });
    assign('job_b', 1, { totalSteps: 6 });
    await Promise.all([start('job_a', 1), start('job_b', 1)]);
    await eventually(() => expect(cp.eventsOf('job_b')).toEqual(['1:started', '1:succeeded']));
    await eventually(() => expect(cp.eventsOf('job_a')).toEqual(['1:started', '1:succeeded']));
    expect(engines).toHaveLength(1);
    expect(cp.stepsOf('job_a')).toEqual([1, 2, 3, 4]);
    expect(cp.stepsOf('job_b')).toEqual([1, 2, 3, 4, 5, 6]);
    const done = cp.reports.find((r) => r.jobId === 'job_b' && r.event?.$case === 'succeeded');
    expect(done?.event).toMatchObject({ value: { adapterKey: 'adapters/job_b/1', trainedTokens: expect.any(Number) } });
    const adapter = join(root, 'unpacked-b');
    await unpackInto(Readable.from(cp.blobs.get('adapters/job_b/1') as Buffer), adapter);
    expect(readdirSync(adapter).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'metrics.jsonl']);
    const gpu0 = cp.heartbeats.flatMap((h) => h.gpus.filter((g) => g.index === 0));
    expect(gpu0.some((g) => g.baseWeightsBytes > 0 && g.memoryUsedBytes >= g.baseWeightsBytes)).toBe(true);
    expect(sut.runningJobs().size).toBe(0);
  });

  it('hands the engine the validation set and early stopping, relays the validation loss and reports the stop', async () => {
    cp.files.set('/tokens/validation', join(root, 'data', 'good.gtok'));
    const hyperparameters = hyperparametersSchema.parse({
      batch_size: 2, micro_batch_size: 1, learning_rate: 1e-3, lora: { r: 4, alpha: 8 }, eval_every_steps: 2, early_stopping: { patience: 1, min_delta: 100 },
    });
    assign('job_es', 1, { totalSteps: 10, validationTokenFileUrl: '/tokens/validation', hyperparameters });
    await start('job_es', 1);
    await eventually(() => expect(cp.eventsOf('job_es')).toEqual(['1:started', '1:succeeded']));
    // min_delta 100: no evaluation after the first improves, so patience 1 stops the job at the second (step 4).
    expect(cp.stepsOf('job_es')).toEqual([1, 2, 3, 4]);
    const steps = cp.heartbeats.flatMap((h) => h.jobs.filter((j) => j.jobId === 'job_es').flatMap((j) => j.recentSteps));
    const evaluated = steps.filter((s) => s.validationLoss !== undefined);
    expect(evaluated.map((s) => s.step)).toEqual([2, 4]);
    const done = cp.reports.find((r) => r.jobId === 'job_es' && r.event?.$case === 'succeeded');
    expect(done?.event?.value).toMatchObject({ earlyStopped: true, bestStep: 2, bestValidationLoss: evaluated[0].validationLoss });
  });

  it('starts a job once however often its start is delivered, and drops a stale attempt', async () => {
    assign('job_dup', 2, { totalSteps: 100_000 });
    await Promise.all([start('job_dup', 2), start('job_dup', 2)]);
    await start('job_dup', 1);
    expect(cp.eventsOf('job_dup')).toEqual(['2:started']);
    assign('job_stale', 3);
    await start('job_stale', 2);
    expect(cp.eventsOf('job_stale')).toEqual([]);
    expect([...sut.runningJobs()]).toEqual([['job_dup', 2]]);
  });

  it('cancels a running job', async () => {
    assign('job_c', 1, { totalSteps: 100_000 });
    await start('job_c', 1);
    await dispatch.deliver(0, { kind: 'cancel', jobId: 'job_c', attempt: 1 });
    expect(cp.eventsOf('job_c')).toEqual(['1:started', '1:failed']);
    expect(cp.reports.at(-1)?.event).toMatchObject({ value: { reason: FailureReason.FAILURE_REASON_CANCELLED } });
    expect((await engines[0].status()).jobs).toEqual([]);
  });

  it('preempts a job to an uploaded checkpoint, and the next attempt resumes from it on another GPU', async () => {
    assign('job_p', 1, { totalSteps: 100_000 });
    await start('job_p', 1);
    await eventually(() => expect(cp.stepsOf('job_p').length).toBeGreaterThan(2));
    await dispatch.deliver(0, { kind: 'preempt', jobId: 'job_p', attempt: 1 });
    const preempted = cp.reports.find((r) => r.jobId === 'job_p' && r.event?.$case === 'preempted');
    expect(preempted?.event?.$case).toBe('preempted');
    const { step, checkpointKey } = (preempted?.event as { value: { step: number; checkpointKey: string } }).value;
    expect(step).toBeGreaterThan(0);
    expect(cp.blobs.has(checkpointKey)).toBe(true);

    assign('job_p', 2, { gpuIndex: 1, totalSteps: step + 3, checkpoint: { step, url: checkpointKey } });
    await start('job_p', 2, 1);
    await eventually(() => expect(cp.eventsOf('job_p')).toEqual(['1:started', '1:preempted', '2:started', '2:succeeded']));
    const resumed = cp.heartbeats.flatMap((h) => h.jobs.filter((j) => j.jobId === 'job_p' && j.attempt === 2).flatMap((j) => j.recentSteps.map((s) => s.step)));
    expect(resumed).toEqual([step + 1, step + 2, step + 3]);
    expect(engines).toHaveLength(2);
  });

  it('uploads periodic checkpoints and reports them', async () => {
    assign('job_k', 1, { totalSteps: 6, checkpointEvery: 2 });
    await start('job_k', 1);
    await eventually(() => expect(cp.eventsOf('job_k').at(-1)).toBe('1:succeeded'));
    const saved = cp.reports.filter((r) => r.jobId === 'job_k' && r.event?.$case === 'checkpointSaved').map((r) => (r.event?.value as { step: number }).step);
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.every((s) => s % 2 === 0 && s < 6)).toBe(true);
  });

  it('reports a job whose data the engine refuses as DATA_ERROR', async () => {
    assign('job_bad', 1, { tokenFileUrl: '/tokens/bad' });
    await start('job_bad', 1);
    await eventually(() => expect(cp.eventsOf('job_bad').at(-1)).toBe('1:failed'));
    expect(cp.reports.at(-1)?.event).toMatchObject({ value: { reason: FailureReason.FAILURE_REASON_DATA_ERROR } });
  });

  it('reports ENGINE_CRASH for the jobs of an engine that dies, and starts a fresh engine for the next job', async () => {
    assign('job_x', 1, { totalSteps: 100_000 });
    assign('job_y', 1, { totalSteps: 100_000 });
    await Promise.all([start('job_x', 1), start('job_y', 1)]);
    engines[0].kill();
    await eventually(() => {
      for (const id of ['job_x', 'job_y']) {
        expect(cp.eventsOf(id)).toEqual(['1:started', '1:failed']);
        expect(cp.reports.filter((r) => r.jobId === id).at(-1)?.event).toMatchObject({ value: { reason: FailureReason.FAILURE_REASON_ENGINE_CRASH } });
      }
    });
    assign('job_z', 1, { totalSteps: 3 });
    await start('job_z', 1);
    await eventually(() => expect(cp.eventsOf('job_z')).toEqual(['1:started', '1:succeeded']));
    expect(engines).toHaveLength(2);
  });

  it('drops a job whose report the control plane refuses', async () => {
    assign('job_r', 1, { totalSteps: 100_000 });
    cp.refused.add('job_r');
    await start('job_r', 1);
    expect(sut.runningJobs().has('job_r')).toBe(false);
    expect((await engines[0].status()).jobs).toEqual([]);
  });

  it('registers again when a heartbeat says the node is unknown', async () => {
    cp.known = false;
    await eventually(() => expect(cp.registrations.length).toBe(2));
  });

  it('on stop, checkpoints, uploads and reports every running job as preempted, then shuts the engines down', async () => {
    assign('job_s1', 1, { totalSteps: 100_000 });
    assign('job_s2', 1, { totalSteps: 100_000, gpuIndex: 1 });
    await Promise.all([start('job_s1', 1), start('job_s2', 1, 1)]);
    await sut.stop();
    for (const id of ['job_s1', 'job_s2']) expect(cp.eventsOf(id)).toEqual(['1:started', '1:preempted']);
    expect(engines.every((e) => !e.alive)).toBe(true);
  });
});
