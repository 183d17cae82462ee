import { describe, expect, it } from 'vitest';
import { placeJob, reserve, type GpuSlot, type JobDemand } from './placement';

const GB = 1e9;
const slot = (nodeId: string, gpuIndex: number, over: Partial<GpuSlot> = {}): GpuSlot => ({
  nodeId, gpuIndex, totalBytes: 10 * GB, availableModels: new Set(['llama']), usedBytes: 0, trainingModels: new Set(), dtypeBytes: 2, ...over,
});
// 4 GB of bf16 base weights; 0.5 GB of LoRA state + 0.5 GB of bf16 activations = 1 GB per job.
const job: JobDemand = { modelName: 'llama', baseParams: 2 * GB, loraParams: GB / 32, activationElements: GB / 4 };

describe(placeJob.name, () => {
  it('prefers a GPU already training the same base model, even with less free memory', () => {
    const busy = slot('a', 0, { usedBytes: 5 * GB, trainingModels: new Set(['llama']) });
    const idle = slot('b', 0);
    expect(placeJob(job, [idle, busy])).toBe(busy);
  });

  it('otherwise picks the GPU with the most free memory', () => {
    const fuller = slot('a', 0, { usedBytes: 2 * GB, trainingModels: new Set(['qwen']) });
    const emptier = slot('a', 1);
    expect(placeJob(job, [fuller, emptier])).toBe(emptier);
  });

  it('skips nodes without the model and GPUs without room (base weights counted once per GPU)', () => {
    expect(placeJob(job, [slot('a', 0, { availableModels: new Set(['qwen']) })])).toBeNull();
    expect(placeJob(job, [slot('a', 0, { usedBytes: 4.1 * GB })])).toBeNull(); // 4.1 + 4 + 1 > 9
    expect(placeJob(job, [slot('a', 0, { usedBytes: 7.9 * GB, trainingModels: new Set(['llama']) })])).not.toBeNull(); // 7.9 + 1 ≤ 9
  });

  it('reserve books memory once for the base weights', () => {
    const s = slot('a', 0);
    reserve(s, job);
    reserve(s, job);
    expect(s.usedBytes).toBe(6 * GB);
  });
});
