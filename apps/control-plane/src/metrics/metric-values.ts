import { JOB_STATUSES, PRIORITIES } from '@grove/contracts';
import type { NodeRecord } from '../nodes/node-record';
import type { MetricsSnapshot, NodeMetricsRow, WaitBucketRow } from './metrics-snapshot';

/** Upper bounds of the wait-time histogram: from seconds (an idle cluster) to a day (a saturated one). */
export const JOB_WAIT_BUCKETS_SECONDS: readonly number[] = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400];

const NODE_STATES: readonly NodeRecord['state'][] = ['online', 'lost'];

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Cumulative histogram contents in Prometheus' sense: each bucket counts every observation ≤ its bound. */
export interface HistogramContents {
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/** Every Grove metric's value(s) at one scrape. */
export interface GroveMetricValues {
  queueDepth: Sample[];
  jobs: Sample[];
  jobWait: HistogramContents;
  jobFailures: Sample[];
  preemptions: number;
  nodes: Sample[];
  nodesCordoned: number;
  nodesDraining: number;
  gpuMemoryUsed: Sample[];
  gpuMemoryTotal: Sample[];
  gpuTokensPerSecond: Sample[];
}

export function metricValues(s: MetricsSnapshot): GroveMetricValues {
  // Every known priority, state and node state is reported, zero included, so series never vanish.
  return {
    queueDepth: PRIORITIES.map((priority, rank) => ({ labels: { priority }, value: s.queuedByPriorityRank[rank] ?? 0 })),
    jobs: JOB_STATUSES.map((state) => ({ labels: { state }, value: s.jobsByState[state] ?? 0 })),
    jobWait: waitHistogram(JOB_WAIT_BUCKETS_SECONDS, s.waitBuckets),
    jobFailures: Object.entries(s.failuresByReason)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([reason, value]) => ({ labels: { reason }, value })),
    preemptions: s.preemptions,
    nodes: NODE_STATES.map((state) => ({ labels: { state }, value: s.nodes.filter((n) => n.state === state).length })),
    nodesCordoned: s.nodes.filter((n) => n.cordoned).length,
    nodesDraining: s.nodes.filter((n) => n.draining).length,
    ...gpuSamples(s.nodes),
  };
}

/** Per-bucket counts (`bucket` = index of the first bound ≥ the wait; bounds.length = above every bound) → cumulative. */
export function waitHistogram(bounds: readonly number[], rows: WaitBucketRow[]): HistogramContents {
  const countAtOrBelow = (i: number) => rows.filter((r) => r.bucket <= i).reduce((acc, r) => acc + r.count, 0);
  return {
    buckets: bounds.map((le, i) => ({ le, count: countAtOrBelow(i) })),
    count: rows.reduce((acc, r) => acc + r.count, 0),
    sum: rows.reduce((acc, r) => acc + r.sumSeconds, 0),
  };
}

/**
 * GPU gauges of online nodes only: a lost node's last telemetry is stale and its GPUs take no work. Memory used
 * is reported once the node has heartbeated; tokens/s is the sum over the GPU's running jobs (0 when idle).
 */
function gpuSamples(nodes: NodeMetricsRow[]): Pick<GroveMetricValues, 'gpuMemoryUsed' | 'gpuMemoryTotal' | 'gpuTokensPerSecond'> {
  const used: Sample[] = [];
  const total: Sample[] = [];
  const tokensPerSecond: Sample[] = [];
  for (const node of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (node.state !== 'online') continue;
    for (const gpu of [...node.gpus].sort((a, b) => a.index - b.index)) {
      const labels = { node: node.name, gpu: String(gpu.index) };
      total.push({ labels, value: gpu.totalMemoryBytes });
      const memory = node.telemetry?.gpus.find((g) => g.index === gpu.index);
      if (memory) used.push({ labels, value: memory.memoryUsedBytes });
      const jobs = node.telemetry?.jobs.filter((j) => j.gpuIndex === gpu.index) ?? [];
      tokensPerSecond.push({ labels, value: jobs.reduce((acc, j) => acc + j.tokensPerSecond, 0) });
    }
  }
  return { gpuMemoryUsed: used, gpuMemoryTotal: total, gpuTokensPerSecond: tokensPerSecond };
}
