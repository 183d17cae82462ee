import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: node selectors and model availability', () => {
    const gpus = [
      gpu('plain/g0', { labels: { zone: 'a' } }),
      gpu('fast/g0', { labels: { zone: 'b', ib: 'true' }, models: ['llama-3.2-1b', 'llama-3.1-8b'] }),
    ];

    it('places a job only on a node whose labels match all of its selector', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus, queue: [queued('picky', { selector: { zone: 'b', ib: 'true' } })] });

      expect(result.starts).toEqual([{ jobId: 'picky', gpuId: 'fast/g0' }]);
    });

    it('reports an unmatched selector', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus, queue: [queued('lost', { selector: { zone: 'c' } })] });

      expect(result.waiting[0].reason).toEqual({ code: 'selector_unmatched', selector: { zone: 'c' } });
    });

    it('reports when the only nodes matching the selector lack the base model', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({
        now: 0,
        gpus: [gpu('fast/g0', { labels: { zone: 'b' }, models: ['llama-3.2-1b'] })],
        queue: [queued('qwen', { baseModel: 'qwen2.5-7b', selector: { zone: 'b' } })],
      });

      expect(result.waiting[0].reason).toEqual({ code: 'no_node_has_model', baseModel: 'qwen2.5-7b' });
    });

    it('reports a base model the scheduler has no config for', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus, queue: [queued('mystery', { baseModel: 'gpt-5' })] });

      expect(result.waiting[0]).toEqual({
        jobId: 'mystery',
        reason: { code: 'unknown_model', baseModel: 'gpt-5' },
        estimatedStartAt: null,
        estimatedFinishAt: null,
      });
    });
  });
});
