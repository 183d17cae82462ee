import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { GIB, gpu, groveWithModels, H100, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: admission at the memory edge', () => {
    const job = queued('edge', { baseModel: 'llama-3.1-8b', microBatchTokens: 2048 });

    it('starts a job whose predicted peak exactly fills memory minus the margin', () => {
      const { sut, memory } = groveWithModels();
      const need = memory.predictPeak(H100, [job]);
      // Below 50 GiB the margin is its 2 GiB floor, so capacity = memory − 2 GiB.
      const memoryBytes = need + 2 * GIB;
      expect(memory.marginBytes(H100, memoryBytes, job.baseModel)).toBe(2 * GIB);

      const result = sut.decide({ now: 0, gpus: [gpu('n1/g0', { memoryBytes })], queue: [job] });

      expect(result.starts).toEqual([{ jobId: 'edge', gpuId: 'n1/g0' }]);
    });

    it('refuses the same job when the GPU has one byte less, and says why', () => {
      const { sut, memory } = groveWithModels();
      const need = memory.predictPeak(H100, [job]);
      const memoryBytes = need + 2 * GIB - 1;

      const result = sut.decide({ now: 0, gpus: [gpu('n1/g0', { memoryBytes })], queue: [job] });

      expect(result.starts).toEqual([]);
      expect(result.waiting).toEqual([
        {
          jobId: 'edge',
          reason: { code: 'exceeds_gpu_memory', neededBytes: need, largestGpuBytes: memoryBytes },
          estimatedStartAt: null,
          estimatedFinishAt: null,
        },
      ]);
    });

    it('co-locates only while the predicted fused peak fits beside the running job', () => {
      const { sut, memory } = groveWithModels();
      const long = running('long', { remainingTokens: 5e8 });
      const short = queued('short', { remainingTokens: 1e6 });
      const exact = memory.predictPeak(H100, [long, short]) + 2 * GIB;

      const fits = sut.decide({ now: 0, gpus: [gpu('n1/g0', { memoryBytes: exact, jobs: [long] })], queue: [short] });
      const tight = sut.decide({ now: 0, gpus: [gpu('n1/g0', { memoryBytes: exact - 1, jobs: [long] })], queue: [short] });

      expect(fits.starts).toEqual([{ jobId: 'short', gpuId: 'n1/g0' }]);
      expect(tight.starts).toEqual([]);
      expect(tight.waiting[0].reason).toEqual({
        code: 'insufficient_memory',
        neededBytes: memory.jobIncrementBytes(H100, short),
        largestFreeBytes: exact - 1 - 2 * GIB - memory.predictPeak(H100, [long]),
      });
    });
  });
});
