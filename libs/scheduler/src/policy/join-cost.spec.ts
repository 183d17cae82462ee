import { describe, expect, it } from 'vitest';
import { LedgerGpu, toLedgerJob } from './gpu-ledger';
import { calibration, gpu, running } from '../testing/scenario';
import { MemoryModel } from '../memory/memory-model';
import { ThroughputModel } from '../throughput/throughput-model';

const now = 1_000;

/** The join cost the slow way: re-predict the whole set with the job and compare with the set without it. */
function reference(g: LedgerGpu, job: ReturnType<typeof toLedgerJob>) {
  const withJob = [...g.jobs, job];
  return {
    completion: g.completionSecondsOf(withJob) - g.completionSeconds(),
    busyExtension: Math.max(...g.finishTimesOf(withJob)) - g.drainAt(),
  };
}

describe(LedgerGpu.name, () => {
  const memory = new MemoryModel(calibration);
  const throughput = new ThroughputModel(calibration);
  const batches = [1024, 2048, 4096];
  const ledger = (remaining: number[]) =>
    new LedgerGpu(
      0,
      gpu('n1/g0', { jobs: remaining.map((r, i) => running(`r${i}`, { remainingTokens: r, microBatchTokens: batches[i % 3] })) }),
      memory,
      throughput,
      now,
    );

  it('prices a job that outlives some of the set like a full re-prediction, ties included', () => {
    const sets = [[4e6], [1e6, 8e6, 3e6], [2e6, 2e6, 9e6, 5e5], [7e6, 7e6]];
    for (const remaining of sets) {
      for (const jobTokens of [5e5, 2e6, 4e6, 7e6, 2e7]) {
        const g = ledger(remaining);
        const job = toLedgerJob({ ...running('new', { remainingTokens: jobTokens, microBatchTokens: 2048 }) }, now);

        const fast = g.joinCostOutliving(job);
        const slow = reference(g, job);

        expect(fast.completion).toBeCloseTo(slow.completion, 6);
        expect(fast.busyExtension).toBeCloseTo(slow.busyExtension, 6);
      }
    }
  });

  it('prices a job with the fewest steps the same way in O(1)', () => {
    const g = ledger([4e6, 9e6]);
    const job = toLedgerJob({ ...running('new', { remainingTokens: 1e6, microBatchTokens: 2048 }) }, now);

    const fast = g.joinCostShortest(job);
    const slow = reference(g, job);

    expect(fast.completion).toBeCloseTo(slow.completion, 6);
    expect(fast.busyExtension).toBeCloseTo(slow.busyExtension, 6);
  });
});
