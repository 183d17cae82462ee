import type { GpuState } from './cluster-state';
import type { WaitReason } from './decisions';

export interface Eligibility {
  /** Indices into the GPU list where the job may start. */
  readonly gpus: readonly number[];
  /** The distinct GPU types among them. */
  readonly gpuTypes: readonly string[];
  /** Why the list is empty; undefined when it is not. */
  readonly reason?: WaitReason;
}

export function matchesSelector(labels: Readonly<Record<string, string>>, selector?: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

function canServe(gpu: GpuState, baseModel: string): boolean {
  return gpu.models === null || gpu.models.includes(baseModel);
}

/** GPUs a job may start on: the node serves its base model, matches its selector and is not cordoned. */
export function findEligibleGpus(
  gpus: readonly GpuState[],
  baseModel: string,
  selector?: Readonly<Record<string, string>>,
): Eligibility {
  const eligible: number[] = [];
  let serving = 0;
  const cordonedNodes = new Set<string>();
  for (let i = 0; i < gpus.length; i++) {
    const gpu = gpus[i];
    if (!canServe(gpu, baseModel)) continue;
    serving++;
    if (!matchesSelector(gpu.labels, selector)) continue;
    if (gpu.cordoned) {
      cordonedNodes.add(gpu.nodeId);
      continue;
    }
    eligible.push(i);
  }
  const none = { gpus: eligible, gpuTypes: [] };
  if (eligible.length > 0) return { gpus: eligible, gpuTypes: [...new Set(eligible.map((i) => gpus[i].gpuType))] };
  if (serving === 0) return { ...none, reason: { code: 'no_node_has_model', baseModel } };
  if (cordonedNodes.size === 0) return { ...none, reason: { code: 'selector_unmatched', selector: selector ?? {} } };
  return { ...none, reason: { code: 'all_matching_nodes_cordoned', nodes: cordonedNodes.size } };
}

/** Memoises eligibility per (base model, selector) for one decision round. */
export class EligibilityCache {
  private readonly cache = new Map<string, Eligibility>();

  constructor(private readonly gpus: readonly GpuState[]) {}

  get(baseModel: string, selector?: Readonly<Record<string, string>>): Eligibility {
    const key = selector ? `${baseModel}\u0000${selectorKey(selector)}` : baseModel;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = findEligibleGpus(this.gpus, baseModel, selector);
      this.cache.set(key, hit);
    }
    return hit;
  }
}

function selectorKey(selector: Readonly<Record<string, string>>): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}
