import { describe, expect, it } from 'vitest';
import type { EngineMemory, StepEvent } from '../engine/engine-events';
import { gpuTelemetry, JobProgress } from './job-telemetry';

const memory = (total: number, peak: number): EngineMemory => ({
  current: { baseWeights: total / 2, activations: total / 4, adapterOptimizer: total / 4, total },
  peak: { baseWeights: peak / 2, activations: peak / 4, adapterOptimizer: peak / 4, total: peak },
});

const step = (n: number, tokens = 100): StepEvent => ({
  event: 'step', id: 'job_1', step: n, loss: 3 - n / 10, lr: 1e-4, tokens, tokensPerSecond: 500, gradNorm: 0.5, memory: memory(800, 1000),
});

describe(JobProgress.name, () => {
  it('batches every step since the last heartbeat and reports the latest state', () => {
    const sut = new JobProgress('job_1', 2, 0, 10, 0);
    sut.record(step(1));
    sut.record(step(2));
    const first = sut.takeTelemetry();
    expect(first).toMatchObject({ jobId: 'job_1', attempt: 2, gpuIndex: 0, step: 2, totalSteps: 10, loss: 2.8, learningRate: 1e-4, tokensPerSecond: 500, trainedTokens: 200 });
    expect(first.recentSteps.map((s) => s.step)).toEqual([1, 2]);
    expect(first.recentSteps[0]).toEqual({ step: 1, loss: 2.9, learningRate: 1e-4, tokens: 100, tokensPerSecond: 500, gradNorm: 0.5 });
    sut.record(step(3));
    expect(sut.takeTelemetry().recentSteps.map((s) => s.step)).toEqual([3]);
    expect(sut.takeTelemetry().recentSteps).toEqual([]);
  });

  it('carries the validation loss of the steps that evaluated it', () => {
    const sut = new JobProgress('job_1', 1, 0, 10, 0);
    sut.record(step(1));
    sut.record({ ...step(2), valLoss: 2.5 });
    expect(sut.takeTelemetry().recentSteps.map((s) => s.validationLoss)).toEqual([undefined, 2.5]);
  });

  it('keeps the steps of a heartbeat that failed, in order', () => {
    const sut = new JobProgress('job_1', 1, 0, 10, 0);
    sut.record(step(1));
    const lost = sut.takeTelemetry();
    sut.record(step(2));
    sut.putBack(lost);
    expect(sut.takeTelemetry().recentSteps.map((s) => s.step)).toEqual([1, 2]);
  });

  it('starts a resumed attempt at its checkpoint step and counts the earlier tokens', () => {
    const sut = new JobProgress('job_1', 3, 1, 10, 4);
    expect(sut.takeTelemetry()).toMatchObject({ step: 4, trainedTokens: 0, recentSteps: [] });
    sut.record(step(5, 120));
    sut.record(step(6, 80));
    expect(sut.trainedTokens).toBe(200 + 4 * 100);
  });
});

describe(gpuTelemetry.name, () => {
  it('sums the engines on one GPU', () => {
    expect(gpuTelemetry(1, [memory(800, 1000), memory(400, 600)])).toEqual({
      index: 1, memoryUsedBytes: 1200, memoryPeakBytes: 1600, baseWeightsBytes: 600, activationsBytes: 300, adapterOptimizerBytes: 300,
    });
    expect(gpuTelemetry(0, [])).toMatchObject({ index: 0, memoryUsedBytes: 0 });
  });

  it("reports at least the device's own figure for GPU engines, counted once per GPU", () => {
    const onDevice = (total: number, peak: number, deviceUsedBytes: number) => ({ ...memory(total, peak), deviceUsedBytes });

    expect(gpuTelemetry(0, [onDevice(800, 1000, 5000), onDevice(400, 600, 5000)])).toMatchObject({ memoryUsedBytes: 5000, memoryPeakBytes: 5000 });
    // A device figure below the allocations (another engine just freed memory) never lowers them.
    expect(gpuTelemetry(0, [onDevice(800, 1000, 900)])).toMatchObject({ memoryUsedBytes: 900, memoryPeakBytes: 1000 });
  });
});
