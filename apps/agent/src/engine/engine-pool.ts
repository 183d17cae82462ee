import type { EngineMemory } from './engine-events';
import { EngineProcess, type EngineProcessOptions } from './engine-process';

export interface EnginePoolOptions {
  bin: string;
  threads: number;
  backend: 'cpu' | 'cuda';
  /** Each engine's memory budget (a CPU slot's); null: no limit but the device's. */
  memoryLimitBytes: number | null;
  /** An engine with no jobs keeps its base model loaded this long for the next job. */
  idleMs: number;
  log: (msg: string) => void;
}

interface Entry {
  gpuIndex: number;
  starting: Promise<EngineProcess>;
  /** Set once the engine is ready. */
  engine: EngineProcess | null;
  jobs: number;
  idleTimer: NodeJS.Timeout | null;
}

type StartedHook = (engine: EngineProcess, gpuIndex: number, model: string) => void;

/** One engine per (GPU, base model): jobs of the same base model on the same GPU are co-trained in it. */
export class EnginePool {
  private readonly entries = new Map<string, Entry>();
  private readonly startedHooks: StartedHook[] = [];

  constructor(private readonly options: EnginePoolOptions) {}

  /** Called once per engine started, before any job is added to it. */
  onStarted(hook: StartedHook): void {
    this.startedHooks.push(hook);
  }

  /** The engine for this GPU and model, started if needed; the caller holds it until `release`. */
  async acquire(gpuIndex: number, model: string, modelDir: string): Promise<EngineProcess> {
    const key = `${gpuIndex}:${model}`;
    let entry = this.entries.get(key);
    if (!entry) entry = this.launch(key, gpuIndex, model, modelDir);
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    entry.jobs += 1;
    try {
      return await entry.starting;
    } catch (e) {
      entry.jobs -= 1;
      throw e;
    }
  }

  /** A job left the engine; an engine left with no jobs shuts down after the idle time. */
  release(engine: EngineProcess): void {
    for (const [key, entry] of this.entries) {
      if (entry.engine !== engine) continue;
      entry.jobs = Math.max(0, entry.jobs - 1);
      if (entry.jobs > 0 || entry.idleTimer) return;
      entry.idleTimer = setTimeout(() => {
        this.entries.delete(key);
        void engine.shutdown();
      }, this.options.idleMs);
      entry.idleTimer.unref();
      return;
    }
  }

  /** Current engine memory of every ready engine on a GPU. */
  memoriesOn(gpuIndex: number): EngineMemory[] {
    return [...this.entries.values()]
      .filter((e) => e.gpuIndex === gpuIndex)
      .flatMap((e) => (e.engine?.memory ? [e.engine.memory] : []));
  }

  async shutdownAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.idleTimer) clearTimeout(entry.idleTimer);
        const engine = await entry.starting.catch(() => null);
        await engine?.shutdown();
      }),
    );
  }

  private launch(key: string, gpuIndex: number, model: string, modelDir: string): Entry {
    const { bin, threads, backend, memoryLimitBytes, log } = this.options;
    const env = backend === 'cuda' ? { CUDA_VISIBLE_DEVICES: String(gpuIndex) } : undefined;
    const options: EngineProcessOptions = { bin, modelDir, threads, backend, memoryLimitBytes: memoryLimitBytes ?? undefined, env, log };
    const entry: Entry = { gpuIndex, starting: EngineProcess.start(options), engine: null, jobs: 0, idleTimer: null };
    this.entries.set(key, entry);
    const forget = () => {
      if (entry.idleTimer) clearTimeout(entry.idleTimer);
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.starting.then(
      (engine) => {
        entry.engine = engine;
        engine.once('exit', forget);
        for (const hook of this.startedHooks) hook(engine, gpuIndex, model);
      },
      forget,
    );
    return entry;
  }
}
