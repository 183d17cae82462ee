import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: evicting a much longer co-trainee', () => {
    // The long job has run past the minimum run time and has 50× the short job's work left.
    const now = 10_000;

    it('checkpoints a long job rather than co-train beside it when sharing would slow the short job more', () => {
      const { sut, throughput } = groveWithModels();
      const long = running('long', { baseModel: 'llama-3.2-3b', microBatchTokens: 8192, remainingTokens: 5e8 });
      const short = queued('short', { baseModel: 'llama-3.2-3b', microBatchTokens: 8192, remainingTokens: 1e7, arrivalAt: now, waitingSince: now });

      const result = sut.decide({ now, gpus: [gpu('n1/g0', { jobs: [long] })], queue: [short] });

      expect(result.preemptions).toEqual([{ jobId: 'long', gpuId: 'n1/g0', forJobId: 'short' }]);
      expect(result.starts).toEqual([{ jobId: 'short', gpuId: 'n1/g0' }]);
      // Why: with large micro-batches two jobs' fused step takes nearly twice as long as one job's.
      const alone = throughput.stepSeconds('h100-80gb', 'llama-3.2-3b', 8192, 1);
      const together = throughput.stepSeconds('h100-80gb', 'llama-3.2-3b', 16384, 2);
      expect(together / alone).toBeGreaterThan(1.8);
    });

    it('co-trains instead when sharing costs the short job little (small micro-batches)', () => {
      const { sut, throughput } = groveWithModels();
      const long = running('long', { baseModel: 'llama-3.1-8b', microBatchTokens: 1024, remainingTokens: 5e8 });
      const short = queued('short', { baseModel: 'llama-3.1-8b', microBatchTokens: 1024, remainingTokens: 1e7, arrivalAt: now, waitingSince: now });

      const result = sut.decide({ now, gpus: [gpu('n1/g0', { jobs: [long] })], queue: [short] });

      expect(result.preemptions).toEqual([]);
      expect(result.starts).toEqual([{ jobId: 'short', gpuId: 'n1/g0' }]);
      const alone = throughput.stepSeconds('h100-80gb', 'llama-3.1-8b', 1024, 1);
      const together = throughput.stepSeconds('h100-80gb', 'llama-3.1-8b', 2048, 2);
      expect(together / alone).toBeLessThan(1.5);
    });

    it('leaves a long job alone while it is within its minimum run time', () => {
      const { sut } = groveWithModels({ minRunSecondsBeforePreemption: 600 });
      const long = running('long', { baseModel: 'llama-3.2-3b', microBatchTokens: 8192, remainingTokens: 5e8, startedAt: now - 599 });
      const short = queued('short', { baseModel: 'llama-3.2-3b', microBatchTokens: 8192, remainingTokens: 1e7, arrivalAt: now, waitingSince: now });

      const result = sut.decide({ now, gpus: [gpu('n1/g0', { jobs: [long] })], queue: [short] });

      expect(result.preemptions).toEqual([]);
    });
  });
});
