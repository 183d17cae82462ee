import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { TokensService } from '../auth/tokens.service';
import { loadConfig } from '../config/app-config';
import { applyMigrations } from '../database/migrate';

/**
 * Creates the first admin token: `bootstrap-admin [--team NAME] [--force]`. Prints the secret once on stdout.
 * Refuses when an active admin token exists, unless --force (e.g. the old one was lost).
 */
async function main(argv: string[]): Promise<number> {
  const team = valueOf(argv, '--team') ?? 'admin';
  const force = argv.includes('--force');
  const base = loadConfig(process.env);
  const config = { ...base, runValidationWorker: false, logLevel: 'warn' as const, grpc: { ...base.grpc, enabled: false } };
  await applyMigrations(config.databaseUrl);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error'] });
  try {
    const token = await app.get(TokensService).bootstrapAdmin(team, force);
    if (!token) {
      process.stderr.write('an active admin token exists already; use --force to create another\n');
      return 1;
    }
    process.stdout.write(`${token.secret}\n`);
    process.stderr.write(`created admin token ${token.id} for team '${team}' (${token.teamId}); it is not shown again\n`);
    return 0;
  } finally {
    await app.close();
  }
}

function valueOf(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bootstrap-admin failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
