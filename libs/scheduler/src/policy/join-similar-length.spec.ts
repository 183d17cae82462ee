import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: a job a little longer than the one running joins it', () => {
    // Small micro-batches leave the GPU under-used: a fused step costs far less than two solo steps.
    const small = { microBatchTokens: 256, seqLen: 256 };

    it('co-trains a job with 1.2x the steps left of the running one, and keeps a 3x longer one waiting', () => {
      const { sut } = groveWithModels();
      const first = running('first', { ...small, remainingTokens: 2e6 });

      const similar = sut.decide({ now: 0, gpus: [gpu('n1/g0', { jobs: [first] })], queue: [queued('similar', { ...small, remainingTokens: 2.4e6 })] });
      const longer = sut.decide({ now: 0, gpus: [gpu('n1/g0', { jobs: [first] })], queue: [queued('longer', { ...small, remainingTokens: 6e6 })] });

      expect(similar.starts).toEqual([{ jobId: 'similar', gpuId: 'n1/g0' }]);
      expect(longer.starts).toEqual([]);
      expect(longer.waiting[0]?.reason.code).toBe('colocation_not_beneficial');
    });
  });
});
