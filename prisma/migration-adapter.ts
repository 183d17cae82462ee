import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

// Prisma's JS schema engine introspects pg_catalog, whose `name` and `"char"` columns @prisma/adapter-pg 6.19
// cannot map (prisma/orm#27403: "Column type 'name' could not be deserialized"). Both are plain text, so this
// process — the Prisma CLI, which loads prisma.config.ts — reads them as text. It patches pg's result decoding
// because the adapter also opens pools of its own (the shadow database). The application never loads this file.
const PgResult = require('pg/lib/result') as {
  prototype: { addFields(fields: { dataTypeID: number }[]): void };
};
const CATALOG_TEXT_OIDS = new Set([18 /* "char" */, 19 /* name */]);
const TEXT_OID = 25;

const addFields = PgResult.prototype.addFields;
PgResult.prototype.addFields = function (fields) {
  for (const field of fields) {
    if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
  }
  addFields.call(this, fields);
};

// The adapter opens the shadow database as `{ ...config, database }`; a connectionString in config would win over
// that `database` and point the shadow at the real database, so the URL is passed as separate fields.
// The adapter drops its shadow database while its own pool to it is still open; FORCE ends those sessions, and the
// pool's idle clients then see 57P01 (admin shutdown), which is expected and must not crash the CLI.
const poolQuery = pg.Pool.prototype.query as (...args: unknown[]) => unknown;
function ignoreAdminShutdown(error: Error & { code?: string }): void {
  if (error.code !== '57P01') throw error;
}
const SHADOW_DROP = /^DROP DATABASE "prisma_migrate_shadow_db_[0-9a-f-]+"$/;
(pg.Pool.prototype as { query: (...args: unknown[]) => unknown }).query = function (this: pg.Pool, ...args) {
  if (this.listenerCount('error') === 0) this.on('error', ignoreAdminShutdown);
  if (typeof args[0] === 'string' && SHADOW_DROP.test(args[0])) args[0] = `${args[0]} WITH (FORCE)`;
  return poolQuery.apply(this, args);
};

// The adapter runs a migration script by splitting it on every ";", which cuts function bodies (plpgsql triggers)
// apart. Postgres takes a whole multi-statement script in one simple query, so the script goes as it is.
interface ScriptRunner {
  executeScript(script: string): Promise<void>;
  underlyingDriver(): { query(sql: string): Promise<unknown> };
}
function runScriptsWhole<T extends ScriptRunner>(adapter: T): T {
  adapter.executeScript = async (script) => {
    await adapter.underlyingDriver().query(script);
  };
  return adapter;
}

class WholeScriptPrismaPg extends PrismaPg {
  override async connect() {
    return runScriptsWhole(await super.connect());
  }
  override async connectToShadowDb() {
    return runScriptsWhole(await super.connectToShadowDb());
  }
}

export function migrationAdapter(connectionString: string): PrismaPg {
  const url = new URL(connectionString);
  return new WholeScriptPrismaPg({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
  });
}
