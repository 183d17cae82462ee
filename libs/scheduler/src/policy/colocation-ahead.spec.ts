import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: jobs waiting ahead for a GPU to drain', () => {
    // One GPU runs an 8B job; a job ranked ahead (another base model, less work) waits for that GPU to drain; a second
    // 8B job could co-train beside the running one, which would push the drain, and the waiting job's start, back.
    const steps = 10_000;
    const eight = { baseModel: 'llama-3.1-8b', microBatchTokens: 1024 };
    const busy = () => gpu('n1/g0', { jobs: [running('running', { ...eight, remainingTokens: 1.2 * steps * 1024 })] });
    const joiner = queued('joiner', { ...eight, remainingTokens: steps * 1024 });
    const ahead = queued('ahead', { baseModel: 'qwen2.5-7b', microBatchTokens: 1024, remainingTokens: 0.8 * steps * 1024 });

    it('co-trains the second job when nobody waits for the GPU', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus: [busy()], queue: [joiner] });

      expect(result.starts).toEqual([{ jobId: 'joiner', gpuId: 'n1/g0' }]);
    });

    it('keeps it waiting when the delay to the job ahead outweighs what co-training gains', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus: [busy()], queue: [joiner, ahead] });

      expect(result.starts).toEqual([]);
      expect(result.waiting.map((w) => w.jobId)).toEqual(['ahead', 'joiner']);
      expect(result.waiting[1].reason).toEqual({ code: 'colocation_not_beneficial', gpuId: 'n1/g0' });
    });
  });
});
