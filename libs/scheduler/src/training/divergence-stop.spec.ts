import { describe, expect, it } from 'vitest';
import { detectDivergence, type DivergenceRule } from './divergence';

describe(detectDivergence.name, () => {
  const rule: DivergenceRule = { emaAlpha: 0.5, factor: 2, patience: 3, warmupSteps: 2 };
  const decaying = Array.from({ length: 40 }, (_, i) => 3 * Math.exp(-i / 10) + 0.5);

  it('stops at once on a NaN or infinite loss', () => {
    expect(detectDivergence([2.1, 2.0, Number.NaN, 1.9], rule)).toEqual({ diverged: true, step: 2, cause: 'non_finite_loss' });
    expect(detectDivergence([2.1, Infinity], rule)).toEqual({ diverged: true, step: 1, cause: 'non_finite_loss' });
  });

  it('stops a run that learned and then blew up, after `patience` steps above factor × best EMA', () => {
    const losses = [...decaying, 50, 50, 50, 50, 50];
    const verdict = detectDivergence(losses, rule);

    expect(verdict).toMatchObject({ diverged: true, cause: 'loss_blowup' });
    expect(verdict.diverged && verdict.step).toBeGreaterThanOrEqual(decaying.length + rule.patience - 1);
  });

  it('lets a healthy run with a single noisy spike continue', () => {
    const losses = [...decaying.slice(0, 20), 6, ...decaying.slice(20)];

    expect(detectDivergence(losses, rule)).toEqual({ diverged: false });
  });

  it('ignores a high start during warm-up', () => {
    expect(detectDivergence([9, 20, 5, 3, 2, 1.5], { ...rule, warmupSteps: 3 })).toEqual({ diverged: false });
  });

  it('rejects a rule that could never fire or always fires', () => {
    expect(() => detectDivergence([1], { ...rule, factor: 1 })).toThrow(/factor > 1/);
  });
});
