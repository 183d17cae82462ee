import defaultCalibration from '../calibration/default-calibration.json';
import { parseCalibration } from '../calibration/calibration';
import { MemoryModel } from '../memory/memory-model';
import type { GpuState, QueuedJob, RunningJob } from '../policy/cluster-state';
import { defaultGroveConfig, GrovePolicy, type GrovePolicyConfig } from '../policy/grove-policy';
import { ThroughputModel } from '../throughput/throughput-model';

/** Builders for policy scenarios in specs: real models and calibration, hand-made cluster states. */
export const calibration = parseCalibration(defaultCalibration);
export const GIB = 1024 ** 3;
export const H100 = 'h100-80gb';

export function groveWithModels(config: Partial<GrovePolicyConfig> = {}) {
  const memory = new MemoryModel(calibration);
  const throughput = new ThroughputModel(calibration);
  return { memory, throughput, sut: new GrovePolicy(memory, throughput, { ...defaultGroveConfig, ...config }) };
}

export function gpu(id: string, overrides: Partial<GpuState> = {}): GpuState {
  return {
    id,
    nodeId: id.split('/')[0],
    gpuType: H100,
    memoryBytes: calibration.gpuTypes[H100].memoryBytes,
    labels: {},
    cordoned: false,
    models: null,
    jobs: [],
    ...overrides,
  };
}

export function queued(id: string, overrides: Partial<QueuedJob> = {}): QueuedJob {
  return {
    id,
    baseModel: 'llama-3.2-1b',
    microBatchTokens: 2048,
    seqLen: 1024,
    loraRank: 16,
    priority: 1,
    remainingTokens: 1e7,
    arrivalAt: 0,
    waitingSince: 0,
    preemptions: 0,
    ...overrides,
  };
}

export function running(id: string, overrides: Partial<RunningJob> = {}): RunningJob {
  return {
    id,
    baseModel: 'llama-3.2-1b',
    microBatchTokens: 2048,
    seqLen: 1024,
    loraRank: 16,
    priority: 1,
    remainingTokens: 1e8,
    arrivalAt: 0,
    startedAt: 0,
    preemptions: 0,
    ...overrides,
  };
}
