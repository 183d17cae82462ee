import type { Eligibility } from './eligibility';
import type { LedgerGpu } from './gpu-ledger';
import { JoinableBound } from './joinable-bound';

interface KeyFacts {
  readonly mask: Uint8Array;
  readonly largestGpuBytes: number;
  readonly largestCapacity: Map<string, number>;
  freeVersion: number;
  largestFree: number;
  /** Set once every GPU of this set is reserved: the holder of the one predicted to drain first. */
  reservedOutBy: string | null;
  /** Position in drainOrder before which every GPU of this set is reserved. */
  reserveCursor: number;
}

/**
 * Lookups one decision round repeats for thousands of jobs: idle GPUs, GPUs per base model, and per eligibility set a
 * membership mask plus its largest free memory (recomputed only after the round changed a GPU). Keeps a round with
 * 10,000 queued jobs from scanning every GPU for every job.
 */
export class RoundIndex {
  private version = 0;
  private idle: number[];
  private readonly byBase = new Map<string, number[]>();
  private readonly facts = new WeakMap<Eligibility, KeyFacts>();
  private readonly joinable = new Map<string, JoinableBound>();

  /** GPU indices by predicted drain time at the start of the round. */
  private readonly drainOrder: readonly number[];
  /** Current predicted drain time of every GPU, sorted; kept up to date as the round starts and preempts jobs. */
  private readonly drainTimes: number[];
  private readonly drainOf: Float64Array;

  constructor(private readonly gpus: readonly LedgerGpu[]) {
    this.drainOrder = gpus.map((g) => g.index).sort((a, b) => gpus[a].openAt() - gpus[b].openAt() || a - b);
    this.drainOf = Float64Array.from(gpus.map((g) => g.openAt()));
    this.drainTimes = Array.from(this.drainOf).sort((a, b) => a - b);
    this.idle = [];
    for (const g of gpus) {
      if (g.baseModel === null) this.idle.push(g.index);
      else this.running(g.baseModel).push(g.index);
    }
  }

  /** The k-th earliest time a GPU opens for new work (k from 0, clamped to the last); cordoned GPUs never do. */
  kthDrain(k: number): number {
    return this.drainTimes[Math.min(k, this.drainTimes.length - 1)];
  }

  idleGpus(): readonly number[] {
    return this.idle;
  }

  running(baseModel: string): number[] {
    let list = this.byBase.get(baseModel);
    if (!list) {
      list = [];
      this.byBase.set(baseModel, list);
    }
    return list;
  }

  /** Call after a GPU's job set changed; `before` is its base model before the change. */
  changed(g: LedgerGpu, before: string | null): void {
    this.version++;
    this.drainTimes.splice(lowerBound(this.drainTimes, this.drainOf[g.index]), 1);
    this.drainOf[g.index] = g.openAt();
    this.drainTimes.splice(lowerBound(this.drainTimes, this.drainOf[g.index]), 0, this.drainOf[g.index]);
    const after = g.baseModel;
    if (before !== null) this.joinable.get(before)?.update(g, after === before);
    if (after !== null && after !== before) this.joinable.get(after)?.update(g, true);
    if (before === after) return;
    if (before === null) this.idle = this.idle.filter((i) => i !== g.index);
    else this.byBase.set(before, this.running(before).filter((i) => i !== g.index));
    if (after === null) this.idle.push(g.index);
    else this.running(after).push(g.index);
  }

  /**
   * Upper bound on the free memory of any GPU a job with `steps` fused steps left may join (every job there has at
   * least as many): −∞ when there is none. Ignores eligibility and reservations, so it only rules GPUs out.
   */
  largestFreeJoinable(baseModel: string, steps: number): number {
    let bound = this.joinable.get(baseModel);
    if (!bound) this.joinable.set(baseModel, (bound = new JoinableBound(this.gpus, this.running(baseModel))));
    return bound.largestFree(steps);
  }

  private factsFor(e: Eligibility): KeyFacts {
    let f = this.facts.get(e);
    if (!f) {
      const mask = new Uint8Array(this.gpus.length);
      let largestGpuBytes = 0;
      for (const i of e.gpus) {
        mask[i] = 1;
        largestGpuBytes = Math.max(largestGpuBytes, this.gpus[i].state.memoryBytes);
      }
      f = { mask, largestGpuBytes, largestCapacity: new Map(), freeVersion: -1, largestFree: 0, reservedOutBy: null, reserveCursor: 0 };
      this.facts.set(e, f);
    }
    return f;
  }

  mask(e: Eligibility): Uint8Array {
    return this.factsFor(e).mask;
  }

  largestGpuBytes(e: Eligibility): number {
    return this.factsFor(e).largestGpuBytes;
  }

  /** Largest usable memory (GPU minus margin) for a process of `baseModel` among the eligible GPUs. */
  largestCapacity(e: Eligibility, baseModel: string): number {
    const f = this.factsFor(e);
    let capacity = f.largestCapacity.get(baseModel);
    if (capacity === undefined) {
      capacity = 0;
      for (const i of e.gpus) capacity = Math.max(capacity, this.gpus[i].capacityFor(baseModel));
      f.largestCapacity.set(baseModel, capacity);
    }
    return capacity;
  }

  /**
   * Largest predicted free memory a job of `baseModel` could use among the eligible GPUs right now (a GPU held by
   * another base model's process offers none). An Eligibility belongs to one base model, so the cache is per set.
   */
  largestFree(e: Eligibility, baseModel: string): number {
    const f = this.factsFor(e);
    if (f.freeVersion !== this.version) {
      let free = 0;
      for (const i of e.gpus) {
        const g = this.gpus[i];
        if (g.baseModel === null || g.baseModel === baseModel) free = Math.max(free, g.freeBytes());
      }
      f.largestFree = free;
      f.freeVersion = this.version;
    }
    return f.largestFree;
  }

  /**
   * Holds back the eligible GPU predicted (at the start of the round) to drain first among those not yet reserved, so
   * an aged job is not overtaken there again. Amortised O(1): reservations only grow within a round.
   */
  reserveEarliestDrain(e: Eligibility, jobId: string): void {
    const f = this.factsFor(e);
    if (f.reservedOutBy !== null) return;
    while (f.reserveCursor < this.drainOrder.length) {
      const g = this.gpus[this.drainOrder[f.reserveCursor]];
      if (f.mask[g.index] && g.reservedBy === null) {
        g.reservedBy = jobId;
        return;
      }
      f.reserveCursor++;
    }
    const first = this.drainOrder.find((i) => f.mask[i]);
    f.reservedOutBy = first === undefined ? null : this.gpus[first].reservedBy;
  }

  /** Non-null once an aged job found every GPU of this set reserved: nothing else can start there this round. */
  allReservedBy(e: Eligibility): string | null {
    return this.factsFor(e).reservedOutBy;
  }
}

/** First position in a sorted array whose value is ≥ x. */
function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
