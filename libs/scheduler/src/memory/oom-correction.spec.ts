import { describe, expect, it } from 'vitest';
import { MemoryModel } from './memory-model';
import { GrovePolicy } from '../policy/grove-policy';
import { simulate } from '../sim/simulator';
import { parseTrace } from '../sim/trace';
import { calibration, GIB, gpu, groveWithModels, H100, queued, running } from '../testing/scenario';

describe(MemoryModel.name, () => {
  describe('observeOom: an OOM corrects the model', () => {
    it('refuses the placement that ran out of memory once the OOM is reported', () => {
      const { sut, memory } = groveWithModels();
      const resident = running('resident', { remainingTokens: 5e8 });
      const newcomer = queued('newcomer', { remainingTokens: 1e6 });
      const memoryBytes = memory.predictPeak(H100, [resident, newcomer]) + 2 * GIB;
      const state = { now: 0, gpus: [gpu('n1/g0', { memoryBytes, jobs: [resident] })], queue: [newcomer] };
      expect(sut.decide(state).starts).toEqual([{ jobId: 'newcomer', gpuId: 'n1/g0' }]);

      sut.observe({ kind: 'oom', gpuId: 'n1/g0', droppedJobId: 'newcomer', gpuType: H100, jobs: [resident, newcomer], gpuMemoryBytes: memoryBytes });

      expect(memory.predictPeak(H100, [resident, newcomer])).toBeGreaterThan(memoryBytes);
      expect(sut.decide(state).starts).toEqual([]);
    });

    it('learns a steady under-prediction from measured peaks (least squares on B·L and B·L²)', () => {
      const memory = new MemoryModel(calibration);
      const analytic = new MemoryModel(calibration);
      const shapes = [1024, 2048, 4096, 8192].map((t) => ({ baseModel: 'llama-3.2-1b', microBatchTokens: t, seqLen: 1024, loraRank: 16 }));
      const truth = (jobs: typeof shapes) =>
        analytic.predictPeak(H100, jobs) + 1.5 * GIB + jobs.reduce((s, j) => s + 100_000 * j.microBatchTokens, 0);
      const probe = [shapes[1], shapes[2]];
      const before = truth(probe) - memory.predictPeak(H100, probe);

      for (const a of shapes) for (const b of shapes) memory.observePeak(H100, [a, b], truth([a, b]));

      const after = Math.abs(truth(probe) - memory.predictPeak(H100, probe));
      expect(before).toBeGreaterThan(GIB);
      expect(after).toBeLessThan(0.05 * before);
    });
  });

  describe('simulated: an OOM requeues the job, never fails it', () => {
    it('finishes every job although the real peak is far above the prediction', () => {
      const understated = {
        ...calibration,
        simulatedTruth: { ...calibration.simulatedTruth, memoryExtraBytesPerToken: 10_000_000 },
      };
      const lines = [
        { type: 'cluster', nodes: [{ id: 'n1', gpuType: 'h100-80gb', gpus: 1 }] },
        ...Array.from({ length: 6 }, (_, k) => ({
          type: 'job',
          id: `j${k}`,
          arrivalSeconds: 0,
          baseModel: 'llama-3.2-1b',
          // j0 outranks the rest and is longest, so the first round co-trains a shorter job beside it before any
          // peak has been measured: the real peak is far above the analytic prediction and the engine runs out.
          datasetTokens: 2e6 * (6 - k),
          epochs: 1,
          microBatchTokens: 4096,
          seqLen: 1024,
          loraRank: 16,
          priority: k === 0 ? 2 : 1,
        })),
      ];
      const trace = parseTrace(lines.map((l) => JSON.stringify(l)).join('\n'));
      const { sut } = groveWithModels();

      const result = simulate(trace, sut as GrovePolicy, understated);

      expect(result.ooms).toBeGreaterThan(0);
      expect(result.unfinished).toEqual([]);
      expect(result.jobs).toHaveLength(6);
      expect(result.jobs.filter((j) => j.ooms > 0).every((j) => Number.isFinite(j.finishedAt))).toBe(true);
    });
  });
});
