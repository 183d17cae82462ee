import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: waiting reasons and estimates', () => {
    const now = 1_000;
    // One GPU, fully taken by an 8B job of another model that is too young to preempt.
    const busy = gpu('n1/g0', {
      jobs: [running('busy', { baseModel: 'qwen2.5-7b', microBatchTokens: 4096, priority: 3, remainingTokens: 2e7, startedAt: now })],
    });

    it('gives every waiting job a machine-readable reason', () => {
      const { sut, memory } = groveWithModels();
      const queue = [
        queued('high', { baseModel: 'llama-3.1-8b', priority: 2, remainingTokens: 1e7 }),
        queued('low-a', { baseModel: 'llama-3.1-8b', priority: 0, remainingTokens: 2e7 }),
        queued('low-b', { baseModel: 'llama-3.1-8b', priority: 0, remainingTokens: 3e7 }),
      ];

      const result = sut.decide({ now, gpus: [busy], queue });

      expect(result.starts).toEqual([]);
      const reasons = Object.fromEntries(result.waiting.map((w) => [w.jobId, w.reason]));
      expect(reasons['high']).toEqual({
        code: 'insufficient_memory',
        neededBytes: memory.predictPeak('h100-80gb', [queue[0]]),
        largestFreeBytes: 0,
      });
      expect(reasons['low-a']).toEqual({ code: 'behind_higher_priority', count: 1 });
      expect(reasons['low-b']).toEqual({ code: 'behind_higher_priority', count: 1 });
    });

    it('estimates start and finish times in queue order, after the running job drains', () => {
      const { sut, throughput } = groveWithModels();
      const queue = [
        queued('first', { baseModel: 'llama-3.1-8b', priority: 2, remainingTokens: 1e7 }),
        queued('second', { baseModel: 'llama-3.1-8b', priority: 1, remainingTokens: 1e7 }),
      ];

      const { waiting } = sut.decide({ now, gpus: [busy], queue });

      const busyDrain = now + 2e7 / throughput.soloTokensPerSecond('h100-80gb', 'qwen2.5-7b', 4096);
      const solo = 1e7 / throughput.soloTokensPerSecond('h100-80gb', 'llama-3.1-8b', 2048);
      expect(waiting.map((w) => w.jobId)).toEqual(['first', 'second']);
      expect(waiting[0].estimatedStartAt).toBeCloseTo(busyDrain, 6);
      expect(waiting[0].estimatedFinishAt).toBeCloseTo(busyDrain + solo, 6);
      expect(waiting[1].estimatedStartAt).toBeCloseTo(busyDrain + solo, 6);
      expect(waiting[1].estimatedFinishAt).toBeCloseTo(busyDrain + 2 * solo, 6);
    });
  });
});
