import { describe, expect, it } from 'vitest';
import { parseKeyValues, parseLabelEdits } from './key-value';

describe(parseLabelEdits.name, () => {
  it('sets key=value and removes key-', () => {
    expect(parseLabelEdits(['gpu=a100', 'zone-', 'note=a=b', 'empty='])).toEqual({ gpu: 'a100', zone: null, note: 'a=b', empty: '' });
  });

  it('refuses edits that are neither, a key named twice, and no edits', () => {
    expect(() => parseLabelEdits(['gpu'])).toThrow(/key=value or key-/);
    expect(() => parseLabelEdits(['=x'])).toThrow(/key=value or key-/);
    expect(() => parseLabelEdits(['-'])).toThrow(/key=value or key-/);
    expect(() => parseLabelEdits(['gpu=a', 'gpu-'])).toThrow(/named twice/);
    expect(() => parseLabelEdits([])).toThrow(/at least one/);
  });
});

describe(parseKeyValues.name, () => {
  it('splits at the first =', () => {
    expect(parseKeyValues(['sha=abc', 'url=a=b'], '--metadata')).toEqual({ sha: 'abc', url: 'a=b' });
    expect(() => parseKeyValues(['sha'], '--metadata')).toThrow(/--metadata "sha" must be key=value/);
  });
});
