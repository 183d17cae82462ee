import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { EngineCommandError, EngineExitedError, EngineJobFailedError, EngineStartError } from './engine-errors';
import { parseEngineEvent, type EngineEvent, type EngineFailureReason, type EngineMemory, type JobFinishedEvent, type StepEvent } from './engine-events';
import type { EngineJob } from './engine-job';

export interface EngineProcessOptions {
  bin: string;
  modelDir: string;
  threads: number;
  /** The engine's backend; a `cuda` engine sees its one GPU as device 0 (the pool sets CUDA_VISIBLE_DEVICES). */
  backend?: 'cpu' | 'cuda';
  /** The engine's own allocation budget (`--memory-limit`): a CPU slot's memory; none on a GPU. */
  memoryLimitBytes?: number;
  /** Extra environment for the engine (e.g. CUDA_VISIBLE_DEVICES). */
  env?: Record<string, string>;
  /** Receives the engine's diagnostics (stderr lines) and protocol problems. */
  log?: (msg: string) => void;
}

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the engine wrote on stderr. */
  stderrTail: string;
}

export interface EngineStatus {
  jobs: { id: string; step: number; steps: number }[];
  memory: EngineMemory;
}

export interface CheckpointResult {
  step: number;
  dir: string;
}

/** What a running engine tells its owner without being asked. */
interface EngineProcessEvents {
  step: [StepEvent];
  /** A periodic checkpoint (`checkpoint_every`), not one a `checkpointJob` call is waiting for. */
  checkpointed: [{ id: string; step: number; dir: string }];
  job_finished: [JobFinishedEvent];
  job_failed: [{ id: string; reason: EngineFailureReason; message: string }];
  /** The process ended without being asked to. */
  exit: [EngineExit];
}

type Command = 'add_job' | 'remove_job' | 'checkpoint_job' | 'status';

interface Pending {
  cmd: Command;
  id: string;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

const STDERR_TAIL_CHARS = 4000;
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * One `grove-engine serve` child process (native-worker/docs/serve-protocol.md).
 * The engine answers commands in the order it reads them, so replies are matched to a FIFO of sent commands;
 * `checkpoint_job` may only be answered at a later step, so it is followed by a `status` and, if that status comes
 * back first, waits for the job's next `checkpointed` event instead.
 */
export class EngineProcess extends EventEmitter<EngineProcessEvents> {
  private readonly inOrder: Pending[] = [];
  private readonly awaitingCheckpoint = new Map<string, Pending[]>();
  private stderrTail = '';
  private stopping = false;
  private exited: EngineExit | null = null;
  private readonly exitPromise: Promise<EngineExit>;
  private lastMemory: EngineMemory | null = null;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly log: (msg: string) => void,
  ) {
    super();
    this.exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => resolve(this.onExit(code, signal))));
  }

  /** Starts the engine and resolves once the base model is loaded (`ready`). */
  static async start(options: EngineProcessOptions): Promise<EngineProcess> {
    const log = options.log ?? (() => undefined);
    const args = ['serve', '--model', options.modelDir, '--threads', String(options.threads)];
    if (options.backend === 'cuda') args.push('--backend', 'cuda', '--device', '0');
    if (options.memoryLimitBytes) args.push('--memory-limit', String(options.memoryLimitBytes));
    const child = spawn(options.bin, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const engine = new EngineProcess(child, log);
    return new Promise<EngineProcess>((resolve, reject) => {
      const fail = (why: string) => reject(new EngineStartError(`engine for ${options.modelDir} did not start: ${why}`));
      child.once('error', (e) => fail(e.message));
      engine.exitPromise.then((exit) => fail(`exited (code ${exit.code}, signal ${exit.signal}) ${exit.stderrTail.trim()}`));
      engine.attach((e) => {
        if (e.event === 'ready') {
          engine.lastMemory = e.memory;
          resolve(engine);
        }
        if (e.event === 'fatal') fail(e.message);
      });
    });
  }

  /** Engine memory as of its latest event that carried it. */
  get memory(): EngineMemory | null {
    return this.lastMemory;
  }

  get alive(): boolean {
    return this.exited === null;
  }

  addJob(job: EngineJob): Promise<void> {
    return this.send('add_job', job.id, { cmd: 'add_job', job });
  }

  removeJob(id: string): Promise<void> {
    return this.send('remove_job', id, { cmd: 'remove_job', id });
  }

  /** Checkpoints the job at its next optimizer-step boundary; resolves with where and at which step. */
  checkpointJob(id: string): Promise<CheckpointResult> {
    const saved = this.send<CheckpointResult>('checkpoint_job', id, { cmd: 'checkpoint_job', id });
    void this.status().catch(() => undefined);
    return saved;
  }

  status(): Promise<EngineStatus> {
    return this.send('status', '', { cmd: 'status' });
  }

  /** Asks the engine to exit (running jobs are dropped) and waits; kills it if it does not go in time. */
  async shutdown(graceMs = SHUTDOWN_GRACE_MS): Promise<EngineExit> {
    if (this.exited) return this.exited;
    this.stopping = true;
    this.child.stdin.end(JSON.stringify({ cmd: 'shutdown' }) + '\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exitPromise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process outright (tests of crash handling). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  private attach(onStartupEvent: (e: EngineEvent) => void): void {
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let event: EngineEvent;
      try {
        event = parseEngineEvent(line);
      } catch (e) {
        this.log((e as Error).message);
        return;
      }
      onStartupEvent(event);
      this.dispatch(event);
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderrTail = (this.stderrTail + line + '\n').slice(-STDERR_TAIL_CHARS);
      this.log(`engine stderr: ${line}`);
    });
    // A write after the engine died fails with EPIPE; its exit handler already rejected what was pending.
    this.child.stdin.on('error', (e) => this.log(`engine stdin: ${e.message}`));
  }

  private send<T>(cmd: Command, id: string, line: object): Promise<T> {
    if (this.exited || this.stopping) return Promise.reject(new EngineExitedError(`engine is not running; cannot ${cmd} ${id}`.trim()));
    return new Promise<T>((resolve, reject) => {
      this.inOrder.push({ cmd, id, resolve: resolve as (v: never) => void, reject });
      this.child.stdin.write(JSON.stringify(line) + '\n');
    });
  }

  private dispatch(e: EngineEvent): void {
    if ('memory' in e) this.lastMemory = e.memory;
    switch (e.event) {
      case 'job_added':
        this.answer('add_job', e.id)?.resolve(undefined as never);
        return;
      case 'job_removed':
        this.answer('remove_job', e.id)?.resolve(undefined as never);
        this.failCheckpointWaiters(e.id, 'the job was removed');
        return;
      case 'status':
        this.deferCheckpoints();
        this.answer('status', '')?.resolve({ jobs: e.jobs, memory: e.memory } as never);
        return;
      case 'error': {
        this.deferCheckpointsUnless(e.cmd);
        const head = this.inOrder.shift();
        if (!head) return this.log(`engine error with no command waiting: ${e.cmd}: ${e.message}`);
        head.reject(new EngineCommandError(e.cmd || head.cmd, e.message));
        return;
      }
      case 'checkpointed':
        return this.onCheckpointed(e);
      case 'step':
        this.emit('step', e);
        return;
      case 'job_finished':
        this.failCheckpointWaiters(e.id, 'the job finished');
        this.emit('job_finished', e);
        return;
      case 'job_failed': {
        const head = this.inOrder[0];
        if (head?.cmd === 'add_job' && head.id === e.id) {
          this.inOrder.shift();
          head.reject(new EngineJobFailedError(e.id, e.reason, e.message));
          return;
        }
        this.failCheckpointWaiters(e.id, `the job failed (${e.reason})`);
        this.emit('job_failed', { id: e.id, reason: e.reason, message: e.message });
        return;
      }
      case 'fatal':
      case 'ready':
      case 'shutdown':
        return;
    }
  }

  /** Pops the oldest command if it is the one this reply answers; a mismatch means we lost track, so say so. */
  private answer(cmd: Command, id: string): Pending | undefined {
    this.deferCheckpointsUnless(cmd === 'status' ? '' : cmd);
    const head = this.inOrder[0];
    if (!head || head.cmd !== cmd || (id && head.id !== id)) {
      this.log(`engine reply ${cmd} ${id} matches no waiting command`);
      return undefined;
    }
    return this.inOrder.shift();
  }

  /** A reply to a later command means an earlier `checkpoint_job` was accepted without an immediate checkpoint. */
  private deferCheckpointsUnless(cmd: string): void {
    if (cmd === 'checkpoint_job') return;
    this.deferCheckpoints();
  }

  private deferCheckpoints(): void {
    while (this.inOrder[0]?.cmd === 'checkpoint_job') {
      const pending = this.inOrder.shift() as Pending;
      this.awaitingCheckpoint.set(pending.id, [...(this.awaitingCheckpoint.get(pending.id) ?? []), pending]);
    }
  }

  private onCheckpointed(e: { id: string; step: number; dir: string }): void {
    const result: CheckpointResult = { step: e.step, dir: e.dir };
    const head = this.inOrder[0];
    if (head?.cmd === 'checkpoint_job' && head.id === e.id) {
      this.inOrder.shift();
      head.resolve(result as never);
      return;
    }
    const waiting = this.awaitingCheckpoint.get(e.id);
    if (waiting) {
      this.awaitingCheckpoint.delete(e.id);
      waiting.forEach((p) => p.resolve(result as never));
      return;
    }
    this.emit('checkpointed', e);
  }

  private failCheckpointWaiters(id: string, why: string): void {
    const waiting = this.awaitingCheckpoint.get(id);
    if (!waiting) return;
    this.awaitingCheckpoint.delete(id);
    waiting.forEach((p) => p.reject(new EngineCommandError('checkpoint_job', `no checkpoint of ${id}: ${why}`)));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): EngineExit {
    const exit: EngineExit = { code, signal, stderrTail: this.stderrTail };
    this.exited = exit;
    const gone = new EngineExitedError(`engine exited (code ${code}, signal ${signal})`);
    for (const p of this.inOrder.splice(0)) p.reject(gone);
    for (const list of this.awaitingCheckpoint.values()) list.forEach((p) => p.reject(gone));
    this.awaitingCheckpoint.clear();
    if (!this.stopping) this.emit('exit', exit);
    return exit;
  }
}
