import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { simulate } from '../sim/simulator';
import { parseTrace } from '../sim/trace';
import { calibration, gpu, groveWithModels, queued } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: aging', () => {
    const bound = 4 * 3600;

    it('lets a low-priority job that has waited half the bound outrank a fresh high-priority job', () => {
      const { sut } = groveWithModels({ agingBoundSeconds: bound, agingStartFraction: 0.5 });
      const now = 100_000;
      const old = queued('old-low', { priority: 0, baseModel: 'llama-3.1-8b', microBatchTokens: 4096, waitingSince: now - bound / 2 });
      const fresh = queued('fresh-high', { priority: 2, baseModel: 'qwen2.5-7b', waitingSince: now, arrivalAt: now });

      const result = sut.decide({ now, gpus: [gpu('n1/g0')], queue: [fresh, old] });

      expect(result.starts).toEqual([{ jobId: 'old-low', gpuId: 'n1/g0' }]);
    });

    it('keeps strict priority before a job reaches the aging threshold', () => {
      const { sut } = groveWithModels({ agingBoundSeconds: bound, agingStartFraction: 0.5 });
      const now = 100_000;
      const waiting = queued('low', { priority: 0, baseModel: 'llama-3.1-8b', microBatchTokens: 4096, waitingSince: now - bound / 2 + 1 });
      const fresh = queued('high', { priority: 2, baseModel: 'qwen2.5-7b', waitingSince: now, arrivalAt: now });

      const result = sut.decide({ now, gpus: [gpu('n1/g0')], queue: [waiting, fresh] });

      expect(result.starts).toEqual([{ jobId: 'high', gpuId: 'n1/g0' }]);
    });
  });

  describe('simulated: no starvation past the bound', () => {
    const bound = 2 * 3600;
    const lines = [
      { type: 'cluster', nodes: [{ id: 'n1', gpuType: 'h100-80gb', gpus: 1 }] },
      job('low', 60, 0, 3e8),
      // An urgent 8B job every 20 minutes for 17 hours, each about 18 minutes of work, on one GPU.
      ...Array.from({ length: 50 }, (_, k) => job(`urgent-${k}`, 300 + k * 1200, 2, 1e7)),
    ];
    const trace = parseTrace(lines.map((l) => JSON.stringify(l)).join('\n'));

    it('keeps every wait within the bound', () => {
      const { sut } = groveWithModels({ agingBoundSeconds: bound, agingStartFraction: 0.5 });

      const result = simulate(trace, sut, calibration);

      expect(result.unfinished).toEqual([]);
      expect(Math.max(...result.jobs.map((j) => j.maxWaitSeconds))).toBeLessThanOrEqual(bound);
    }, 60_000);

    it('breaks the bound when aging is switched off (the same workload starves someone)', () => {
      const { sut } = groveWithModels({ agingBoundSeconds: bound, agingStartFraction: 100 });

      const result = simulate(trace, sut, calibration);

      expect(Math.max(...result.jobs.map((j) => j.maxWaitSeconds))).toBeGreaterThan(bound);
    }, 60_000);
  });
});

function job(id: string, arrivalSeconds: number, priority: number, tokens: number) {
  return {
    type: 'job',
    id,
    arrivalSeconds,
    baseModel: 'llama-3.1-8b',
    datasetTokens: tokens,
    epochs: 1,
    microBatchTokens: 4096,
    seqLen: 2048,
    loraRank: 16,
    priority,
  };
}
