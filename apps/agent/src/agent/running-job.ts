import type { EngineProcess } from '../engine/engine-process';
import type { JobPaths } from '../jobs/job-paths';
import type { JobProgress } from '../telemetry/job-telemetry';

/** One attempt of a job on this node, from its `start` message until it is reported done or dropped. */
export class RunningJob {
  engine: EngineProcess | null = null;
  progress: JobProgress | null = null;
  /** Set once the job left this node; later events for it are ignored. */
  ended = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly jobId: string,
    readonly attempt: number,
    readonly gpuIndex: number,
    readonly paths: JobPaths,
  ) {}

  /** Runs `op` after every earlier operation on this job (start, checkpoints, cancel, preempt, finish). */
  exclusive(op: () => Promise<void>): Promise<void> {
    const run = this.chain.then(() => (this.ended ? undefined : op()));
    this.chain = run.catch(() => undefined);
    return run;
  }
}
