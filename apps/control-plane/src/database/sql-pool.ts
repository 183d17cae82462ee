import type { Provider } from '@nestjs/common';
import { Pool, types } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

export const SQL_POOL = Symbol('SQL_POOL');

// Prisma writes TIMESTAMP(3) columns (no time zone) in UTC; read them back as UTC whatever the process TZ is.
const TIMESTAMP_OID = 1114;
const utcTimestamps = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP_OID ? (s: string) => new Date(`${s.replace(' ', 'T')}Z`) : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

/**
 * A plain pg pool for the few hot or multi-statement writes that must be one atomic SQL statement (job creation,
 * state transitions). Prisma's client engine costs ~1 ms CPU per query here and its interactive transactions
 * misbehave under load (see docs/architecture.md), so those paths use SQL directly; everything else uses Prisma.
 */
export const sqlPoolProvider: Provider = {
  provide: SQL_POOL,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) =>
    new Pool({ connectionString: config.databaseUrl, max: config.dbPoolSize, types: utcTimestamps }),
};
