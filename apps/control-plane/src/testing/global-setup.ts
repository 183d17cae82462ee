import IORedis from 'ioredis';
import { Client } from 'pg';
import { applyMigrations } from '../database/migrate';
import { testServiceUrls } from './test-env';

/** Integration tests start from an empty, freshly migrated test database and an empty test Redis database. */
export default async function setup(): Promise<void> {
  const { databaseUrl, redisUrl } = testServiceUrls();
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  await pg.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public');
  await pg.end();
  await applyMigrations(databaseUrl);
  const redis = new IORedis(redisUrl);
  await redis.flushdb();
  await redis.quit();
}
