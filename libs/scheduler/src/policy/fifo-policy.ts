import { SchedulerError } from '../errors';
import type { ClusterState, QueuedJob } from './cluster-state';
import type { RoundDecisions, StartDecision } from './decisions';
import { EligibilityCache } from './eligibility';
import type { SchedulingPolicy, Telemetry } from './scheduling-policy';

/**
 * Baseline: what the public mLoRA code does (mlora/executor/dispatcher/dispatcher.py, `_dispatch_task_in`): tasks leave
 * the ready list in arrival order while fewer than `concurrency_num` run, with no memory prediction. Extended to a
 * cluster as one such dispatcher per GPU fed from one arrival-ordered queue: a job goes to the least-loaded eligible
 * GPU that runs its base model with a free slot or is idle; a job with no slot is skipped rather than blocking later
 * ones (kinder than strict FIFO). After an OOM on a GPU its slot count is held at the jobs left there until one leaves,
 * and a job that OOMs alone is kept off that GPU type, so an operator's crash loop is not simulated either.
 */
export class FifoPolicy implements SchedulingPolicy {
  readonly name: string;
  private readonly oomCaps = new Map<string, number>();
  /** `${jobId}\u0000${gpuType}` of jobs that ran out of memory alone there. */
  private readonly tooBig = new Set<string>();

  constructor(private readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new SchedulerError('invalid_input', `FIFO concurrency must be an integer ≥ 1, got ${concurrency}`);
    }
    this.name = `fifo-c${concurrency}`;
  }

  observe(t: Telemetry): void {
    if (t.kind !== 'oom') return;
    if (t.jobs.length === 1) this.tooBig.add(`${t.droppedJobId}\u0000${t.gpuType}`);
    else this.oomCaps.set(t.gpuId, t.jobs.length - 1);
  }

  decide(state: ClusterState): RoundDecisions {
    const counts = state.gpus.map((g) => g.jobs.length);
    const models = state.gpus.map((g) => (g.jobs.length > 0 ? g.jobs[0].baseModel : null));
    const caps = state.gpus.map((g, i) => {
      const cap = this.oomCaps.get(g.id);
      if (cap !== undefined && counts[i] < cap) this.oomCaps.delete(g.id);
      return Math.min(this.concurrency, this.oomCaps.get(g.id) ?? Infinity);
    });
    const eligibility = new EligibilityCache(state.gpus);
    const starts: StartDecision[] = [];
    for (const job of [...state.queue].sort(byArrival)) {
      let best = -1;
      for (const i of eligibility.get(job.baseModel, job.selector).gpus) {
        if (this.tooBig.has(`${job.id}\u0000${state.gpus[i].gpuType}`)) continue;
        const open = counts[i] === 0 || (models[i] === job.baseModel && counts[i] < caps[i]);
        if (open && (best < 0 || counts[i] < counts[best])) best = i;
      }
      if (best < 0) continue;
      counts[best]++;
      models[best] = job.baseModel;
      starts.push({ jobId: job.id, gpuId: state.gpus[best].id });
    }
    return { preemptions: [], starts, waiting: [] };
  }
}

export function byArrival(a: QueuedJob, b: QueuedJob): number {
  if (a.arrivalAt !== b.arrivalAt) return a.arrivalAt - b.arrivalAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
