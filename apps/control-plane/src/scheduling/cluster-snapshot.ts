import type { ClusterState, GpuState, JobShape, QueuedJob, RunningJob } from '@grove/scheduler';
import type { NodeRecord } from '../nodes/node-record';
import type { ActiveJob } from './active-job';
import { gpuTypeOf } from './cluster-calibration';

export function gpuId(nodeId: string, gpuIndex: number): string {
  return `${nodeId}/${gpuIndex}`;
}

/**
 * What the memory model needs of a job. A micro-batch is as long as its longest example, so the peak is set by the
 * dataset's longest example (at most max_seq_len), not by max_seq_len itself.
 */
export function jobShape(job: ActiveJob): JobShape {
  const h = job.hyperparameters;
  const seqLen = Math.max(1, Math.min(h.max_seq_len, job.datasetMaxLen || h.max_seq_len));
  return { baseModel: job.modelName, seqLen, microBatchTokens: h.micro_batch_size * seqLen, loraRank: h.lora.r };
}

/** Whether a stored job has what scheduling needs (a row written outside the API may not); others are left out. */
export function isSchedulable(job: ActiveJob): boolean {
  const h = job.hyperparameters as Partial<ActiveJob['hyperparameters']> | null;
  const s = job.summary as Partial<ActiveJob['summary']> | null;
  return (
    typeof h?.micro_batch_size === 'number' && typeof h.max_seq_len === 'number' && typeof h.n_epochs === 'number' &&
    typeof h.lora?.r === 'number' && typeof s?.hiddenSize === 'number' && typeof s.layers === 'number'
  );
}

/** Tokens left to train: every epoch over the tokenized dataset, less what earlier runs trained. */
export function remainingTokens(job: ActiveJob): number {
  const total = job.datasetTokens * job.hyperparameters.n_epochs;
  return Math.max(1, total - job.trainedTokens);
}

const seconds = (d: Date) => d.getTime() / 1000;

/**
 * One decision round's view of the cluster, on the Unix clock in seconds. Only online nodes count (a lost node's jobs
 * are requeued); a draining node is cordoned. Jobs placed on GPUs the snapshot has no node for are left out.
 */
export function buildClusterState(now: Date, nodes: readonly NodeRecord[], jobs: readonly ActiveJob[]): ClusterState {
  const placed = new Map<string, RunningJob[]>();
  const queue: QueuedJob[] = [];
  for (const job of jobs) {
    const common = {
      ...jobShape(job),
      id: job.id,
      priority: job.priority,
      remainingTokens: remainingTokens(job),
      arrivalAt: seconds(job.createdAt),
      preemptions: job.preemptions,
      selector: Object.keys(job.nodeSelector).length > 0 ? job.nodeSelector : undefined,
    };
    if (job.nodeId === null || job.gpuIndex === null) {
      queue.push({ ...common, waitingSince: seconds(job.queuedAt ?? job.createdAt) });
    } else {
      const key = gpuId(job.nodeId, job.gpuIndex);
      const list = placed.get(key) ?? [];
      // updated_at of a placed job is its assignment or start: the current run began then (churn limit).
      list.push({ ...common, startedAt: seconds(job.updatedAt) });
      placed.set(key, list);
    }
  }
  const gpus: GpuState[] = [];
  for (const node of nodes) {
    if (node.state !== 'online') continue;
    for (const gpu of node.gpus) {
      const id = gpuId(node.id, gpu.index);
      gpus.push({
        id,
        nodeId: node.id,
        gpuType: gpuTypeOf(node.backend, gpu.name),
        memoryBytes: gpu.totalMemoryBytes,
        labels: node.labels,
        cordoned: node.cordoned || node.draining,
        models: node.baseModels,
        jobs: placed.get(id) ?? [],
      });
    }
  }
  return { now: seconds(now), gpus, queue };
}
