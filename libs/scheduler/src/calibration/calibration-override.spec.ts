import { describe, expect, it } from 'vitest';
import { CalibrationError, overrideCalibration } from './calibration';
import { calibration } from '../testing/scenario';

describe(overrideCalibration.name, () => {
  it('replaces the given fields of a section and keeps the others', () => {
    const result = overrideCalibration(calibration, { throughput: { saturationTokens: 4096, mfu: 0.72 } });

    expect(result.throughput).toEqual({ ...calibration.throughput, saturationTokens: 4096, mfu: 0.72 });
    expect(result.memory).toEqual(calibration.memory);
    expect(calibration.throughput.saturationTokens).toBe(1024);
  });

  it('adds a GPU type whole and keeps the shipped ones', () => {
    const l40s = { memoryBytes: 48e9, peakFlops: 362e12, hbmBytesPerSecond: 0.864e12 };

    const result = overrideCalibration(calibration, { gpuTypes: { 'l40s-48gb': l40s }, provenance: 'what-if' });

    expect(result.gpuTypes['l40s-48gb']).toEqual(l40s);
    expect(Object.keys(result.gpuTypes)).toEqual([...Object.keys(calibration.gpuTypes), 'l40s-48gb']);
    expect(result.provenance).toBe('what-if');
  });

  it('names an unknown section', () => {
    expect(() => overrideCalibration(calibration, { througput: { mfu: 0.5 } })).toThrow(/unknown section "througput"/);
  });

  it('names the field whose value is invalid', () => {
    expect(() => overrideCalibration(calibration, { throughput: { mfu: 2 } })).toThrow(CalibrationError);
    expect(() => overrideCalibration(calibration, { throughput: { mfu: 2 } })).toThrow(/throughput\.mfu/);
  });

  it('refuses a document that is not an object', () => {
    expect(() => overrideCalibration(calibration, [1, 2])).toThrow(/must be a JSON object/);
    expect(() => overrideCalibration(calibration, { memory: 3 })).toThrow(/memory must be an object/);
  });
});
