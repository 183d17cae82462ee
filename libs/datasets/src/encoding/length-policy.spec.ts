import { describe, expect, it } from 'vitest';
import { EncodedExample } from './encoded-example';
import { applyLengthPolicy } from './length-policy';

const example = (mask: number[]): EncodedExample => ({ ids: mask.map((_, i) => 100 + i), mask });

describe(applyLengthPolicy.name, () => {
  it('keeps an example that fits, untouched', () => {
    const fits = example([0, 0, 1, 1]);
    expect(applyLengthPolicy(fits, 4, 'refuse')).toEqual({ kept: fits, truncated: false });
    expect(applyLengthPolicy(fits, 4, 'truncate')).toEqual({ kept: fits, truncated: false });
  });

  it('drops an example without targets whatever its length', () => {
    expect(applyLengthPolicy(example([0, 0]), 8, 'truncate')).toEqual({ dropped: 'no_targets' });
    expect(applyLengthPolicy(example([0, 0, 0, 0, 0]), 2, 'refuse')).toEqual({ dropped: 'no_targets' });
  });

  it('refuses an overlong example', () => {
    expect(applyLengthPolicy(example([0, 1, 1, 1, 1]), 4, 'refuse')).toEqual({ dropped: 'overlength' });
  });

  it('truncates to the first max_seq_len tokens and cuts non-targets left at the end', () => {
    const long = example([0, 0, 1, 0, 0, 1, 1]);
    expect(applyLengthPolicy(long, 5, 'truncate')).toEqual({ kept: { ids: [100, 101, 102], mask: [0, 0, 1] }, truncated: true });
  });

  it('drops as overlength an example whose truncation leaves no targets', () => {
    expect(applyLengthPolicy(example([0, 0, 0, 0, 1, 1]), 3, 'truncate')).toEqual({ dropped: 'overlength' });
  });
});
