import { defineConfig } from 'prisma/config';
import { migrationAdapter } from './prisma/migration-adapter';

// Prisma's JS schema engine runs migrations through the pg driver adapter, so `prisma migrate` needs no
// downloaded engine binary (this machine and CI are offline).
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => migrationAdapter(requireDatabaseUrl()),
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});

function requireDatabaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set (scripts/services.sh env prints the local one)');
  return url;
}
