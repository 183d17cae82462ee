import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { ApiError } from '../common/api-error';
import { JOB_WAIT_BUCKETS_SECONDS, metricValues, type GroveMetricValues, type Sample } from './metric-values';
import { MetricsRepository } from './metrics.repository';
import { SnapshotHistogram } from './snapshot-histogram';

/** Scrapes within this long of a database read reuse it, so concurrent scrapers cost one set of queries. */
export const SNAPSHOT_TTL_MS = 1_000;

/** Prometheus text exposition format 0.0.4. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

type Select = (v: GroveMetricValues) => Sample[] | number;

/**
 * The control plane's Prometheus registry (its own, not prom-client's global one): the standard Node.js process
 * metrics of this process, plus Grove's cluster-wide metrics computed at scrape time from Postgres.
 */
@Injectable()
export class MetricsService {
  private readonly registry = new Registry();
  private cached: { at: number; values: Promise<GroveMetricValues> } | null = null;

  constructor(private readonly repository: MetricsRepository) {
    collectDefaultMetrics({ register: this.registry });
    this.gauge('grove_queue_depth', 'Jobs queued and not yet placed on a GPU, by priority class.', ['priority'], (v) => v.queueDepth);
    this.gauge('grove_jobs', 'Jobs by state.', ['state'], (v) => v.jobs);
    new SnapshotHistogram({
      name: 'grove_job_wait_seconds',
      help: 'Time from submission to first start (validation and queueing), over every job that has started.',
      registers: [this.registry],
      read: async () => (await this.values()).jobWait,
    });
    this.counter('grove_job_failures_total', 'Failed jobs by error code.', ['reason'], (v) => v.jobFailures);
    this.counter('grove_jobs_preemptions_total', 'Times jobs were stopped via checkpoint to make room for others.', [], (v) => v.preemptions);
    this.gauge('grove_nodes', 'Worker nodes by state.', ['state'], (v) => v.nodes);
    this.gauge('grove_nodes_cordoned', 'Worker nodes that take no new jobs (draining ones included).', [], (v) => v.nodesCordoned);
    this.gauge('grove_nodes_draining', 'Worker nodes whose jobs are being checkpointed and moved elsewhere.', [], (v) => v.nodesDraining);
    this.gauge('grove_gpu_memory_used_bytes', 'Engine memory in use on a GPU of an online node, as last reported.', ['node', 'gpu'], (v) => v.gpuMemoryUsed);
    this.gauge('grove_gpu_memory_total_bytes', 'Memory of a GPU of an online node.', ['node', 'gpu'], (v) => v.gpuMemoryTotal);
    this.gauge('grove_gpu_tokens_per_second', 'Training throughput of a GPU of an online node: its running jobs, summed.', ['node', 'gpu'], (v) => v.gpuTokensPerSecond);
  }

  /** The text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The values of one database read, at most SNAPSHOT_TTL_MS old; a failed read is not kept. */
  private values(): Promise<GroveMetricValues> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < SNAPSHOT_TTL_MS) return this.cached.values;
    const values = this.repository.snapshot(JOB_WAIT_BUCKETS_SECONDS).then(metricValues, (error: Error) => {
      throw new ApiError('unavailable', `metrics: Postgres did not answer (${error.message})`);
    });
    const entry = { at: now, values };
    this.cached = entry;
    values.catch(() => {
      if (this.cached === entry) this.cached = null;
    });
    return values;
  }

  private gauge(name: string, help: string, labelNames: string[], pick: Select): void {
    const values = () => this.values();
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      async collect() {
        const picked = pick(await values());
        this.reset();
        if (typeof picked === 'number') this.set(picked);
        else for (const s of picked) this.set(s.labels, s.value);
      },
    });
  }

  /** A counter whose total is counted in the database (it only grows, as long as jobs are not deleted). */
  private counter(name: string, help: string, labelNames: string[], pick: Select): void {
    const values = () => this.values();
    new Counter({
      name, help, labelNames, registers: [this.registry],
      async collect() {
        const picked = pick(await values());
        this.reset();
        if (typeof picked === 'number') this.inc(picked);
        else for (const s of picked) this.inc(s.labels, s.value);
      },
    });
  }
}
