import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Applies the committed migrations with Prisma's own `migrate deploy` (idempotent; a no-op when up to date). */
export async function applyMigrations(databaseUrl: string): Promise<void> {
  const root = resolve(__dirname, '../../../..');
  const prisma = resolve(root, 'node_modules/.bin/prisma');
  try {
    await run(prisma, ['migrate', 'deploy'], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl } });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`prisma migrate deploy failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}
