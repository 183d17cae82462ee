import { describe, expect, it } from 'vitest';
import { ApiRequestError } from '../cli-errors';
import { fakeFetch, json, sse } from '../testing/fake-fetch';
import { ApiClient } from './api-client';
import { followJobEvents, type JobEvent } from './job-event-stream';

const event = (id: string, type: string) => ({ id, event: type, data: { id, type, level: 'info', message: type, data: null, created_at: 1 } });

function follow(fetch: ReturnType<typeof fakeFetch>, after?: string) {
  const client = new ApiClient({ baseUrl: 'http://g', token: 't', fetch, sleep: async () => undefined, newIdempotencyKey: () => 'k', userAgent: 'x', retries: 0 });
  const seen: JobEvent[] = [];
  const done = followJobEvents(client, 'job_1', { after, onEvent: (e) => seen.push(e), sleep: async () => undefined, maxIdleReconnects: 2 });
  return { done, seen };
}

describe(followJobEvents.name, () => {
  it('delivers events until `end`', async () => {
    const fetch = fakeFetch([sse([event('1', 'job.created'), event('2', 'job.queued'), { event: 'end', data: {} }])]);
    const { done, seen } = follow(fetch);
    await done;
    expect(seen.map((e) => e.type)).toEqual(['job.created', 'job.queued']);
    expect(fetch.calls[0]?.url).toBe('http://g/v1/jobs/job_1/events/stream');
    expect(fetch.calls[0]?.headers['Last-Event-ID']).toBeUndefined();
  });

  it('resumes after a dropped connection with Last-Event-ID, losing and repeating nothing', async () => {
    const fetch = fakeFetch([
      sse([event('1', 'job.created'), event('2', 'job.queued')], true),
      new TypeError('fetch failed'),
      sse([event('3', 'job.started'), event('4', 'job.succeeded'), { event: 'end', data: {} }]),
    ]);
    const { done, seen } = follow(fetch, '0');
    await done;
    expect(seen.map((e) => e.id)).toEqual(['1', '2', '3', '4']);
    expect(fetch.calls.map((c) => c.headers['Last-Event-ID'])).toEqual(['0', '2', '2']);
  });

  it('ends at once on an API error such as an unknown job', async () => {
    const fetch = fakeFetch([json(404, { error: { code: 'not_found', message: 'no job', param: 'id' } })]);
    await expect(follow(fetch).done).rejects.toBeInstanceOf(ApiRequestError);
    expect(fetch.calls).toHaveLength(1);
  });

  it('gives up when reconnecting keeps delivering nothing', async () => {
    const fetch = fakeFetch([sse([]), sse([]), sse([])]);
    await expect(follow(fetch).done).rejects.toThrow(/keeps closing/);
    expect(fetch.calls).toHaveLength(3);
  });
});
