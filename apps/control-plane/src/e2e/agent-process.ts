import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');

export interface AgentProcessOptions {
  grpcPort: number;
  apiUrl: string;
  redisUrl: string;
  joinToken: string;
  nodeName: string;
  modelsDir: string;
  workDir: string;
  checkpointEvery?: number;
}

/** The real worker agent (apps/agent) as a separate process, the way an operator runs it. */
export class AgentProcess {
  readonly output: string[] = [];
  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
  }

  static start(o: AgentProcessOptions): AgentProcess {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/agent/src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'],
        GROVE_GRPC_URL: `127.0.0.1:${o.grpcPort}`,
        GROVE_API_URL: o.apiUrl,
        GROVE_JOIN_TOKEN: o.joinToken,
        REDIS_URL: o.redisUrl,
        GROVE_NODE_NAME: o.nodeName,
        GROVE_MODELS_DIR: o.modelsDir,
        GROVE_WORK_DIR: o.workDir,
        GROVE_BACKEND: 'cpu',
        GROVE_CPU_SLOTS: '1',
        GROVE_CPU_SLOT_MEMORY_BYTES: String(8 * 2 ** 30),
        GROVE_ENGINE_THREADS: '1',
        GROVE_CHECKPOINT_EVERY: String(o.checkpointEvery ?? 5),
        LOG_LEVEL: 'info',
      },
    });
    return new AgentProcess(child);
  }

  /** Resolves with the exit code (or the signal's name). */
  exited(): Promise<number | string> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    if (this.child.signalCode !== null) return Promise.resolve(this.child.signalCode);
    return new Promise((r) => this.child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited();
  }
}
