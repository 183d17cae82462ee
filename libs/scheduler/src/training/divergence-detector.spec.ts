import { describe, expect, it } from 'vitest';
import { detectDivergence, DivergenceDetector } from './divergence';

describe(DivergenceDetector.name, () => {
  const rule = { emaAlpha: 0.5, factor: 2, patience: 3, warmupSteps: 2 };

  it('reaches the same verdict fed one step at a time as over the whole curve', () => {
    const losses = [4, 3, 2, 1.5, 1.2, 3, 5, 8, 13, 21];
    const sut = new DivergenceDetector(rule);
    const live = losses.map((loss, step) => sut.push(step, loss)).find((v) => v.diverged);
    expect(live).toEqual(detectDivergence(losses, rule));
    expect(live).toMatchObject({ diverged: true, cause: 'loss_blowup' });
  });

  it('ignores a step it has already seen (heartbeats may repeat steps)', () => {
    const sut = new DivergenceDetector(rule);
    sut.push(0, 2);
    expect(sut.push(0, Number.NaN)).toEqual({ diverged: false });
    expect(sut.push(1, Number.NaN)).toEqual({ diverged: true, step: 1, cause: 'non_finite_loss' });
  });
});
