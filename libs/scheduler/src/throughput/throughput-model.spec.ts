import { describe, expect, it } from 'vitest';
import { ThroughputModel } from './throughput-model';
import { calibration, H100 } from '../testing/scenario';

describe(ThroughputModel.name, () => {
  it('makes co-training a trade-off: total tokens/s rise sublinearly, each job gets fewer', () => {
    const sut = new ThroughputModel(calibration);
    const rate = (k: number) => (k * 2048) / sut.stepSeconds(H100, 'llama-3.1-8b', k * 2048, k);

    expect(rate(2)).toBeGreaterThan(rate(1));
    expect(rate(4)).toBeGreaterThan(rate(2));
    expect(rate(2)).toBeLessThan(2 * rate(1));
    expect(rate(4) / 4).toBeLessThan(rate(2) / 2);
  });

  it('fits measured step times and then predicts them', () => {
    const sut = new ThroughputModel(calibration);
    const prior = new ThroughputModel(calibration);
    const measured = (t: number, k: number) => 1.3 * prior.stepSeconds(H100, 'llama-3.2-3b', t, k) + 0.01 * k;

    for (const k of [1, 2, 3, 4]) for (const t of [2048, 4096, 8192]) sut.observeStep(H100, 'llama-3.2-3b', t * k, k, measured(t * k, k));

    const probe = measured(6144, 3);
    expect(Math.abs(sut.stepSeconds(H100, 'llama-3.2-3b', 6144, 3) - probe) / probe).toBeLessThan(0.02);
    expect(Math.abs(prior.stepSeconds(H100, 'llama-3.2-3b', 6144, 3) - probe) / probe).toBeGreaterThan(0.2);
  });

  it('learns from solo steps only what a step costs, not what a second job adds', () => {
    const sut = new ThroughputModel(calibration);
    const prior = new ThroughputModel(calibration);
    const addedByPrior = prior.stepSeconds(H100, 'llama-3.2-3b', 4096, 2) - prior.stepSeconds(H100, 'llama-3.2-3b', 2048, 1);

    for (let i = 0; i < 20; i++) sut.observeStep(H100, 'llama-3.2-3b', 2048, 1, prior.stepSeconds(H100, 'llama-3.2-3b', 2048, 1) + 0.05);

    const added = sut.stepSeconds(H100, 'llama-3.2-3b', 4096, 2) - sut.stepSeconds(H100, 'llama-3.2-3b', 2048, 1);
    expect(Math.abs(added - addedByPrior)).toBeLessThan(0.005);
  });

  it('refuses an unknown GPU type with a domain error', () => {
    const sut = new ThroughputModel(calibration);
    expect(() => sut.stepSeconds('tpu', 'llama-3.2-1b', 1, 1)).toThrow(expect.objectContaining({ code: 'unknown_gpu_type' }));
  });
});
