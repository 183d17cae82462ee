import type { MemoryModel } from '../memory/memory-model';
import type { ThroughputModel } from '../throughput/throughput-model';
import type { ClusterState, QueuedJob } from './cluster-state';
import type { RoundDecisions, StartDecision } from './decisions';
import { EligibilityCache } from './eligibility';
import { byArrival } from './fifo-policy';
import { LedgerGpu, toLedgerJob } from './gpu-ledger';
import { feedTelemetry } from './feed-telemetry';
import type { SchedulingPolicy, Telemetry } from './scheduling-policy';

/**
 * Baseline: the ASPEN policy (Ye et al., "ASPEN: High-Throughput LoRA Fine-Tuning of Large Language Models with a
 * Single GPU", 2023): static priorities, first-come-first-served inside a priority, a job is admitted while its
 * predicted memory fits, no preemption. It gets the same memory model (analytic + online fit + margin) and the same
 * telemetry as Grove's policy. Extended to a cluster by admitting onto the least-loaded eligible GPU (idle, or running
 * the same base model) where the prediction fits; a job that fits nowhere is skipped rather than blocking the queue
 * (kinder than the single-GPU paper's "admit while it fits").
 */
export class AspenPolicy implements SchedulingPolicy {
  readonly name = 'aspen';

  constructor(
    private readonly memory: MemoryModel,
    private readonly throughput: ThroughputModel,
  ) {}

  observe(t: Telemetry): void {
    feedTelemetry(this.memory, this.throughput, t);
  }

  decide(state: ClusterState): RoundDecisions {
    const gpus = state.gpus.map((g, i) => new LedgerGpu(i, g, this.memory, this.throughput, state.now));
    const eligibility = new EligibilityCache(state.gpus);
    const starts: StartDecision[] = [];
    for (const job of [...state.queue].sort(byPriorityThenArrival)) {
      if (!this.memory.knowsModel(job.baseModel)) continue;
      let best: LedgerGpu | undefined;
      let bestIncrement = 0;
      for (const i of eligibility.get(job.baseModel, job.selector).gpus) {
        const g = gpus[i];
        const increment = this.memory.jobIncrementBytes(g.state.gpuType, job);
        if (g.fits(job, increment) && (!best || g.jobs.length < best.jobs.length)) [best, bestIncrement] = [g, increment];
      }
      if (!best) continue;
      best.add(toLedgerJob(job, state.now), bestIncrement);
      starts.push({ jobId: job.id, gpuId: best.state.id });
    }
    return { preemptions: [], starts, waiting: [] };
  }
}

function byPriorityThenArrival(a: QueuedJob, b: QueuedJob): number {
  return b.priority - a.priority || byArrival(a, b);
}
