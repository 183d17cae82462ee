import { ApiRequestError, NetworkError } from '../cli-errors';
import type { ApiClient } from './api-client';
import { backoffMs } from './backoff';
import { readSse } from './sse-parser';

export interface JobEvent {
  id: string;
  type: string;
  level: string;
  message: string;
  data: Record<string, unknown> | null;
  created_at: number;
}

export interface FollowOptions {
  /** Resume after this event id (exclusive). */
  after?: string;
  onEvent: (event: JobEvent) => void;
  sleep: (ms: number) => Promise<void>;
  /** Reconnections in a row that deliver nothing before giving up (the client already retried each one). */
  maxIdleReconnects?: number;
}

/**
 * Follows `GET /v1/jobs/{id}/events/stream` until its `event: end` (the job finished). A dropped connection is
 * reopened with `Last-Event-ID`, so no event is lost or repeated; API errors (404, 401) end it at once.
 */
export async function followJobEvents(client: ApiClient, jobId: string, options: FollowOptions): Promise<void> {
  let lastId = options.after;
  let idle = 0;
  const limit = options.maxIdleReconnects ?? 5;
  for (;;) {
    let progressed = false;
    let failure: unknown;
    try {
      const res = await client.send('GET', `/v1/jobs/${encodeURIComponent(jobId)}/events/stream`, {
        headers: { Accept: 'text/event-stream', ...(lastId ? { 'Last-Event-ID': lastId } : {}) },
      });
      if (res.body) {
        for await (const message of readSse(res.body)) {
          if (message.event === 'end') return;
          progressed = true;
          if (message.id) lastId = message.id;
          options.onEvent(JSON.parse(message.data) as JobEvent);
        }
      }
    } catch (error) {
      if (error instanceof ApiRequestError && error.status < 500) throw error;
      failure = error;
    }
    idle = progressed ? 0 : idle + 1;
    if (idle > limit) throw failure ?? new NetworkError(`the event stream of ${jobId} keeps closing before the job ends`);
    await options.sleep(backoffMs(Math.max(idle - 1, 0)));
  }
}
