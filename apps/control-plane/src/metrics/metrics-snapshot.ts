import type { GpuInfo, NodeRecord, NodeTelemetry } from '../nodes/node-record';

/** One node as the metrics need it (GPU list from registration, latest heartbeat telemetry). */
export type NodeMetricsRow = Pick<NodeRecord, 'name' | 'state'> & {
  cordoned: boolean;
  draining: boolean;
  gpus: GpuInfo[];
  telemetry: NodeTelemetry | null;
};

/** Started jobs whose wait falls in one bucket: `bucket` is the index of the first upper bound ≥ the wait. */
export interface WaitBucketRow {
  bucket: number;
  count: number;
  sumSeconds: number;
}

/** What the database says at scrape time, before it is shaped into Prometheus metrics. */
export interface MetricsSnapshot {
  jobsByState: Record<string, number>;
  /** Jobs queued and not yet placed on a GPU, keyed by priority rank (index into PRIORITIES). */
  queuedByPriorityRank: Record<number, number>;
  /** Failed jobs by their error code. */
  failuresByReason: Record<string, number>;
  /** Sum over all jobs of the times each was preempted. */
  preemptions: number;
  waitBuckets: WaitBucketRow[];
  nodes: NodeMetricsRow[];
}
