import { loadDefaultCalibration, type Calibration, type ModelConfig } from '@grove/scheduler';
import type { ModelSummary } from '../models/model-config';
import { CPU_SPEC, gpuSpecFor } from './gpu-specs';

/** fp32 on the CPU reference backend, bf16 on CUDA. */
export function dtypeBytesFor(backend: string): number {
  return backend === 'cpu' ? 4 : 2;
}

/** The scheduler's name for a GPU's type: every CPU slot is one type, a GPU is its reported model name. */
export function gpuTypeOf(backend: string, gpuName: string): string {
  return backend === 'cpu' ? 'cpu' : gpuName;
}

export function modelConfigOf(s: ModelSummary, dtypeBytes: number): ModelConfig {
  return {
    hiddenSize: s.hiddenSize,
    intermediateSize: s.intermediateSize,
    numLayers: s.layers,
    numHeads: s.attentionHeads,
    numKvHeads: s.kvHeads,
    vocabSize: s.vocabSize,
    tiedEmbeddings: s.tiedEmbeddings,
    dtypeBytes,
  };
}

/**
 * The priors the live scheduler starts from: the shipped memory and throughput coefficients, plus each registered
 * base model and each GPU type as they first appear. A model's element size is fixed when it is first seen (fp32 if
 * any CPU node is online then, else bf16): one cluster runs one backend; a mixed one is over-estimated, never under.
 */
export class ClusterCalibration {
  readonly calibration: Calibration = loadDefaultCalibration();

  constructor() {
    // The shipped file names example models and GPUs; the live cluster's own names replace them.
    this.calibration.models = {};
    this.calibration.gpuTypes = {};
  }

  ensureModel(name: string, summary: ModelSummary, dtypeBytes: number): void {
    if (!Object.hasOwn(this.calibration.models, name)) this.calibration.models[name] = modelConfigOf(summary, dtypeBytes);
  }

  ensureGpuType(gpuType: string, backend: string, memoryBytes: number): void {
    if (Object.hasOwn(this.calibration.gpuTypes, gpuType)) return;
    const spec = backend === 'cpu' ? CPU_SPEC : gpuSpecFor(gpuType);
    this.calibration.gpuTypes[gpuType] = { memoryBytes, ...spec };
  }
}
