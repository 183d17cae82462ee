import type { JobShape } from '../models/job-shape';
import { incrementOn, type Candidate } from './candidate';
import type { LedgerGpu, LedgerJob } from './gpu-ledger';

export interface PreemptionLimits {
  readonly minRunSecondsBeforePreemption: number;
  readonly maxPreemptionsPerJob: number;
}

export interface PreemptionPlan {
  readonly gpu: LedgerGpu;
  readonly victims: readonly LedgerJob[];
}


/**
 * The cheapest set of running jobs to checkpoint and requeue so `c` can start: only jobs it outranks (a lower class, or
 * far more work left), that have run at least the minimum time and are under their preemption cap. Prefers fewer
 * victims, then lower-class victims, then victims with more work left (they lose the least turnaround by waiting).
 * Where `c` would fit beside a GPU's jobs anyway, the plan there evicts every job on it that `c` outranks.
 */
export function findPreemptionPlan(
  c: Candidate,
  gpus: readonly LedgerGpu[],
  now: number,
  limits: PreemptionLimits,
  outranks: (victim: LedgerJob) => boolean,
): PreemptionPlan | null {
  const preemptable = (j: LedgerJob) =>
    outranks(j) &&
    now - j.startedAt >= limits.minRunSecondsBeforePreemption &&
    j.preemptions < limits.maxPreemptionsPerJob;

  let best: PreemptionPlan | null = null;
  let bestScore: readonly [number, number] = [Infinity, Infinity];
  for (const i of c.eligibility.gpus) {
    const g = gpus[i];
    const job = c.job;
    if (g.reservedBy !== null && g.reservedBy !== job.id) continue;
    if (!g.jobs.some(preemptable)) continue;
    const increment = incrementOn(c, g.state.gpuType);
    const capacity = g.capacityFor(job.baseModel);
    let victims: LedgerJob[];
    if (g.baseModel !== job.baseModel) {
      // Another base model's process must go entirely before this one can load.
      if (!g.jobs.every(preemptable)) continue;
      victims = [...g.jobs];
    } else {
      const ordered = g.jobs.filter(preemptable).sort((a, b) => a.priority - b.priority || b.remainingTokens - a.remainingTokens);
      victims = [];
      for (const v of ordered) {
        if (fitsWithout(g, victims, job, increment, capacity)) break;
        victims.push(v);
      }
      // It fits beside them all: the plan is then to evict every job it outranks, so it co-trains only with its peers
      // (each step of a co-trained set takes longer the more jobs it holds); the caller weighs that against joining.
      if (victims.length === 0) victims = ordered;
    }
    if (victims.length === 0 || !fitsWithout(g, victims, job, increment, capacity)) continue;
    const score = [victims.length, Math.max(...victims.map((v) => v.priority))] as const;
    if (score[0] < bestScore[0] || (score[0] === bestScore[0] && score[1] < bestScore[1])) {
      best = { gpu: g, victims };
      bestScore = score;
    }
  }
  return best;
}

function fitsWithout(g: LedgerGpu, victims: readonly LedgerJob[], job: JobShape, increment: number, capacity: number): boolean {
  const rest = g.jobs.filter((j) => !victims.includes(j));
  const used = rest.length === 0 ? 0 : g.predictPeakOf(rest);
  const need = rest.length === 0 ? g.aloneBytes(job, increment) : increment;
  return used + need <= capacity;
}
