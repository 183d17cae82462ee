import { describe, expect, it } from 'vitest';
import { checkEarlyStopping } from './early-stopping';

describe(checkEarlyStopping.name, () => {
  it('stops after `patience` evaluations without an improvement larger than min_delta', () => {
    const losses = [2.0, 1.5, 1.2, 1.19, 1.195, 1.18];

    expect(checkEarlyStopping(losses, { patience: 3, minDelta: 0.05 })).toEqual({ stop: true, atEval: 5, bestEval: 2 });
  });

  it('keeps going while the loss still improves by more than min_delta', () => {
    expect(checkEarlyStopping([2.0, 1.8, 1.6, 1.4], { patience: 2, minDelta: 0.05 })).toEqual({ stop: false, bestEval: 3 });
  });

  it('counts a non-finite validation loss as no improvement', () => {
    expect(checkEarlyStopping([1.0, Number.NaN, Number.NaN], { patience: 2, minDelta: 0 })).toEqual({ stop: true, atEval: 2, bestEval: 0 });
  });

  it('rejects a patience below one', () => {
    expect(() => checkEarlyStopping([1], { patience: 0, minDelta: 0 })).toThrow(/patience/);
  });
});
