import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { simulate } from '../sim/simulator';
import { parseTrace } from '../sim/trace';
import { calibration, gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: aging', () => {
    const bound = 4 * 3600;
    // A waiting job must hold a GPU by 90 % of the bound; securing one as an aged job takes at least the minimum run.
    const config = { agingBoundSeconds: bound, agingDeadlineFraction: 0.9, minRunSecondsBeforePreemption: 600 };
    const allowed = 0.9 * bound;
    const now = 100_000;
    const fresh = queued('fresh-high', { priority: 2, baseModel: 'qwen2.5-7b', waitingSince: now, arrivalAt: now });

    it('lets a low-priority job outrank a fresh high-priority one once waiting on could miss its deadline', () => {
      const { sut } = groveWithModels(config);
      const old = queued('old-low', { priority: 0, baseModel: 'llama-3.1-8b', microBatchTokens: 4096, waitingSince: now - (allowed - 600) });

      const result = sut.decide({ now, gpus: [gpu('n1/g0')], queue: [fresh, old] });

      expect(result.starts).toEqual([{ jobId: 'old-low', gpuId: 'n1/g0' }]);
      expect(sut.agedJobIds({ now, gpus: [gpu('n1/g0')], queue: [fresh, old] })).toEqual(['old-low']);
    });

    it('keeps strict priority while the job can still be sure of a GPU in time', () => {
      const { sut } = groveWithModels(config);
      const waiting = queued('low', { priority: 0, baseModel: 'llama-3.1-8b', microBatchTokens: 4096, waitingSince: now - (allowed - 601) });

      const result = sut.decide({ now, gpus: [gpu('n1/g0')], queue: [waiting, fresh] });

      expect(result.starts).toEqual([{ jobId: 'fresh-high', gpuId: 'n1/g0' }]);
    });

    describe('when the only GPU holds a job that arrived before it (an aged job cannot preempt that one)', () => {
      // Half the time to the deadline has passed; the blocker's run is protected, so the fresh job cannot preempt it.
      const low = queued('low', { priority: 0, baseModel: 'llama-3.1-8b', waitingSince: now - allowed / 2, arrivalAt: now - allowed / 2 });
      const holding = (remainingTokens: number) =>
        gpu('n1/g0', { jobs: [running('blocker', { baseModel: 'llama-3.2-3b', remainingTokens, arrivalAt: 0, startedAt: now })] });

      it('ages the job early when the blocker finishes after its deadline, so it ranks first', () => {
        const { sut } = groveWithModels(config);
        const state = { now, gpus: [holding(1e9)], queue: [fresh, low] };

        const result = sut.decide(state);

        expect(sut.agedJobIds(state)).toEqual(['low']);
        expect(result.starts).toEqual([]);
        expect(result.waiting.map((w) => w.jobId)).toEqual(['low', 'fresh-high']);
        expect(result.waiting[1].reason).toEqual({ code: 'behind_higher_priority', count: 1 });
      });

      it('does not age it while the blocker finishes soon', () => {
        const { sut } = groveWithModels(config);
        const state = { now, gpus: [holding(1e5)], queue: [fresh, low] };

        const result = sut.decide(state);

        expect(sut.agedJobIds(state)).toEqual([]);
        expect(result.waiting.find((w) => w.jobId === 'low')?.reason).toEqual({ code: 'behind_higher_priority', count: 1 });
      });
    });
  });

  describe('simulated: no starvation past the bound', () => {
    const bound = 2 * 3600;
    const lines = [
      { type: 'cluster', nodes: [{ id: 'n1', gpuType: 'h100-80gb', gpus: 1 }] },
      job('low', 60, 0, 3e8),
      // An urgent 8B job every 20 minutes for 23 hours, each about 18 minutes of work, on one GPU.
      ...Array.from({ length: 70 }, (_, k) => job(`urgent-${k}`, 300 + k * 1200, 2, 1e7)),
    ];
    const trace = parseTrace(lines.map((l) => JSON.stringify(l)).join('\n'));

    it('keeps every wait within the bound', () => {
      const { sut } = groveWithModels({ agingBoundSeconds: bound });

      const result = simulate(trace, sut, calibration);

      expect(result.unfinished).toEqual([]);
      expect(Math.max(...result.jobs.map((j) => j.maxWaitSeconds))).toBeLessThanOrEqual(bound);
    }, 60_000);

    it('breaks the bound when aging is switched off (the same workload starves someone)', () => {
      const { sut } = groveWithModels({ agingBoundSeconds: bound, agingDeadlineFraction: 100 });

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
