import { Histogram, type Registry } from 'prom-client';
import type { HistogramContents } from './metric-values';

type HistogramObject = Awaited<ReturnType<Histogram['get']>>;

/**
 * A histogram whose contents are computed elsewhere (aggregated in Postgres) and read at scrape time instead of
 * being observe()d: prom-client has no way to set bucket counts, so this overrides what the registry renders.
 * Buckets come out cumulative with `le` bounds, then `+Inf`, `_sum` and `_count`, as Prometheus expects.
 */
export class SnapshotHistogram extends Histogram<string> {
  private readonly metricName: string;
  private readonly helpText: string;
  private readonly read: () => Promise<HistogramContents>;

  constructor(config: { name: string; help: string; registers: Registry[]; read: () => Promise<HistogramContents> }) {
    super({ name: config.name, help: config.help, registers: config.registers });
    this.metricName = config.name;
    this.helpText = config.help;
    this.read = config.read;
  }

  override async get(): Promise<HistogramObject> {
    const contents = await this.read();
    const bucket = `${this.metricName}_bucket`;
    const values = [
      ...contents.buckets.map((b) => ({ metricName: bucket, labels: { le: b.le }, value: b.count })),
      { metricName: bucket, labels: { le: '+Inf' }, value: contents.count },
      { metricName: `${this.metricName}_sum`, labels: {}, value: contents.sum },
      { metricName: `${this.metricName}_count`, labels: {}, value: contents.count },
    ];
    // prom-client's typings declare `type` as a numeric enum; at run time (and in its own metrics) it is the string.
    return { name: this.metricName, help: this.helpText, type: 'histogram', aggregator: 'sum', values } as unknown as HistogramObject;
  }

  /** What Registry#metrics() renders from. */
  getForPromString(): Promise<HistogramObject> {
    return this.get();
  }
}
