import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../common/api-error';
import type { MetricsSnapshot } from './metrics-snapshot';
import type { MetricsRepository } from './metrics.repository';
import { MetricsService, SNAPSHOT_TTL_MS } from './metrics.service';
import { JOB_WAIT_BUCKETS_SECONDS } from './metric-values';
import { parsePrometheusText } from './testing/parse-prometheus-text';

const snapshot: MetricsSnapshot = {
  jobsByState: { running: 2 },
  queuedByPriorityRank: { 2: 3 },
  failuresByReason: { OOM: 1 },
  preemptions: 4,
  // Two waits of at most 1 s (0.5 s in all), one of at most 30 s (20 s), one above every bound (100000 s).
  waitBuckets: [
    { bucket: 0, count: 2, sumSeconds: 0.5 },
    { bucket: 3, count: 1, sumSeconds: 20 },
    { bucket: JOB_WAIT_BUCKETS_SECONDS.length, count: 1, sumSeconds: 100_000 },
  ],
  nodes: [],
};

function fakeRepository(read: () => Promise<MetricsSnapshot> = async () => snapshot) {
  const repository = { snapshot: vi.fn(read) };
  return { repository, sut: new MetricsService(repository as unknown as MetricsRepository) };
}

describe(MetricsService.name, () => {
  afterEach(() => vi.restoreAllMocks());

  describe('render', () => {
    it('writes the text format with Grove metrics and the standard process metrics', async () => {
      const { sut } = fakeRepository();
      const text = parsePrometheusText(await sut.render());
      expect(text.types.get('grove_job_wait_seconds')).toBe('histogram');
      expect(text.types.get('grove_job_failures_total')).toBe('counter');
      expect(text.types.get('grove_queue_depth')).toBe('gauge');
      expect(text.value('grove_queue_depth', { priority: 'high' })).toBe(3);
      expect(text.value('grove_jobs', { state: 'running' })).toBe(2);
      expect(text.value('grove_job_failures_total', { reason: 'OOM' })).toBe(1);
      expect(text.value('grove_jobs_preemptions_total')).toBe(4);
      expect(text.types.has('process_cpu_user_seconds_total')).toBe(true);
    });

    it('renders the wait histogram cumulatively with +Inf, _sum and _count', async () => {
      const { sut } = fakeRepository();
      const text = parsePrometheusText(await sut.render());
      const bucket = (le: string) => text.value('grove_job_wait_seconds_bucket', { le });
      expect([bucket('1'), bucket('15'), bucket('30'), bucket('86400'), bucket('+Inf')]).toEqual([2, 2, 3, 3, 4]);
      expect(text.value('grove_job_wait_seconds_sum')).toBe(100_020.5);
      expect(text.value('grove_job_wait_seconds_count')).toBe(4);
    });

    it('reads the database once for concurrent scrapes and again once the snapshot is older than its TTL', async () => {
      const now = vi.spyOn(Date, 'now').mockReturnValue(1_000_000);
      const { sut, repository } = fakeRepository();
      await Promise.all([sut.render(), sut.render(), sut.render()]);
      now.mockReturnValue(1_000_000 + SNAPSHOT_TTL_MS - 1);
      await sut.render();
      expect(repository.snapshot).toHaveBeenCalledTimes(1);
      now.mockReturnValue(1_000_000 + SNAPSHOT_TTL_MS);
      await sut.render();
      expect(repository.snapshot).toHaveBeenCalledTimes(2);
    });

    it('answers unavailable when Postgres fails, and does not keep the failure', async () => {
      vi.spyOn(Date, 'now').mockReturnValue(5_000);
      let fail = true;
      const { sut, repository } = fakeRepository(async () => {
        if (fail) throw new Error('connection refused');
        return snapshot;
      });
      await expect(sut.render()).rejects.toMatchObject({ code: 'unavailable' } satisfies Partial<ApiError>);
      fail = false;
      await expect(sut.render()).resolves.toContain('grove_jobs{state="running"} 2');
      expect(repository.snapshot).toHaveBeenCalledTimes(2);
    });
  });
});
