import { describe, expect, it } from 'vitest';
import { overrideCalibration } from '../calibration/calibration';
import { GrovePolicy, defaultGroveConfig } from '../policy/grove-policy';
import { MemoryModel } from '../memory/memory-model';
import { ThroughputModel } from '../throughput/throughput-model';
import { calibration } from '../testing/scenario';
import { seededRandom } from '../util/seeded-random';
import { simulate } from './simulator';
import { parseTrace, type Trace } from './trace';

const MODELS = ['llama-3.2-1b', 'llama-3.2-3b', 'llama-3.1-8b', 'qwen2.5-7b'];

/**
 * A random overloaded workload on a mixed cluster: H100s that serve every model, A100s that serve the small ones, a
 * node cordoned for a while, heavy-tailed sizes, three priorities, some selectors.
 */
function randomTrace(seed: number): Trace {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const lines: object[] = [
    {
      type: 'cluster',
      nodes: [
        { id: 'h1', gpuType: 'h100-80gb', gpus: 2, labels: { gpu: 'h100' } },
        { id: 'h2', gpuType: 'h100-80gb', gpus: 1, labels: { gpu: 'h100' } },
        { id: 'a1', gpuType: 'a100-40gb', gpus: 2, labels: { gpu: 'a100' }, models: ['llama-3.2-1b', 'llama-3.2-3b'] },
      ],
    },
    { type: 'cordon', atSeconds: 1800 + r() * 1800, node: 'h2' },
    { type: 'uncordon', atSeconds: 5400 + r() * 1800, node: 'h2' },
  ];
  let t = 0;
  for (let i = 0; i < 36; i++) {
    t += -Math.log(1 - r()) * 240;
    const baseModel = pick(MODELS);
    const big = baseModel === 'llama-3.1-8b' || baseModel === 'qwen2.5-7b';
    const microBatchTokens = pick(big ? [1024, 2048, 4096] : [2048, 4096, 8192]);
    lines.push({
      type: 'job',
      id: `j${i}`,
      arrivalSeconds: Math.round(t),
      baseModel,
      datasetTokens: Math.round(Math.exp(Math.log(2e6) + r() * Math.log(40))),
      epochs: pick([1, 2]),
      microBatchTokens,
      seqLen: Math.min(microBatchTokens, pick([512, 1024, 2048])),
      loraRank: pick([8, 16, 64]),
      priority: pick([0, 1, 1, 2]),
      ...(r() < 0.2 ? { selector: { gpu: big ? 'h100' : pick(['h100', 'a100']) } } : {}),
    });
  }
  return parseTrace(lines.map((l) => JSON.stringify(l)).join('\n'));
}

const highGain = overrideCalibration(calibration, { throughput: { saturationTokens: 4096, mfu: 0.72 } });

describe('Grove on random workloads (8 seeds, two calibrations)', () => {
  for (const [name, cal] of [['shipped calibration', calibration], ['high co-training gain', highGain]] as const) {
    it(`finishes every job, never runs out of memory and keeps every wait within the bound: ${name}`, () => {
      for (let seed = 1; seed <= 8; seed++) {
        const trace = randomTrace(seed);
        const policy = new GrovePolicy(new MemoryModel(cal), new ThroughputModel(cal), defaultGroveConfig);

        const result = simulate(trace, policy, cal);

        expect({ seed, unfinished: result.unfinished, ooms: result.ooms }).toEqual({ seed, unfinished: [], ooms: 0 });
        expect(result.jobs).toHaveLength(trace.jobs.length);
        const longest = Math.max(...result.jobs.map((j) => j.maxWaitSeconds));
        expect({ seed, withinBound: longest <= defaultGroveConfig.agingBoundSeconds }).toEqual({ seed, withinBound: true });
      }
    }, 60_000);
  }
});
