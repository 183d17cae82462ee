import type { WaitingJob, WaitReason } from './decisions';

export interface EstimateInput {
  readonly jobId: string;
  readonly reason: WaitReason;
  /** GPUs the job may use; empty when it cannot run as things stand. */
  readonly gpus: readonly number[];
  readonly soloSeconds: number;
}

/**
 * Start/finish estimates by list scheduling: waiting jobs, in policy order, each take the eligible GPU that frees up
 * first and hold it for their solo run time. Ignores co-location and future arrivals, so starts are usually
 * pessimistic for small jobs and the estimate is a bound to show people, not a promise.
 */
export function estimateStarts(jobs: readonly EstimateInput[], drainAt: readonly number[], now: number): WaitingJob[] {
  const available = Float64Array.from(drainAt);
  // One lazy min-heap of (available, gpu) per distinct set of eligible GPUs, so a job costs O(log n) instead of a scan.
  // An entry is stale once its GPU's time moved on; stale tops are dropped.
  const heaps = new Map<string, TimeHeap>();
  const signatures = new Map<readonly number[], string>();
  const heapsOfGpu: TimeHeap[][] = drainAt.map(() => []);
  const heapFor = (gpus: readonly number[]) => {
    let signature = signatures.get(gpus);
    if (signature === undefined) {
      signature = gpus.join(',');
      signatures.set(gpus, signature);
    }
    let heap = heaps.get(signature);
    if (!heap) {
      heap = new TimeHeap(gpus.length);
      for (const i of gpus) {
        heap.push(available[i], i);
        heapsOfGpu[i].push(heap);
      }
      heaps.set(signature, heap);
    }
    return heap;
  };
  return jobs.map((j) => {
    if (j.gpus.length === 0 || !Number.isFinite(j.soloSeconds)) {
      return { jobId: j.jobId, reason: j.reason, estimatedStartAt: null, estimatedFinishAt: null };
    }
    const heap = heapFor(j.gpus);
    while (heap.topTime() !== available[heap.topGpu()]) heap.pop();
    const best = heap.topGpu();
    const start = Math.max(now, available[best]);
    const finish = start + j.soloSeconds;
    available[best] = finish;
    for (const h of heapsOfGpu[best]) h.push(finish, best);
    return { jobId: j.jobId, reason: j.reason, estimatedStartAt: start, estimatedFinishAt: finish };
  });
}

/**
 * Min-heap of (time, gpu) pairs in growable typed arrays: one decision round pushes tens of thousands of entries, and
 * objects per entry would be garbage the next round pays for.
 */
class TimeHeap {
  private times: Float64Array;
  private gpus: Int32Array;
  private size = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(Math.max(16, capacity * 2));
    this.gpus = new Int32Array(this.times.length);
  }

  topTime(): number {
    return this.times[0];
  }

  topGpu(): number {
    return this.gpus[0];
  }

  private less(a: number, b: number): boolean {
    return this.times[a] < this.times[b] || (this.times[a] === this.times[b] && this.gpus[a] < this.gpus[b]);
  }

  private swap(a: number, b: number): void {
    const time = this.times[a];
    this.times[a] = this.times[b];
    this.times[b] = time;
    const gpu = this.gpus[a];
    this.gpus[a] = this.gpus[b];
    this.gpus[b] = gpu;
  }

  push(time: number, gpu: number): void {
    if (this.size === this.times.length) {
      const times = new Float64Array(this.size * 2);
      const gpus = new Int32Array(this.size * 2);
      times.set(this.times);
      gpus.set(this.gpus);
      [this.times, this.gpus] = [times, gpus];
    }
    let i = this.size++;
    this.times[i] = time;
    this.gpus[i] = gpu;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): void {
    this.size--;
    this.times[0] = this.times[this.size];
    this.gpus[0] = this.gpus[this.size];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.less(l, m)) m = l;
      if (r < this.size && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
