import { describe, expect, it } from 'vitest';
import { GrovePolicy } from './grove-policy';
import { FifoPolicy } from './fifo-policy';
import { mean } from '../util/percentile';
import { simulate } from '../sim/simulator';
import { parseTrace } from '../sim/trace';
import { calibration, gpu, groveWithModels, queued } from '../testing/scenario';

/** A sweep: `count` identical fine-tunes of one base model submitted together to one GPU. */
const sweep = (count: number) => Array.from({ length: count }, (_, i) => queued(`sweep-${i}`, { remainingTokens: 2e7 }));

function sweepTrace(count: number) {
  const lines = [JSON.stringify({ type: 'cluster', nodes: [{ id: 'n1', gpuType: 'h100-80gb', gpus: 1 }] })];
  for (const j of sweep(count)) {
    lines.push(
      JSON.stringify({
        type: 'job',
        id: j.id,
        arrivalSeconds: 0,
        baseModel: j.baseModel,
        datasetTokens: j.remainingTokens,
        epochs: 1,
        microBatchTokens: j.microBatchTokens,
        seqLen: j.seqLen,
        loraRank: j.loraRank,
        priority: j.priority,
      }),
    );
  }
  return parseTrace(lines.join('\n'));
}

const meanTurnaround = (r: ReturnType<typeof simulate>) => mean(r.jobs.map((j) => j.finishedAt - j.arrivalAt));

describe(GrovePolicy.name, () => {
  describe('decide: a burst of identical jobs with a queue behind them', () => {
    it('co-trains some of them at once, because the GPU-seconds it saves shorten every wait behind', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus: [gpu('n1/g0')], queue: sweep(6) });

      expect(result.starts.length).toBeGreaterThan(1);
      expect(result.starts.length).toBeLessThan(6);
      expect(new Set(result.starts.map((s) => s.gpuId))).toEqual(new Set(['n1/g0']));
    });

    it('runs two of them one after the other when nothing else waits: as a pair both would finish later in sum', () => {
      const { sut } = groveWithModels();

      const result = sut.decide({ now: 0, gpus: [gpu('n1/g0')], queue: sweep(2) });

      expect(result.starts).toHaveLength(1);
      expect(result.waiting.map((w) => w.jobId)).toEqual(['sweep-1']);
    });

    it('beats running them one at a time and matches or beats mLoRA-style FIFO pairs in mean turnaround', () => {
      const trace = sweepTrace(6);

      const grove = meanTurnaround(simulate(trace, groveWithModels().sut, calibration));
      const oneAtATime = meanTurnaround(simulate(trace, new FifoPolicy(1), calibration));
      const fifoPairs = meanTurnaround(simulate(trace, new FifoPolicy(2), calibration));

      expect(grove).toBeLessThan(oneAtATime * 0.95);
      expect(grove).toBeLessThanOrEqual(fifoPairs);
    });
  });
});
