import type { Calibration } from '../calibration/calibration';
import { SchedulerError } from '../errors';
import { matchesSelector } from '../policy/eligibility';
import { rolloutJoins } from './ideal-rollout-joins';
import { SimulatedTruthModels } from './simulated-cluster';
import type { Trace, TraceJob } from './trace';

export interface IdealReferenceOptions {
  /** Most jobs (of one base model) co-trained on a GPU; 1 runs every job alone. */
  readonly jobsPerGpu: number;
  /**
   * How a job that finds no free GPU picks a set to join: `fewest` joins the eligible set with the fewest jobs;
   * `rollout` joins the set where a rollout of the future (see rolloutJoins) finishes everyone sooner in sum, or waits.
   */
  readonly grouping?: 'fewest' | 'rollout';
}

export interface Slot {
  readonly node: string;
  readonly gpuType: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly models: readonly string[] | null;
}

export interface Job {
  readonly spec: TraceJob;
  /** Solo seconds per token on the fastest GPU type (the SRPT key per remaining token). */
  readonly secondsPerToken: number;
  remainingTokens: number;
  finishedAt: number;
}

/**
 * Mean turnaround (seconds) of an idealised scheduler on the simulated truth: it knows every job's true size, preempts
 * and migrates for free at every arrival and completion, never runs out of memory and pays no load, start or
 * checkpoint time. At each event it ranks jobs by priority, then shortest remaining solo time, and gives each in turn
 * the fastest free eligible GPU, or else a place beside the fewest jobs of its base model on a GPU holding fewer than
 * `jobsPerGpu`. Node model lists, selectors and cordons hold. It is a reference for what ordering and simple
 * co-training can reach on a trace, not a proven bound: a cleverer grouping can beat it.
 */
export function idealReferenceMeanTurnaround(trace: Trace, calibration: Calibration, options: IdealReferenceOptions): number {
  const truth = new SimulatedTruthModels(calibration);
  const slots: Slot[] = trace.nodes.flatMap((n) =>
    Array.from({ length: n.gpus }, () => ({ node: n.id, gpuType: n.gpuType, labels: n.labels, models: n.models ?? null })),
  );
  const types = [...new Set(slots.map((s) => s.gpuType))];
  const jobs: Job[] = trace.jobs
    .map((spec) => ({
      spec,
      secondsPerToken: Math.min(...types.map((t) => truth.stepSeconds(t, spec.baseModel, spec.microBatchTokens, 1) / spec.microBatchTokens)),
      remainingTokens: spec.datasetTokens * spec.epochs,
      finishedAt: Number.NaN,
    }))
    .sort((a, b) => a.spec.arrivalSeconds - b.spec.arrivalSeconds);
  const cordonEvents = [...trace.cordonEvents].sort((a, b) => a.atSeconds - b.atSeconds);
  const cordoned = new Set(trace.nodes.filter((n) => n.cordoned).map((n) => n.id));
  const active: Job[] = [];
  let t = 0;
  let nextArrival = 0;
  let nextCordon = 0;
  let left = jobs.length;
  while (left > 0) {
    if (active.length === 0 && nextArrival < jobs.length) t = Math.max(t, jobs[nextArrival].spec.arrivalSeconds);
    while (nextArrival < jobs.length && jobs[nextArrival].spec.arrivalSeconds <= t) active.push(jobs[nextArrival++]);
    for (; nextCordon < cordonEvents.length && cordonEvents[nextCordon].atSeconds <= t; nextCordon++) {
      const e = cordonEvents[nextCordon];
      if (e.type === 'cordon') cordoned.add(e.node);
      else cordoned.delete(e.node);
    }
    const sets = assign(active, slots, cordoned, truth, options);
    let dt = Math.min(
      nextArrival < jobs.length ? jobs[nextArrival].spec.arrivalSeconds - t : Infinity,
      nextCordon < cordonEvents.length ? cordonEvents[nextCordon].atSeconds - t : Infinity,
    );
    const rates = tokenRates(sets, slots, truth);
    if (rates.size === 0 && !Number.isFinite(dt)) throw new SchedulerError('invalid_input', 'ideal reference: waiting jobs can never run');
    for (const [j, rate] of rates) dt = Math.min(dt, j.remainingTokens / rate);
    t += dt;
    for (const [j, rate] of rates) {
      j.remainingTokens -= rate * dt;
      if (j.remainingTokens <= 1e-6 * j.spec.microBatchTokens) {
        j.finishedAt = t;
        active.splice(active.indexOf(j), 1);
        left--;
      }
    }
  }
  return jobs.reduce((s, j) => s + j.finishedAt - j.spec.arrivalSeconds, 0) / jobs.length;
}

/** Each co-trained job's tokens per second under the truth, its set (one per slot) running as one fused step. */
export function tokenRates(sets: readonly (readonly Job[])[], slots: readonly Slot[], truth: SimulatedTruthModels): Map<Job, number> {
  const rates = new Map<Job, number>();
  sets.forEach((set, i) => {
    if (set.length === 0) return;
    const fused = set.reduce((s, j) => s + j.spec.microBatchTokens, 0);
    const step = truth.stepSeconds(slots[i].gpuType, set[0].spec.baseModel, fused, set.length);
    for (const j of set) rates.set(j, j.spec.microBatchTokens / step);
  });
  return rates;
}

function assign(active: Job[], slots: readonly Slot[], cordoned: ReadonlySet<string>, truth: SimulatedTruthModels, options: IdealReferenceOptions): Job[][] {
  const perGpu = options.jobsPerGpu;
  active.sort(
    (a, b) => b.spec.priority - a.spec.priority || a.remainingTokens * a.secondsPerToken - b.remainingTokens * b.secondsPerToken,
  );
  const sets: Job[][] = slots.map(() => []);
  const waiting: Job[] = [];
  for (const j of active) {
    let best = -1;
    let bestRate = 0;
    for (let i = 0; i < slots.length; i++) {
      if (sets[i].length > 0 || !eligible(j, slots[i], cordoned)) continue;
      const rate = 1 / truth.stepSeconds(slots[i].gpuType, j.spec.baseModel, j.spec.microBatchTokens, 1);
      if (rate > bestRate) [best, bestRate] = [i, rate];
    }
    if (best < 0 && options.grouping === 'rollout') {
      waiting.push(j);
      continue;
    }
    if (best < 0 && perGpu > 1) {
      for (let i = 0; i < slots.length; i++) {
        const set = sets[i];
        if (set.length === 0 || set.length >= perGpu || set[0].spec.baseModel !== j.spec.baseModel) continue;
        if (eligible(j, slots[i], cordoned) && (best < 0 || set.length < sets[best].length)) best = i;
      }
    }
    if (best >= 0) sets[best].push(j);
  }
  if (waiting.length > 0 && perGpu > 1) rolloutJoins(sets, waiting, slots, cordoned, truth, perGpu);
  return sets;
}

export function eligible(j: Job, slot: Slot, cordoned: ReadonlySet<string>): boolean {
  return !cordoned.has(slot.node) && (slot.models === null || slot.models.includes(j.spec.baseModel)) && matchesSelector(slot.labels, j.spec.selector);
}
