import { EngineProcess, type EngineProcessOptions } from './engine-process';
import type { EngineMemory } from './engine-events';

export interface EnginePoolOptions {
  bin: string;
  threads: number;
  backend: 'cpu' | 'cuda';
  /** An engine with no jobs keeps its base model loaded this long for the next job. */
  idleMs: number;
  log: (msg: string) => void;
  /** Starts an engine (the real child process unless a test says otherwise). */
  launch?: (options: EngineProcessOptions) => Promise<EngineProcess>;
}

interface Entry {
  gpuIndex: number;
  model: string;
  engine: Promise<EngineProcess>;
  jobs: number;
  idleTimer: NodeJS.Timeout | null;
}

/** One engine per (GPU, base model): jobs of the same base model on the same GPU are co-trained in it. */
export class EnginePool {
  private readonly entries = new Map<string, Entry>();
  private readonly onStartedHooks: ((engine: EngineProcess, gpuIndex: number, model: string) => void)[] = [];

  constructor(private readonly options: EnginePoolOptions) {}

  /** Called once per engine started, before any job is added to it. */
  onStarted(hook: (engine: EngineProcess, gpuIndex: number, model: string) => void): void {
    this.onStartedHooks.push(hook);
  }

  /** The engine for this GPU and model, started if needed; the caller holds it until `release`. */
  async acquire(gpuIndex: number, model: string, modelDir: string): Promise<EngineProcess> {
    const key = `${gpuIndex}:${model}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { gpuIndex, model, engine: this.launch(gpuIndex, model, modelDir), jobs: 0, idleTimer: null };
      this.entries.set(key, entry);
      const started = entry;
      started.engine.then(
        (engine) => engine.once('exit', () => this.forget(key, started)),
        () => this.forget(key, started),
      );
    }
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    entry.jobs += 1;
    return entry.engine;
  }

  /** A job left the engine; an engine left with no jobs shuts down after the idle time. */
  release(engine: EngineProcess): void {
    for (const [key, entry] of this.entries) {
      void entry.engine.then((e) => {
        if (e !== engine || this.entries.get(key) !== entry) return;
        entry.jobs = Math.max(0, entry.jobs - 1);
        if (entry.jobs > 0 || entry.idleTimer) return;
        entry.idleTimer = setTimeout(() => {
          if (entry.jobs > 0 || this.entries.get(key) !== entry) return;
          this.entries.delete(key);
          void engine.shutdown();
        }, this.options.idleMs);
        entry.idleTimer.unref();
      }, () => undefined);
    }
  }

  /** Current engine memory of every engine on a GPU. */
  memoriesOn(gpuIndex: number): EngineMemory[] {
    return this.running.filter((r) => r.gpuIndex === gpuIndex && r.engine.memory).map((r) => r.engine.memory as EngineMemory);
  }

  async shutdownAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.idleTimer) clearTimeout(entry.idleTimer);
        const engine = await entry.engine.catch(() => null);
        await engine?.shutdown();
      }),
    );
  }

  private readonly resolved = new Map<Entry, EngineProcess>();

  private get running(): { gpuIndex: number; engine: EngineProcess }[] {
    return [...this.entries.values()].flatMap((entry) => {
      const engine = this.resolved.get(entry);
      return engine ? [{ gpuIndex: entry.gpuIndex, engine }] : [];
    });
  }

  private async launch(gpuIndex: number, model: string, modelDir: string): Promise<EngineProcess> {
    const { bin, threads, backend, log } = this.options;
    const env: Record<string, string> = backend === 'cuda' ? { CUDA_VISIBLE_DEVICES: String(gpuIndex) } : {};
    const engine = await (this.options.launch ?? EngineProcess.start)({ bin, modelDir, threads, env, log });
    for (const entry of this.entries.values()) if (entry.gpuIndex === gpuIndex && entry.model === model) this.resolved.set(entry, engine);
    for (const hook of this.onStartedHooks) hook(engine, gpuIndex, model);
    return engine;
  }

  private forget(key: string, entry: Entry): void {
    this.resolved.delete(entry);
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
