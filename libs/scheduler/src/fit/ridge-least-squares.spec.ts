import { describe, expect, it } from 'vitest';
import { RidgeLeastSquares } from './ridge-least-squares';

describe(RidgeLeastSquares.name, () => {
  it('recovers the coefficients of noiseless linear data', () => {
    const sut = new RidgeLeastSquares(3, 1e-9);
    for (let a = 0; a < 5; a++) for (let b = 0; b < 5; b++) sut.add([1, a, b * b], 2 + 3 * a - 0.5 * b * b);

    const [c0, c1, c2] = sut.coefficients();

    expect(c0).toBeCloseTo(2, 6);
    expect(c1).toBeCloseTo(3, 6);
    expect(c2).toBeCloseTo(-0.5, 6);
    expect(sut.rmse()).toBeLessThan(1e-6);
  });

  it('stays at zero before any sample and shrinks toward zero with few samples', () => {
    const sut = new RidgeLeastSquares(2, 10);
    expect(Array.from(sut.coefficients())).toEqual([0, 0]);

    sut.add([1, 1], 4);

    const [c0, c1] = sut.coefficients();
    expect(c0 + c1).toBeGreaterThan(0);
    expect(c0 + c1).toBeLessThan(4);
  });

  it('rejects non-finite samples and wrong widths', () => {
    const sut = new RidgeLeastSquares(2, 1);
    expect(() => sut.add([1], 1)).toThrow(/expected 2 features/);
    expect(() => sut.add([1, Number.NaN], 1)).toThrow(/finite/);
  });
});
