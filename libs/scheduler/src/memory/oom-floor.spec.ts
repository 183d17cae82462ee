import { describe, expect, it } from 'vitest';
import { MemoryModel } from './memory-model';
import { GrovePolicy } from '../policy/grove-policy';
import { GIB, gpu, groveWithModels, H100, queued } from '../testing/scenario';

describe(MemoryModel.name, () => {
  describe('observeOom: an OOM is a floor under sets at least that big, not a new intercept', () => {
    const job = (id: string) => queued(id, { microBatchTokens: 16_384, seqLen: 4096, remainingTokens: 1e8 });

    it('after several co-trained OOMs a single job still starts alone, and the sets that ran out are refused', () => {
      const { sut, memory } = groveWithModels();
      const [a, b, c] = [job('a'), job('b'), job('c')];
      const memoryBytes = 80 * GIB;
      const soloBefore = memory.predictPeak(H100, [a]);
      for (const set of [[a, b, c], [a, b], [b, c]]) {
        sut.observe({ kind: 'oom', gpuId: 'n1/g0', droppedJobId: set.at(-1)!.id, gpuType: H100, jobs: set, gpuMemoryBytes: memoryBytes });
      }

      expect(memory.predictPeak(H100, [a])).toBeLessThan(soloBefore + 2 * GIB);
      expect(memory.predictPeak(H100, [a, b])).toBeGreaterThan(memoryBytes);
      const result = sut.decide({ now: 0, gpus: [gpu('n1/g0', { memoryBytes })], queue: [a, b] });
      expect(result.starts).toEqual([{ jobId: expect.any(String), gpuId: 'n1/g0' }]);
    });

    it('does not hold an OOM on a small GPU against a bigger GPU of the same type', () => {
      const { sut } = groveWithModels();
      // Small micro-batches: co-training beats taking turns, so both start together where memory allows.
      const small = { microBatchTokens: 256, seqLen: 256, remainingTokens: 2e6 };
      const [a, b] = [queued('a', small), queued('b', small)];
      sut.observe({ kind: 'oom', gpuId: 'n1/g0', droppedJobId: 'b', gpuType: H100, jobs: [a, b], gpuMemoryBytes: 8 * GIB });

      const result = sut.decide({ now: 0, gpus: [gpu('n2/g0', { memoryBytes: 80 * GIB })], queue: [a, b] });

      expect(result.starts.map((s) => s.jobId).sort()).toEqual(['a', 'b']);
    });
  });
});

// Keeps the import honest: the scenario builds a GrovePolicy.
void GrovePolicy;
