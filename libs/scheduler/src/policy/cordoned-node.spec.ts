import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: cordoned node', () => {
    it('starts nothing on a cordoned node even when it is the idle one', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({
        now: 0,
        gpus: [gpu('n1/g0', { cordoned: true }), gpu('n2/g0')],
        queue: [queued('a'), queued('b', { baseModel: 'llama-3.2-3b' })],
      });

      expect(result.starts.map((s) => s.gpuId)).not.toContain('n1/g0');
      expect(result.starts).toHaveLength(1);
    });

    it('says all matching nodes are cordoned, with no estimate, when nothing else matches', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus: [gpu('n1/g0', { cordoned: true }), gpu('n1/g1', { cordoned: true })], queue: [queued('a')] });

      expect(result.waiting).toEqual([
        { jobId: 'a', reason: { code: 'all_matching_nodes_cordoned', nodes: 1 }, estimatedStartAt: null, estimatedFinishAt: null },
      ]);
    });

    it('leaves jobs already running on a cordoned node alone', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({
        now: 10_000,
        gpus: [gpu('n1/g0', { cordoned: true, jobs: [running('r', { priority: 0 })] })],
        queue: [queued('urgent', { priority: 2, baseModel: 'llama-3.1-8b' })],
      });

      expect(result.preemptions).toEqual([]);
      expect(result.starts).toEqual([]);
    });
  });
});
