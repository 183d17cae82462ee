import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel, makeTokenFile, requireEngine, tempDir } from '../testing/tiny-engine-fixture';
import { EngineCommandError, EngineExitedError, EngineJobFailedError, EngineStartError } from './engine-errors';
import type { StepEvent } from './engine-events';
import type { EngineJob } from './engine-job';
import { EngineProcess } from './engine-process';

function job(id: string, tokens: string, dir: string, overrides: Partial<EngineJob> = {}): EngineJob {
  return {
    id,
    tokens,
    lora: { r: 4, alpha: 8, dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false },
    optimizer: { lr: 1e-3, weight_decay: 0, max_grad_norm: 1 },
    schedule: { type: 'constant', warmup_steps: 0 },
    steps: 6,
    micro_batch_size: 2,
    grad_accum: 1,
    shuffle: true,
    seed: 7,
    output_dir: join(dir, id, 'output'),
    checkpoint_dir: join(dir, id, 'checkpoint'),
    checkpoint_every: 0,
    ...overrides,
  };
}

function collect(engine: EngineProcess): { steps: StepEvent[]; finished: string[]; failed: string[] } {
  const seen = { steps: [] as StepEvent[], finished: [] as string[], failed: [] as string[] };
  engine.on('step', (e) => seen.steps.push(e));
  engine.on('job_finished', (e) => seen.finished.push(e.id));
  engine.on('job_failed', (e) => seen.failed.push(`${e.id}:${e.reason}`));
  return seen;
}

function until(engine: EngineProcess, event: 'job_finished' | 'job_failed', id: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: { id: string }) => {
      if (e.id !== id) return;
      engine.off(event, on);
      resolve();
    };
    engine.on(event, on);
  });
}

describe(EngineProcess.name, () => {
  let bin: string;
  let root: string;
  let modelDir: string;
  let tokens: string;
  let sut: EngineProcess | undefined;

  beforeAll(() => {
    bin = requireEngine();
    root = tempDir('engine');
    modelDir = makeTinyModel(join(root, 'model'));
    tokens = makeTokenFile(join(root, 'data.gtok'));
  });
  afterEach(async () => {
    await sut?.shutdown();
    sut = undefined;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const start = async () => (sut = await EngineProcess.start({ bin, modelDir, threads: 1 }));

  it('co-trains two jobs to completion, streaming steps and writing each adapter', async () => {
    const engine = await start();
    const seen = collect(engine);
    const done = Promise.all([until(engine, 'job_finished', 'a'), until(engine, 'job_finished', 'b')]);
    await engine.addJob(job('a', tokens, root, { steps: 4 }));
    await engine.addJob(job('b', tokens, root, { steps: 6, seed: 3 }));
    await done;
    expect(seen.steps.filter((s) => s.id === 'a').map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(seen.steps.filter((s) => s.id === 'b').map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.steps.every((s) => Number.isFinite(s.loss) && s.tokens > 0 && s.memory.current.baseWeights > 0)).toBe(true);
    for (const id of ['a', 'b']) expect(existsSync(join(root, id, 'output', 'adapter_model.safetensors'))).toBe(true);
    expect(seen.failed).toEqual([]);
    expect((await engine.status()).jobs).toEqual([]);
  });

  it('checkpoints a running job, and a removed job re-added from its checkpoint resumes at that step', async () => {
    const engine = await start();
    const seen = collect(engine);
    const dir = join(root, 'resume');
    await engine.addJob(job('r', tokens, dir, { steps: 200 }));
    const saved = await engine.checkpointJob('r');
    expect(saved.dir).toBe(join(dir, 'r', 'checkpoint'));
    expect(saved.step).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(readFileSync(join(saved.dir, 'state.json'), 'utf8')).step).toBe(saved.step);
    await engine.removeJob('r');
    expect((await engine.status()).jobs).toEqual([]);

    const before = seen.steps.length;
    const finished = until(engine, 'job_finished', 'r');
    await engine.addJob(job('r', tokens, dir, { steps: saved.step + 3 }));
    await finished;
    expect(seen.steps.slice(before).map((s) => s.step)).toEqual([saved.step + 1, saved.step + 2, saved.step + 3]);
  });

  it('reports periodic checkpoints as events', async () => {
    const engine = await start();
    const periodic: number[] = [];
    engine.on('checkpointed', (e) => periodic.push(e.step));
    const finished = until(engine, 'job_finished', 'p');
    await engine.addJob(job('p', tokens, join(root, 'periodic'), { steps: 6, checkpoint_every: 2 }));
    await finished;
    expect(periodic).toEqual([2, 4]);
  });

  it('refuses commands it cannot apply, and reports a job with bad data as failed', async () => {
    const engine = await start();
    await expect(engine.checkpointJob('nope')).rejects.toBeInstanceOf(EngineCommandError);
    await expect(engine.removeJob('nope')).rejects.toThrow(/remove_job/);
    await expect(engine.addJob({ ...job('x', tokens, root), steps: -1 })).rejects.toBeInstanceOf(EngineCommandError);
    const bad = makeTokenFile(join(root, 'bad.gtok'), 4, { badToken: true });
    // The engine may refuse the file when adding the job or stop the job at its first step: either is data_error.
    const failedLater = new Promise<string>((resolve) => engine.on('job_failed', (e) => resolve(e.reason)));
    const reason = await engine.addJob(job('bad', bad, root)).then(() => failedLater, (e: EngineJobFailedError) => e.reason);
    expect(reason).toBe('data_error');
    expect((await engine.status()).jobs).toEqual([]);
  });

  it('fails a job that does not fit the memory limit as oom', async () => {
    const base = (await start()).memory?.current.baseWeights ?? 0;
    await sut?.shutdown();
    sut = await EngineProcess.start({ bin, modelDir, threads: 1, memoryLimitBytes: base + 1 });
    await expect(sut.addJob(job('big', tokens, root))).rejects.toMatchObject({ reason: 'oom' });
  });

  it('reports an unexpected exit and fails what was waiting', async () => {
    const engine = await start();
    const exited = new Promise((resolve) => engine.once('exit', resolve));
    await engine.addJob(job('k', tokens, join(root, 'kill'), { steps: 100000 }));
    const pending = engine.status();
    engine.kill();
    expect(await exited).toMatchObject({ signal: 'SIGKILL' });
    await pending.then(() => undefined, (e) => expect(e).toBeInstanceOf(EngineExitedError));
    expect(engine.alive).toBe(false);
    await expect(engine.addJob(job('k2', tokens, root))).rejects.toBeInstanceOf(EngineExitedError);
  });

  it.skipIf(existsSync('/dev/nvidia0'))('asked for the CUDA backend on a machine without a GPU, fails to start saying why', async () => {
    await expect(EngineProcess.start({ bin, modelDir, threads: 1, backend: 'cuda' })).rejects.toThrow(/CUDA/);
  });

  it('fails to start on a folder with no model', async () => {
    await expect(EngineProcess.start({ bin, modelDir: join(root, 'missing'), threads: 1 })).rejects.toBeInstanceOf(EngineStartError);
  });
});
