import { describe, expect, it } from 'vitest';
import type { MetricsSnapshot, NodeMetricsRow } from './metrics-snapshot';
import { metricValues, waitHistogram } from './metric-values';

const empty: MetricsSnapshot = { jobsByState: {}, queuedByPriorityRank: {}, failuresByReason: {}, preemptions: 0, waitBuckets: [], nodes: [] };

function node(name: string, overrides: Partial<NodeMetricsRow> = {}): NodeMetricsRow {
  return {
    name, state: 'online', cordoned: false, draining: false,
    gpus: [{ index: 0, name: 'H100', totalMemoryBytes: 80e9 }], telemetry: null,
    ...overrides,
  };
}

function job(gpuIndex: number, tokensPerSecond: number) {
  return { jobId: 'job_x', attempt: 1, gpuIndex, step: 1, totalSteps: 10, loss: 1, learningRate: 1e-4, tokensPerSecond, trainedTokens: 1 };
}

describe(metricValues.name, () => {
  it('reports every priority class, job state and node state, zero included', () => {
    const sut = metricValues({ ...empty, queuedByPriorityRank: { 1: 4, 3: 1, 9: 7 }, jobsByState: { queued: 5, running: 2 } });
    expect(sut.queueDepth).toEqual([
      { labels: { priority: 'low' }, value: 0 },
      { labels: { priority: 'normal' }, value: 4 },
      { labels: { priority: 'high' }, value: 0 },
      { labels: { priority: 'critical' }, value: 1 },
    ]);
    expect(sut.jobs.map((s) => [s.labels['state'], s.value])).toEqual([
      ['validating', 0], ['queued', 5], ['running', 2], ['succeeded', 0], ['failed', 0], ['cancelled', 0],
    ]);
    expect(sut.nodes).toEqual([{ labels: { state: 'online' }, value: 0 }, { labels: { state: 'lost' }, value: 0 }]);
  });

  it('counts failures by reason, nodes by state, cordoned and draining nodes', () => {
    const sut = metricValues({
      ...empty,
      failuresByReason: { OOM: 2, DATA_ERROR: 1 },
      preemptions: 3,
      nodes: [node('a'), node('b', { state: 'lost' }), node('c', { cordoned: true, draining: true }), node('d', { cordoned: true })],
    });
    expect(sut.jobFailures).toEqual([{ labels: { reason: 'DATA_ERROR' }, value: 1 }, { labels: { reason: 'OOM' }, value: 2 }]);
    expect(sut.preemptions).toBe(3);
    expect(sut.nodes).toEqual([{ labels: { state: 'online' }, value: 3 }, { labels: { state: 'lost' }, value: 1 }]);
    expect([sut.nodesCordoned, sut.nodesDraining]).toEqual([2, 1]);
  });

  it('reports GPUs of online nodes: total always, memory used once reported, tokens/s summed over the GPU’s jobs', () => {
    const gpus = [{ index: 1, name: 'H100', totalMemoryBytes: 80e9 }, { index: 0, name: 'H100', totalMemoryBytes: 80e9 }];
    const telemetry = {
      gpus: [{ index: 0, memoryUsedBytes: 12e9, memoryPeakBytes: 13e9, baseWeightsBytes: 8e9, activationsBytes: 3e9, adapterOptimizerBytes: 1e9 }],
      jobs: [job(0, 100), job(0, 50.5)],
    };
    const sut = metricValues({ ...empty, nodes: [node('gpu-b', { gpus, telemetry }), node('gpu-a', { state: 'lost', telemetry })] });
    const l = (gpu: string) => ({ node: 'gpu-b', gpu });
    expect(sut.gpuMemoryTotal).toEqual([{ labels: l('0'), value: 80e9 }, { labels: l('1'), value: 80e9 }]);
    expect(sut.gpuMemoryUsed).toEqual([{ labels: l('0'), value: 12e9 }]);
    expect(sut.gpuTokensPerSecond).toEqual([{ labels: l('0'), value: 150.5 }, { labels: l('1'), value: 0 }]);
  });
});

describe(waitHistogram.name, () => {
  it('turns per-bucket counts into cumulative ones, with everything above the last bound only in the count', () => {
    const sut = waitHistogram([1, 5, 10], [
      { bucket: 0, count: 2, sumSeconds: 1 },
      { bucket: 2, count: 1, sumSeconds: 7 },
      { bucket: 3, count: 3, sumSeconds: 60 },
    ]);
    expect(sut).toEqual({ buckets: [{ le: 1, count: 2 }, { le: 5, count: 2 }, { le: 10, count: 3 }], count: 6, sum: 68 });
  });

  it('is all zeros with no started job', () => {
    expect(waitHistogram([1, 5], [])).toEqual({ buckets: [{ le: 1, count: 0 }, { le: 5, count: 0 }], count: 0, sum: 0 });
  });
});
