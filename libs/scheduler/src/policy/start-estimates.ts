import { MinHeap } from '../util/min-heap';
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
  const heaps = new Map<string, MinHeap<Entry>>();
  const signatures = new Map<readonly number[], string>();
  const heapsOfGpu: MinHeap<Entry>[][] = drainAt.map(() => []);
  const heapFor = (gpus: readonly number[]) => {
    let signature = signatures.get(gpus);
    if (signature === undefined) {
      signature = gpus.join(',');
      signatures.set(gpus, signature);
    }
    let heap = heaps.get(signature);
    if (!heap) {
      heap = new MinHeap<Entry>((a, b) => a.at < b.at || (a.at === b.at && a.gpu < b.gpu));
      for (const i of gpus) {
        heap.push({ at: available[i], gpu: i });
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
    while (heap.peek()!.at !== available[heap.peek()!.gpu]) heap.pop();
    const best = heap.peek()!.gpu;
    const start = Math.max(now, available[best]);
    const finish = start + j.soloSeconds;
    available[best] = finish;
    for (const h of heapsOfGpu[best]) h.push({ at: finish, gpu: best });
    return { jobId: j.jobId, reason: j.reason, estimatedStartAt: start, estimatedFinishAt: finish };
  });
}

interface Entry {
  readonly at: number;
  readonly gpu: number;
}
