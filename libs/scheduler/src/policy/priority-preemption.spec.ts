import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { gpu, groveWithModels, queued, running } from '../testing/scenario';

describe(GrovePolicy.name, () => {
  describe('decide: priority preemption', () => {
    const now = 10_000;
    // The only GPU runs a low-priority job of another base model, so the urgent job can start only by preemption.
    const lowJob = (overrides = {}) =>
      running('low', { baseModel: 'qwen2.5-7b', priority: 0, startedAt: now - 3600, remainingTokens: 5e8, ...overrides });
    const urgent = queued('urgent', { baseModel: 'llama-3.1-8b', priority: 2, arrivalAt: now, waitingSince: now });

    it('checkpoints a lower-priority job and starts the higher-priority one in its place', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now, gpus: [gpu('n1/g0', { jobs: [lowJob()] })], queue: [urgent] });

      expect(result.preemptions).toEqual([{ jobId: 'low', gpuId: 'n1/g0', forJobId: 'urgent' }]);
      expect(result.starts).toEqual([{ jobId: 'urgent', gpuId: 'n1/g0' }]);
    });

    it('never preempts a run younger than the minimum run time (churn limit)', () => {
      const { sut } = groveWithModels({ minRunSecondsBeforePreemption: 600 });

      const result = sut.decide({ now, gpus: [gpu('n1/g0', { jobs: [lowJob({ startedAt: now - 599 })] })], queue: [urgent] });

      expect(result.preemptions).toEqual([]);
      expect(result.starts).toEqual([]);
      expect(result.waiting.map((w) => w.jobId)).toEqual(['urgent']);
    });

    it('never preempts a job already preempted the maximum number of times (churn limit)', () => {
      const { sut } = groveWithModels({ maxPreemptionsPerJob: 2 });

      const result = sut.decide({ now, gpus: [gpu('n1/g0', { jobs: [lowJob({ preemptions: 2 })] })], queue: [urgent] });

      expect(result.preemptions).toEqual([]);
    });

    it('rejects a config that cannot work, naming the field', () => {
      expect(() => groveWithModels({ agingBoundSeconds: 0 })).toThrow(/agingBoundSeconds must be > 0/);
    });

    it('never preempts a job of the same or a higher class for a longer job', () => {
      const { sut } = groveWithModels();
      const peer = lowJob({ priority: 2, remainingTokens: 1e6 });

      const result = sut.decide({ now, gpus: [gpu('n1/g0', { jobs: [peer] })], queue: [urgent] });

      expect(result.preemptions).toEqual([]);
    });
  });
});
