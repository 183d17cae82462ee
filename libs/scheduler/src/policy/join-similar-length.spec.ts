import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: a job a little longer than the one running joins it', () => {
    // Small micro-batches leave the GPU under-used: a fused step costs far less than two solo steps.
    const small = { microBatchTokens: 256, seqLen: 256 };

    const first = running('first', { ...small, remainingTokens: 2e6 });
    const busy = () => gpu('n1/g0', { jobs: [first] });

    it('co-trains a job with 1.2x the steps left of the running one', () => {
      const { sut } = groveWithModels();

      const similar = sut.decide({ now: 0, gpus: [busy()], queue: [queued('similar', { ...small, remainingTokens: 2.4e6 })] });

      expect(similar.starts).toEqual([{ jobId: 'similar', gpuId: 'n1/g0' }]);
    });

    it('lets a 3x longer one join only while no job ranked ahead of it waits for the GPU', () => {
      const { sut } = groveWithModels();
      const longer = queued('longer', { ...small, remainingTokens: 6e6 });
      // Less work, another base model: it waits for the GPU to drain, and the longer job must not take that time.
      const ahead = queued('ahead', { baseModel: 'llama-3.2-3b', remainingTokens: 1e6 });

      const alone = sut.decide({ now: 0, gpus: [busy()], queue: [longer] });
      const behind = sut.decide({ now: 0, gpus: [busy()], queue: [longer, ahead] });

      expect(alone.starts).toEqual([{ jobId: 'longer', gpuId: 'n1/g0' }]);
      expect(behind.starts).toEqual([]);
      expect(behind.waiting.find((w) => w.jobId === 'longer')?.reason).toEqual({ code: 'colocation_not_beneficial', gpuId: null });
    });
  });
});
