import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { SQL_POOL } from '../database/sql-pool';
import type { MetricsSnapshot, NodeMetricsRow } from './metrics-snapshot';
import { JOB_COUNTS_SQL, JOB_WAIT_BUCKETS_SQL, NODES_SQL } from './metrics-sql';

interface CountRow {
  kind: 'state' | 'queued_priority' | 'failure_reason' | 'preemptions';
  key: string;
  n: string;
}

/** Reads the scrape-time snapshot with three aggregate queries on the plain pg pool (run concurrently). */
@Injectable()
export class MetricsRepository {
  constructor(@Inject(SQL_POOL) private readonly pool: Pool) {}

  async snapshot(waitBucketsSeconds: readonly number[]): Promise<MetricsSnapshot> {
    const [counts, waits, nodes] = await Promise.all([
      this.pool.query<CountRow>(JOB_COUNTS_SQL),
      this.pool.query<{ bucket: number; n: string; seconds: number }>(JOB_WAIT_BUCKETS_SQL, [waitBucketsSeconds]),
      this.pool.query<NodeMetricsRow>(NODES_SQL),
    ]);
    const snapshot: MetricsSnapshot = {
      jobsByState: {},
      queuedByPriorityRank: {},
      failuresByReason: {},
      preemptions: 0,
      waitBuckets: waits.rows.map((r) => ({ bucket: r.bucket, count: Number(r.n), sumSeconds: r.seconds })),
      nodes: nodes.rows,
    };
    for (const { kind, key, n } of counts.rows) {
      if (kind === 'state') snapshot.jobsByState[key] = Number(n);
      else if (kind === 'queued_priority') snapshot.queuedByPriorityRank[Number(key)] = Number(n);
      else if (kind === 'failure_reason') snapshot.failuresByReason[key] = Number(n);
      else snapshot.preemptions = Number(n);
    }
    return snapshot;
  }
}
