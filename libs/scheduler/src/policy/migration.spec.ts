import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { simulate } from '../sim/simulator';
import { SimulatedTruthModels } from '../sim/simulated-cluster';
import { parseTrace } from '../sim/trace';
import { calibration, gpu, groveWithModels, queued, running } from '../testing/scenario';

const A100 = 'a100-40gb';
const now = 20_000;
const slow = (jobs: ReturnType<typeof running>[]) =>
  gpu('a/g0', { gpuType: A100, memoryBytes: calibration.gpuTypes[A100].memoryBytes, labels: { gpu: 'a100' }, jobs });
const fast = () => gpu('h/g0', { labels: { gpu: 'h100' } });
const long = (overrides: Parameters<typeof running>[1] = {}) =>
  running('long', { baseModel: 'llama-3.2-3b', remainingTokens: 5e8, startedAt: now - 3600, ...overrides });

describe(GrovePolicy.name, () => {
  describe('decide: moving to a faster GPU that fell idle', () => {
    it('checkpoints a long job on a slower GPU so it restarts on the idle faster one', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now, gpus: [slow([long()]), fast()], queue: [] });

      expect(result.preemptions).toEqual([{ jobId: 'long', gpuId: 'a/g0', forJobId: 'long', toGpuId: 'h/g0' }]);
    });

    it('gives the idle GPU to a waiting job that can use it instead', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now, gpus: [slow([long()]), fast()], queue: [queued('waiting', { baseModel: 'llama-3.1-8b' })] });

      expect(result.starts).toEqual([{ jobId: 'waiting', gpuId: 'h/g0' }]);
      expect(result.preemptions).toEqual([]);
    });

    it('leaves a job whose selector excludes the faster GPU', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now, gpus: [slow([long({ selector: { gpu: 'a100' } })]), fast()], queue: [] });

      expect(result.preemptions).toEqual([]);
    });

    it('leaves a job so nearly done that the move would not pay for its checkpoint', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now, gpus: [slow([long({ remainingTokens: 2e5 })]), fast()], queue: [] });

      expect(result.preemptions).toEqual([]);
    });

    it('respects the churn limits: minimum run time and preemptions per job', () => {
      const { sut } = groveWithModels({ minRunSecondsBeforePreemption: 600, maxPreemptionsPerJob: 2 });

      const recent = sut.decide({ now, gpus: [slow([long({ startedAt: now - 599 })]), fast()], queue: [] });
      const capped = sut.decide({ now, gpus: [slow([long({ preemptions: 2 })]), fast()], queue: [] });

      expect(recent.preemptions).toEqual([]);
      expect(capped.preemptions).toEqual([]);
    });
  });

  describe('simulated: a job that had to start on a slow GPU', () => {
    // One H100 busy with a short job when a long 3B job arrives, so the long one starts on the A100.
    const job = (id: string, arrivalSeconds: number, datasetTokens: number) => ({
      type: 'job',
      id,
      arrivalSeconds,
      baseModel: 'llama-3.2-3b',
      datasetTokens,
      epochs: 1,
      microBatchTokens: 4096,
      seqLen: 1024,
      loraRank: 16,
      priority: 1,
    });
    const lines = [
      { type: 'cluster', nodes: [{ id: 'h', gpuType: 'h100-80gb', gpus: 1 }, { id: 'a', gpuType: A100, gpus: 1 }] },
      job('short', 0, 2e7),
      job('long', 60, 3e8),
    ];
    const trace = parseTrace(lines.map((l) => JSON.stringify(l)).join('\n'));

    it('finishes on the fast GPU once it frees, sooner than it would have on the slow one', () => {
      const { sut } = groveWithModels();
      const truth = new SimulatedTruthModels(calibration);
      const onSlow = (3e8 / 4096) * truth.stepSeconds(A100, 'llama-3.2-3b', 4096, 1);

      const result = simulate(trace, sut, calibration);

      const outcome = result.jobs.find((j) => j.id === 'long');
      expect(outcome?.preemptions).toBe(1);
      expect((outcome?.finishedAt ?? Infinity) - 60).toBeLessThan(0.6 * onSlow);
    });
  });
});
