import type { ThroughputModel } from '../throughput/throughput-model';
import type { Candidate } from './candidate';
import type { LedgerGpu, LedgerJob } from './gpu-ledger';

/** The waiting jobs a join is judged against. */
export interface RolloutQueue {
  /** Runnable jobs in rank order that found no start this round: those ranked ahead, the joiner, those after it. */
  readonly jobs: readonly Candidate[];
  /** Index of the joiner in `jobs`. */
  readonly joiner: number;
  /** How many more runnable jobs wait after the end of `jobs`. */
  readonly tail: number;
  /** What each job ranked after the joiner counts for (the policy's backlogWeight; 0 ignores them). */
  readonly behindWeight: number;
}

/**
 * Whether co-locating a job on a GPU now lowers the predicted Σ completion time of everything in sight, compared with
 * letting it wait its turn. Both futures are rolled out the same way: the sets running now keep running and drain as
 * predicted; the waiting jobs then take GPUs one after the other in rank order, each the eligible GPU where it would
 * finish first, and run alone. Jobs past the end of the queue are charged how much later, on average, the GPUs come
 * free. So a join pays for slowing the jobs beside it and for the drain it pushes back, and is credited with the GPU
 * time it saves the whole queue: co-training trades per-job speed for throughput, which pays exactly when enough
 * jobs wait for that throughput. Memory is not rolled out: the join itself has been checked to fit.
 */
export class JoinRollout {
  private readonly open: Float64Array;
  private readonly free: Float64Array;
  /** Each GPU's index into `types`. */
  private readonly typeIds: Int32Array;
  private readonly types: string[] = [];
  /** Seconds each queued job would take alone, per GPU type id (Infinity where it may not run). */
  private readonly soloCache = new Map<Candidate, Float64Array>();

  constructor(
    private readonly gpus: readonly LedgerGpu[],
    private readonly throughput: ThroughputModel,
    private readonly now: number,
  ) {
    this.open = new Float64Array(gpus.length);
    this.free = new Float64Array(gpus.length);
    this.typeIds = new Int32Array(gpus.length);
    gpus.forEach((g, i) => {
      let id = this.types.indexOf(g.state.gpuType);
      if (id < 0) id = this.types.push(g.state.gpuType) - 1;
      this.typeIds[i] = id;
    });
  }

  joinLowersCompletion(target: LedgerGpu, job: LedgerJob, queue: RolloutQueue): boolean {
    // Read now, not at construction: the round's earlier starts and preemptions have changed the GPUs since.
    for (let i = 0; i < this.gpus.length; i++) this.open[i] = this.gpus[i].openAt();
    const waiting = this.schedule(queue, false);

    let drain = this.now;
    let completion = 0;
    for (const f of target.finishTimesOf([...target.jobs, job])) {
      drain = Math.max(drain, f);
      completion += f - this.now;
    }
    if (!target.state.cordoned) this.open[target.index] = drain;
    const joined = completion - target.completionSeconds() + this.schedule(queue, true);
    return joined < waiting;
  }

  /** Weighted Σ (finish − now) of the queue (without the joiner if it joined) list-scheduled onto `this.open`. */
  private schedule(queue: RolloutQueue, joined: boolean): number {
    const free = this.free;
    free.set(this.open);
    let total = 0;
    for (let q = 0; q < queue.jobs.length; q++) {
      if (joined && q === queue.joiner) continue;
      const c = queue.jobs[q];
      const solo = this.soloSeconds(c);
      const eligible = c.eligibility.gpus;
      let best = Infinity;
      let at = -1;
      for (let k = 0; k < eligible.length; k++) {
        const i = eligible[k];
        const end = free[i] + solo[this.typeIds[i]];
        if (end < best) {
          best = end;
          at = i;
        }
      }
      if (at < 0) continue;
      free[at] = best;
      total += (q > queue.joiner ? queue.behindWeight : 1) * (best - this.now);
    }
    if (queue.tail > 0 && queue.behindWeight > 0) {
      let sum = 0;
      let n = 0;
      for (let i = 0; i < free.length; i++) {
        if (free[i] === Infinity) continue;
        sum += free[i] - this.now;
        n++;
      }
      if (n > 0) total += (queue.behindWeight * queue.tail * sum) / n;
    }
    return total;
  }

  private soloSeconds(c: Candidate): Float64Array {
    let solo = this.soloCache.get(c);
    if (!solo) {
      solo = new Float64Array(this.types.length).fill(Infinity);
      for (const type of c.eligibility.gpuTypes) {
        const rate = this.throughput.soloTokensPerSecond(type, c.job.baseModel, c.job.microBatchTokens);
        solo[this.types.indexOf(type)] = c.job.remainingTokens / rate;
      }
      this.soloCache.set(c, solo);
    }
    return solo;
  }
}
