import type { RedisOptions } from 'ioredis';

/** ioredis options for a `redis://[:password@]host:port[/db]` URL (BullMQ takes options, not a URL). */
export function redisConnection(redisUrl: string, overrides: RedisOptions = {}): RedisOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: Number(url.pathname.slice(1) || 0),
    ...overrides,
  };
}
