import type { MemoryModel } from '../memory/memory-model';
import type { ThroughputModel } from '../throughput/throughput-model';
import { matchesSelector } from './eligibility';
import type { LedgerGpu, LedgerJob } from './gpu-ledger';

export interface MigrationLimits {
  readonly minRunSecondsBeforePreemption: number;
  readonly maxPreemptionsPerJob: number;
  /** Checkpoint, reload and adapter restart (seconds): what a move costs the job. */
  readonly preemptionOverheadSeconds: number;
}

export interface Migration {
  readonly job: LedgerJob;
  readonly from: LedgerGpu;
  readonly to: LedgerGpu;
}

/**
 * Moves to faster GPUs that the round left idle: for each such GPU (not cordoned, not reserved), the running job on a
 * GPU of another type that would finish soonest earlier by checkpointing and restarting there alone. A move must
 * gain more than twice the overhead (once paid, once as margin for the prediction), respect the node's models, the
 * job's selector and the churn limits, and fit. A job that started on a slow GPU because nothing else was free thus
 * moves once a fast one frees and no waiting job wants it. The ledgers are updated, so later estimates see the moves.
 */
export function planMigrations(
  gpus: readonly LedgerGpu[],
  idle: readonly number[],
  now: number,
  limits: MigrationLimits,
  memory: MemoryModel,
  throughput: ThroughputModel,
): Migration[] {
  const moves: Migration[] = [];
  const moved = new Set<string>();
  // Predicted finish times per source GPU, computed once and dropped when a move changes that GPU.
  const finishes = new Map<LedgerGpu, number[]>();
  const finishesOf = (g: LedgerGpu): number[] => {
    let f = finishes.get(g);
    if (!f) finishes.set(g, (f = g.finishTimesOf(g.jobs)));
    return f;
  };
  for (const i of idle) {
    const to = gpus[i];
    if (to.state.cordoned || to.reservedBy !== null || to.jobs.length > 0) continue;
    let best: Migration | null = null;
    let bestGain = 2 * limits.preemptionOverheadSeconds;
    for (const from of gpus) {
      if (from.jobs.length === 0 || from.state.gpuType === to.state.gpuType) continue;
      const base = from.jobs[0].baseModel;
      if (to.state.models !== null && !to.state.models.includes(base)) continue;
      const finish = finishesOf(from);
      from.jobs.forEach((job, k) => {
        if (moved.has(job.id) || now - job.startedAt < limits.minRunSecondsBeforePreemption) return;
        if (job.preemptions >= limits.maxPreemptionsPerJob || !matchesSelector(to.state.labels, job.selector)) return;
        const there = job.remainingTokens / throughput.soloTokensPerSecond(to.state.gpuType, base, job.microBatchTokens);
        const gain = finish[k] - now - there - limits.preemptionOverheadSeconds;
        if (gain > bestGain && to.fits(job, memory.jobIncrementBytes(to.state.gpuType, job))) {
          best = { job, from, to };
          bestGain = gain;
        }
      });
    }
    if (best === null) continue;
    const move: Migration = best;
    moved.add(move.job.id);
    move.from.remove(move.job.id);
    finishes.delete(move.from);
    move.to.add(move.job, memory.jobIncrementBytes(move.to.state.gpuType, move.job));
    move.to.reservedBy = move.job.id;
    moves.push(move);
  }
  return moves;
}
