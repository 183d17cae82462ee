import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: an idle cordoned GPU is not a place to wait for', () => {
    // Small micro-batches: a fused step costs far less than two solo steps, so co-training beats taking turns.
    const small = { microBatchTokens: 256, seqLen: 256, remainingTokens: 2e6 };

    it('co-trains a burst on the open GPU instead of waiting for the cordoned one', () => {
      const { sut } = groveWithModels();
      const queue = [queued('a', { ...small, arrivalAt: 0 }), queued('b', { ...small, arrivalAt: 1 })];

      const result = sut.decide({ now: 10, gpus: [gpu('n1/g0'), gpu('n2/g0', { cordoned: true })], queue });

      expect(result.starts).toEqual([
        { jobId: 'a', gpuId: 'n1/g0' },
        { jobId: 'b', gpuId: 'n1/g0' },
      ]);
    });
  });
});
