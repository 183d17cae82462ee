import { describe, expect, it } from 'vitest';
import { MemoryModel } from './memory-model';
import { countBaseParams, countLoraParams } from '../models/model-config';
import { calibration, GIB, H100 } from '../testing/scenario';

describe(MemoryModel.name, () => {
  it('counts base parameters like the published model sizes', () => {
    // Published: Llama 3.1 8B has 8.03 B parameters, Llama 3.2 1B 1.24 B, Qwen2.5 7B 7.62 B.
    expect(countBaseParams(calibration.models['llama-3.1-8b']) / 1e9).toBeCloseTo(8.03, 2);
    expect(countBaseParams(calibration.models['llama-3.2-1b']) / 1e9).toBeCloseTo(1.24, 2);
    expect(countBaseParams(calibration.models['qwen2.5-7b']) / 1e9).toBeCloseTo(7.62, 1);
  });

  it('counts LoRA parameters as r·(d_in + d_out) per targeted layer', () => {
    // Llama 3.1 8B, r=16 on q,k,v,o: 32 layers × 16 × (8192 + 5120 + 5120 + 8192).
    expect(countLoraParams(calibration.models['llama-3.1-8b'], 16, ['q', 'k', 'v', 'o'])).toBe(32 * 16 * 26624);
  });

  it('counts the base weights and the logits chunk once per GPU and every job on top', () => {
    const sut = new MemoryModel(calibration);
    const job = { baseModel: 'llama-3.1-8b', microBatchTokens: 2048, seqLen: 1024, loraRank: 16 };

    const one = sut.predictPeak(H100, [job]);
    const two = sut.predictPeak(H100, [job, job]);

    expect(two - one).toBeCloseTo(sut.analyticJobBytes(job), 0);
    const { contextBytes, logitsChunkBytes } = calibration.memory;
    expect(one - sut.analyticJobBytes(job)).toBe(contextBytes + sut.analyticBaseBytes('llama-3.1-8b') + logitsChunkBytes);
    expect(sut.analyticBaseBytes('llama-3.1-8b') / GIB).toBeCloseTo(14.96, 1);
  });

  it('widens the margin when measurements disagree with the fit', () => {
    const sut = new MemoryModel(calibration);
    const job = { baseModel: 'llama-3.2-1b', microBatchTokens: 2048, seqLen: 1024, loraRank: 16 };
    const before = sut.marginBytes(H100, 80 * GIB, 'llama-3.2-1b');

    for (const extra of [0, 4, 0, 4]) sut.observePeak(H100, [job], sut.predictPeak(H100, [job]) + extra * GIB);

    expect(sut.marginBytes(H100, 80 * GIB, 'llama-3.2-1b')).toBeGreaterThan(before + GIB);
  });

  it('refuses an unknown base model with a domain error', () => {
    const sut = new MemoryModel(calibration);
    expect(() => sut.analyticBaseBytes('nope')).toThrow(expect.objectContaining({ code: 'unknown_model' }));
  });
});
