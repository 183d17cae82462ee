import { describe, expect, it } from 'vitest';
import { AspenPolicy } from './aspen-policy';
import { FifoPolicy } from './fifo-policy';
import { MemoryModel } from '../memory/memory-model';
import { ThroughputModel } from '../throughput/throughput-model';
import { calibration, GIB, gpu, H100, queued } from '../testing/scenario';

describe(FifoPolicy.name, () => {
  it('starts jobs in arrival order up to the fixed concurrency, ignoring size and priority', () => {
    const sut = new FifoPolicy(2);
    const queue = [
      queued('late-short', { arrivalAt: 30, remainingTokens: 1e5, priority: 9 }),
      queued('first', { arrivalAt: 10 }),
      queued('second', { arrivalAt: 20 }),
    ];

    const result = sut.decide({ now: 40, gpus: [gpu('n1/g0')], queue });

    expect(result.starts.map((s) => s.jobId)).toEqual(['first', 'second']);
  });

  it('after an OOM holds that GPU at the jobs left there', () => {
    const sut = new FifoPolicy(4);
    const shape = queued('x');
    sut.observe({ kind: 'oom', gpuId: 'n1/g0', droppedJobId: 'c', gpuType: H100, jobs: [shape, shape, shape], gpuMemoryBytes: 80 * GIB });
    const jobs = ['a', 'b'].map((id) => ({ ...queued(id), startedAt: 0 }));

    const result = sut.decide({ now: 0, gpus: [gpu('n1/g0', { jobs })], queue: [queued('c'), queued('d')] });

    expect(result.starts).toEqual([]);
  });
});

describe(AspenPolicy.name, () => {
  it('admits by priority then arrival while the predicted memory fits, and never preempts', () => {
    const memory = new MemoryModel(calibration);
    const sut = new AspenPolicy(memory, new ThroughputModel(calibration));
    const big = { baseModel: 'llama-3.1-8b', microBatchTokens: 4096, seqLen: 2048 };
    const queue = [
      queued('old-low', { ...big, priority: 0, arrivalAt: 0 }),
      queued('new-high', { ...big, priority: 2, arrivalAt: 50 }),
      queued('old-high', { ...big, priority: 2, arrivalAt: 10 }),
    ];
    // Room for exactly two of these jobs in one process.
    const memoryBytes = memory.predictPeak(H100, [queue[0], queue[1]]) + 3.5 * GIB;

    const result = sut.decide({ now: 60, gpus: [gpu('n1/g0', { memoryBytes })], queue });

    expect(result.starts.map((s) => s.jobId)).toEqual(['old-high', 'new-high']);
    expect(result.preemptions).toEqual([]);
  });
});
