import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: co-location choice', () => {
    const long = running('long', { remainingTokens: 5e8 });

    it('prefers an idle GPU to slowing a running job down', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({
        now: 0,
        gpus: [gpu('n1/g0', { jobs: [long] }), gpu('n1/g1')],
        queue: [queued('short', { remainingTokens: 1e6 })],
      });

      expect(result.starts).toEqual([{ jobId: 'short', gpuId: 'n1/g1' }]);
    });

    it('co-trains a short job beside a long one of the same base model when no GPU is idle', () => {
      const { sut, throughput } = groveWithModels();
      const short = queued('short', { remainingTokens: 1e6 });

      const result = sut.decide({ now: 0, gpus: [gpu('n1/g0', { jobs: [long] })], queue: [short] });

      expect(result.starts).toEqual([{ jobId: 'short', gpuId: 'n1/g0' }]);
      // The trade-off it weighed: together the GPU does more tokens per second, each job fewer.
      const alone = throughput.stepSeconds('h100-80gb', 'llama-3.2-1b', 2048, 1);
      const together = throughput.stepSeconds('h100-80gb', 'llama-3.2-1b', 4096, 2);
      expect(4096 / together).toBeGreaterThan(2048 / alone);
      expect(2048 / together).toBeLessThan(2048 / alone);
    });

    it('keeps a much longer job waiting rather than slow down a job nearly done', () => {
      const { sut } = groveWithModels();
      const nearlyDone = running('nearly-done', { remainingTokens: 1e6 });

      const result = sut.decide({
        now: 0,
        gpus: [gpu('n1/g0', { jobs: [nearlyDone] })],
        queue: [queued('big', { remainingTokens: 5e8 })],
      });

      // It costed joining that GPU (nobody ranked ahead waits) and found waiting cheaper.
      expect(result.starts).toEqual([]);
      expect(result.waiting[0].reason).toEqual({ code: 'colocation_not_beneficial', gpuId: 'n1/g0' });
    });

    it('never co-locates jobs of different base models in one engine process', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({
        now: 0,
        gpus: [gpu('n1/g0', { jobs: [long] })],
        queue: [queued('other-model', { baseModel: 'llama-3.2-3b', remainingTokens: 1e6 })],
      });

      expect(result.starts).toEqual([]);
    });
  });
});
