import { describe, expect, it } from 'vitest';
import { idealReferenceMeanTurnaround } from './ideal-reference';
import { SimulatedTruthModels } from './simulated-cluster';
import { parseTrace } from './trace';
import { calibration } from '../testing/scenario';

const truth = new SimulatedTruthModels(calibration);
const model = 'llama-3.2-1b';
const stepAlone = truth.stepSeconds('h100-80gb', model, 2048, 1);
const stepPair = truth.stepSeconds('h100-80gb', model, 4096, 2);

function trace(jobs: { id: string; at: number; steps: number; priority?: number }[], gpus = 1) {
  const lines = [
    { type: 'cluster', nodes: [{ id: 'n1', gpuType: 'h100-80gb', gpus }] },
    ...jobs.map((j) => ({
      type: 'job',
      id: j.id,
      arrivalSeconds: j.at,
      baseModel: model,
      datasetTokens: j.steps * 2048,
      epochs: 1,
      microBatchTokens: 2048,
      seqLen: 1024,
      loraRank: 16,
      priority: j.priority ?? 1,
    })),
  ];
  return parseTrace(lines.map((l) => JSON.stringify(l)).join('\n'));
}

describe(idealReferenceMeanTurnaround.name, () => {
  it('runs the shorter of two waiting jobs first on one GPU (SRPT)', () => {
    const t = trace([
      { id: 'long', at: 0, steps: 3000 },
      { id: 'short', at: 0, steps: 1000 },
    ]);

    const mean = idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 1 });

    expect(mean).toBeCloseTo((1000 * stepAlone + 4000 * stepAlone) / 2, 6);
  });

  it('preempts a running job for a shorter arrival at no cost', () => {
    const t = trace([
      { id: 'long', at: 0, steps: 3000 },
      { id: 'short', at: 100, steps: 100 },
    ]);

    const mean = idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 1 });

    // short runs from 100 s; long finishes after all 3,100 steps of work.
    expect(mean).toBeCloseTo((100 * stepAlone + 3100 * stepAlone) / 2, 6);
  });

  it('serves a higher priority first even when it has more work', () => {
    const t = trace([
      { id: 'urgent', at: 0, steps: 3000, priority: 2 },
      { id: 'short', at: 0, steps: 1000 },
    ]);

    const mean = idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 1 });

    expect(mean).toBeCloseTo((3000 * stepAlone + 4000 * stepAlone) / 2, 6);
  });

  it('co-trains up to jobsPerGpu jobs of one base model at the fused step time', () => {
    const t = trace([
      { id: 'a', at: 0, steps: 1000 },
      { id: 'b', at: 0, steps: 3000 },
    ]);

    const mean = idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 2 });

    // Both advance one step per fused step until a finishes, then b runs alone.
    expect(mean).toBeCloseTo((1000 * stepPair + (1000 * stepPair + 2000 * stepAlone)) / 2, 6);
  });

  it('uses every GPU', () => {
    const t = trace(
      [
        { id: 'a', at: 0, steps: 1000 },
        { id: 'b', at: 0, steps: 1000 },
      ],
      2,
    );

    expect(idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 1 })).toBeCloseTo(1000 * stepAlone, 6);
  });

  describe('rollout grouping', () => {
    it('runs two equal jobs one after the other: as a pair both would finish later in sum', () => {
      // Serially they finish at p and 2p; a fused 2 × 2,048-token step is ~1.6× a solo one, so as a pair both at 1.6p.
      const t = trace([
        { id: 'a', at: 0, steps: 1000 },
        { id: 'b', at: 0, steps: 1000 },
      ]);

      const mean = idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 2, grouping: 'rollout' });

      expect(stepPair).toBeGreaterThan(1.5 * stepAlone);
      expect(mean).toBeCloseTo((1000 * stepAlone + 2000 * stepAlone) / 2, 6);
    });

    it('pairs jobs when enough wait for the throughput the pair saves, and beats both fixed choices', () => {
      const jobs = Array.from({ length: 6 }, (_, i) => ({ id: `j${i}`, at: 0, steps: 1000 }));
      const t = trace(jobs);

      const rollout = idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 2, grouping: 'rollout' });
      const alone = idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 1 });
      const pairs = idealReferenceMeanTurnaround(t, calibration, { jobsPerGpu: 2 });

      expect(rollout).toBeLessThan(alone);
      expect(rollout).toBeLessThanOrEqual(pairs);
    });
  });
});
