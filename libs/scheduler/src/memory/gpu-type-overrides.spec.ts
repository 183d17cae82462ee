import { describe, expect, it } from 'vitest';
import { MemoryModel } from './memory-model';
import { calibration, GIB, H100 } from '../testing/scenario';

describe(MemoryModel.name, () => {
  describe('per-GPU-type context and margin', () => {
    it('uses a GPU type’s own context and minimum margin when it has them, the shared ones otherwise', () => {
      const withCpu = { ...calibration, gpuTypes: { ...calibration.gpuTypes, cpu: { memoryBytes: 8 * GIB, peakFlops: 5e10, hbmBytesPerSecond: 2e10, contextBytes: 0.0625 * GIB, marginMinBytes: 0.25 * GIB } } };
      const sut = new MemoryModel(withCpu);

      const shared = calibration.memory.contextBytes;
      expect(sut.baselineBytes(H100, 'llama-3.2-1b') - sut.baselineBytes('cpu', 'llama-3.2-1b')).toBeCloseTo(shared - 0.0625 * GIB, 0);
      expect(sut.marginBytes('cpu', 4 * GIB, null)).toBe(0.25 * GIB);
      expect(sut.marginBytes(H100, 4 * GIB, null)).toBe(calibration.memory.marginMinBytes);
    });
  });
});
