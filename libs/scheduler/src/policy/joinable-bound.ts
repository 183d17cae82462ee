import type { LedgerGpu } from './gpu-ledger';

/**
 * The GPUs running one base model, ordered by the fewest fused steps any job there has left (descending), with the
 * running maximum of their free memory: "the most free memory beside jobs that all have at least s steps left" is a
 * binary search. Kept up to date one GPU at a time as a round starts and preempts jobs; re-sorting after every start
 * was an eighth of a 10,000-job round.
 */
export class JoinableBound {
  /** GPU indices and their fewest steps left, descending. */
  private readonly order: number[] = [];
  private readonly steps: number[] = [];
  /** prefixMaxFree[k] = max free bytes of order[0..k]; valid below validPrefix, recomputed on demand. */
  private readonly prefixMaxFree: number[] = [];
  private validPrefix = 0;

  constructor(
    private readonly gpus: readonly LedgerGpu[],
    members: readonly number[],
  ) {
    for (const i of members) this.insert(gpus[i]);
  }

  /** `g`'s jobs changed; `member` says whether it still runs this base model. */
  update(g: LedgerGpu, member: boolean): void {
    const at = this.order.indexOf(g.index);
    if (at >= 0) {
      this.order.splice(at, 1);
      this.steps.splice(at, 1);
      this.validPrefix = Math.min(this.validPrefix, at);
    }
    if (member) this.insert(g);
  }

  /** Upper bound on the free memory beside jobs with at least `steps` left: −∞ when no GPU qualifies. */
  largestFree(steps: number): number {
    const n = this.countWithAtLeast(steps);
    if (n === 0) return -Infinity;
    for (let k = this.validPrefix; k < n; k++) {
      const free = this.gpus[this.order[k]].freeBytes();
      this.prefixMaxFree[k] = k === 0 ? free : Math.max(this.prefixMaxFree[k - 1], free);
    }
    this.validPrefix = Math.max(this.validPrefix, n);
    return this.prefixMaxFree[n - 1];
  }

  private insert(g: LedgerGpu): void {
    const s = g.minRemainingSteps();
    const at = this.countWithAtLeast(s);
    this.order.splice(at, 0, g.index);
    this.steps.splice(at, 0, s);
    this.validPrefix = Math.min(this.validPrefix, at);
  }

  /** How many entries have at least `steps` left (they come first). */
  private countWithAtLeast(steps: number): number {
    let lo = 0;
    let hi = this.steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.steps[mid] >= steps) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
