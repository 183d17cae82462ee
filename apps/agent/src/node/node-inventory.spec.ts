import { describe, expect, it } from 'vitest';
import { cpuSlots, InventoryError, parseNvidiaSmi } from './node-inventory';

describe(parseNvidiaSmi.name, () => {
  it('reads index, name and memory in MiB', () => {
    expect(parseNvidiaSmi('0, NVIDIA H200, 143771\n1, NVIDIA H200, 143771\n')).toEqual([
      { index: 0, name: 'NVIDIA H200', totalMemoryBytes: 143771 * 2 ** 20 },
      { index: 1, name: 'NVIDIA H200', totalMemoryBytes: 143771 * 2 ** 20 },
    ]);
  });

  it('refuses a line it does not understand', () => {
    expect(() => parseNvidiaSmi('0, NVIDIA H200, [N/A]')).toThrow(InventoryError);
  });
});

describe(cpuSlots.name, () => {
  it('names each slot with its memory budget', () => {
    expect(cpuSlots(2, 1024)).toEqual([
      { index: 0, name: 'cpu-slot-0', totalMemoryBytes: 1024 },
      { index: 1, name: 'cpu-slot-1', totalMemoryBytes: 1024 },
    ]);
  });
});
