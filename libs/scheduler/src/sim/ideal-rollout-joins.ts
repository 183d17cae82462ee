import { eligible, tokenRates, type Job, type Slot } from './ideal-reference';
import type { SimulatedTruthModels } from './simulated-cluster';

/**
 * The idealised reference's `rollout` grouping. Each job that found no free GPU (in rank order) joins the eligible
 * same-base set, below `perGpu` jobs, where a rollout of the future gives the least Σ completion time of the jobs now
 * running and waiting, or keeps waiting where no join beats that. A rollout runs the sets as they stand and then gives
 * each GPU that empties the next waiting job eligible there, alone, with true step times and no new arrivals.
 */
export function rolloutJoins(
  sets: Job[][],
  waiting: readonly Job[],
  slots: readonly Slot[],
  cordoned: ReadonlySet<string>,
  truth: SimulatedTruthModels,
  perGpu: number,
): void {
  for (let w = 0; w < waiting.length; w++) {
    const job = waiting[w];
    const rest = waiting.slice(w + 1);
    let best = -1;
    let bestTotal = rollout(sets, waiting.slice(w), slots, cordoned, truth);
    for (let i = 0; i < slots.length; i++) {
      const set = sets[i];
      if (set.length === 0 || set.length >= perGpu || set[0].spec.baseModel !== job.spec.baseModel || !eligible(job, slots[i], cordoned)) continue;
      const total = rollout(sets.map((s, k) => (k === i ? [...s, job] : s)), rest, slots, cordoned, truth);
      if (total < bestTotal) [best, bestTotal] = [i, total];
    }
    if (best >= 0) sets[best].push(job);
  }
}

function rollout(start: readonly Job[][], queue: readonly Job[], slots: readonly Slot[], cordoned: ReadonlySet<string>, truth: SimulatedTruthModels): number {
  const sets = start.map((s) => [...s]);
  const remaining = new Map<Job, number>();
  for (const j of [...sets.flat(), ...queue]) remaining.set(j, j.remainingTokens);
  const waiting = [...queue];
  let t = 0;
  let total = 0;
  for (;;) {
    for (let i = 0; i < slots.length; i++) {
      if (sets[i].length > 0) continue;
      const k = waiting.findIndex((j) => eligible(j, slots[i], cordoned));
      if (k >= 0) sets[i].push(waiting.splice(k, 1)[0]);
    }
    const rates = tokenRates(sets, slots, truth);
    let dt = Infinity;
    for (const [j, rate] of rates) dt = Math.min(dt, (remaining.get(j) ?? 0) / rate);
    // Jobs no GPU can take (all theirs cordoned) count as never finishing: any plan leaving fewer of them wins.
    if (!Number.isFinite(dt)) return total + waiting.length * 1e12;
    t += dt;
    for (const [j, rate] of rates) remaining.set(j, (remaining.get(j) ?? 0) - rate * dt);
    for (let i = 0; i < sets.length; i++) {
      const running = sets[i].filter((j) => (remaining.get(j) ?? 0) > 1e-6 * j.spec.microBatchTokens);
      total += t * (sets[i].length - running.length);
      sets[i] = running;
    }
    if (waiting.length === 0 && sets.every((s) => s.length === 0)) return total;
  }
}
