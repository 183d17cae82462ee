import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: jobs waiting ahead for a GPU to drain', () => {
    // One GPU runs an 8B job; jobs ranked ahead (another base model, less work) wait for that GPU to drain; a second 8B
    // job could co-train beside the running one, which would push the drain, and the waiting jobs' starts, back.
    const steps = 10_000;
    const eight = { baseModel: 'llama-3.1-8b', microBatchTokens: 1024 };
    const busy = () => gpu('n1/g0', { jobs: [running('running', { ...eight, remainingTokens: 1.2 * steps * 1024 })] });
    const joiner = queued('joiner', { ...eight, remainingTokens: steps * 1024 });
    const ahead = (count: number, work: number) =>
      Array.from({ length: count }, (_, i) => queued(`ahead-${i}`, { baseModel: 'qwen2.5-7b', microBatchTokens: 1024, remainingTokens: work * steps * 1024 }));

    it('co-trains the second job when nobody waits for the GPU', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus: [busy()], queue: [joiner] });

      expect(result.starts).toEqual([{ jobId: 'joiner', gpuId: 'n1/g0' }]);
    });

    it('still co-trains it when one job ahead waits: that job starts later, but by less than the joiner gains', () => {
      // Alone: 8B at 1,024 tokens a step takes ~0.16 s, a pair of them ~0.24 s. Waiting, the joiner finishes after the
      // running job and the job ahead (~4,900 s); joining, at ~2,400 s, and the drain moves back only ~770 s.
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus: [busy()], queue: [joiner, ...ahead(1, 0.8)] });

      expect(result.starts).toEqual([{ jobId: 'joiner', gpuId: 'n1/g0' }]);
    });

    it('keeps it waiting when many short jobs ahead would each start that much later', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus: [busy()], queue: [joiner, ...ahead(10, 0.15)] });

      expect(result.starts).toEqual([]);
      expect(result.waiting.map((w) => w.jobId)).toEqual([...ahead(10, 0.15).map((j) => j.id), 'joiner']);
      expect(result.waiting[10].reason).toEqual({ code: 'colocation_not_beneficial', gpuId: 'n1/g0' });
    });
  });
});
