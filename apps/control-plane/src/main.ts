import 'reflect-metadata';
import { loadConfig } from './config/app-config';
import { createApp } from './create-app';
import { applyMigrations } from './database/migrate';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  await applyMigrations(config.databaseUrl);
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  process.stdout.write(JSON.stringify({ level: 30, msg: `control plane listening on http://${config.host}:${config.port}` }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`control plane failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
