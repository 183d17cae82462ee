import type { WaitReason } from '@grove/scheduler';

const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

export type PresentedWaitReason = { code: string; message: string } & Record<string, unknown>;

/** A scheduler wait reason as the jobs API shows it: the stable code, a sentence, and the numbers behind it. */
export function presentWaitReason(r: WaitReason): PresentedWaitReason {
  switch (r.code) {
    case 'unknown_model':
      return { code: r.code, message: `The scheduler has no shape for base model ${r.baseModel}`, base_model: r.baseModel };
    case 'no_node_has_model':
      return { code: r.code, message: `No online node serves base model ${r.baseModel}`, base_model: r.baseModel };
    case 'selector_unmatched':
      return { code: r.code, message: `No online node has the labels ${JSON.stringify(r.selector)} (node_selector)`, selector: r.selector };
    case 'all_matching_nodes_cordoned':
      return { code: r.code, message: `All ${r.nodes} matching node(s) are cordoned`, nodes: r.nodes };
    case 'exceeds_gpu_memory':
      return {
        code: r.code,
        message: `Needs ${gib(r.neededBytes)} of GPU memory; the largest matching GPU has ${gib(r.largestGpuBytes)}`,
        needed_bytes: Math.round(r.neededBytes),
        largest_gpu_bytes: r.largestGpuBytes,
      };
    case 'insufficient_memory':
      return {
        code: r.code,
        message: `Needs ${gib(r.neededBytes)} of GPU memory; the largest free is ${gib(r.largestFreeBytes)}`,
        needed_bytes: Math.round(r.neededBytes),
        largest_free_bytes: Math.round(r.largestFreeBytes),
      };
    case 'behind_higher_priority':
      return { code: r.code, message: `Behind ${r.count} higher-priority job(s)`, count: r.count };
    case 'reserved_for_aged_job':
      return { code: r.code, message: `Room is held for job ${r.jobId}, which has waited longest`, job_id: r.jobId };
    case 'colocation_not_beneficial':
      return {
        code: r.code,
        message: 'Joining the jobs already training this base model would cost more turnaround (theirs, or that of jobs queued ahead of it) than waiting',
        gpu: r.gpuId,
      };
    case 'queued_in_order':
      return { code: r.code, message: `${r.ahead} job(s) ahead in the queue`, ahead: r.ahead };
  }
}
