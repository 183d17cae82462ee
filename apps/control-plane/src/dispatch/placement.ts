/**
 * Simple placement (the scheduler library replaces it): a job goes to a GPU of an online node that holds its base
 * model and has room by a memory estimate, preferring a GPU already training that base model (co-training: the base
 * weights are already there), then the GPU with the most free memory.
 */
export interface GpuSlot {
  nodeId: string;
  gpuIndex: number;
  totalBytes: number;
  /** Base models whose weights the node holds. */
  availableModels: ReadonlySet<string>;
  /** Predicted bytes of what is assigned to the GPU now. */
  usedBytes: number;
  /** Base models the GPU is training now. */
  trainingModels: Set<string>;
  /** Bytes per base weight / activation element on this backend (fp32 on CPU, bf16 on CUDA). */
  dtypeBytes: number;
}

export interface JobDemand {
  modelName: string;
  /** Frozen weights of the base model: paid once per GPU per base model. */
  baseParams: number;
  /** LoRA parameters: fp32 weights, gradients and two AdamW moments (16 bytes each). */
  loraParams: number;
  /** Activation elements of one micro-batch kept for the backward pass (incl. logits). */
  activationElements: number;
}

const LORA_STATE_BYTES = 16;

export function demandBytes(job: JobDemand, slot: GpuSlot): number {
  const base = slot.trainingModels.has(job.modelName) ? 0 : job.baseParams * slot.dtypeBytes;
  return base + job.loraParams * LORA_STATE_BYTES + job.activationElements * slot.dtypeBytes;
}

/** Fraction of a GPU's memory kept free for what the estimate misses. */
export const SAFETY_MARGIN = 0.1;

export function placeJob(job: JobDemand, slots: readonly GpuSlot[]): GpuSlot | null {
  let best: { slot: GpuSlot; shared: boolean; free: number } | null = null;
  for (const slot of slots) {
    if (!slot.availableModels.has(job.modelName)) continue;
    const shared = slot.trainingModels.has(job.modelName);
    const need = demandBytes(job, slot);
    const free = slot.totalBytes * (1 - SAFETY_MARGIN) - slot.usedBytes;
    if (need > free) continue;
    if (!best || (shared && !best.shared) || (shared === best.shared && free > best.free)) best = { slot, shared, free };
  }
  return best?.slot ?? null;
}

/** Books the job on the slot, so later placements in the same round see it. */
export function reserve(slot: GpuSlot, job: JobDemand): void {
  slot.usedBytes += demandBytes(job, slot);
  slot.trainingModels.add(job.modelName);
}
