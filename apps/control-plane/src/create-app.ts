import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { serveOpenApi } from './openapi';

/** Builds the configured Nest application (used by main and by the HTTP tests). */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  await mkdir(join(resolve(config.dataDir), 'tmp'), { recursive: true });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: '1mb' });
  app.enableShutdownHooks();
  app.set('trust proxy', false);
  app.set('query parser', 'extended'); // metadata[key]=value filters
  serveOpenApi(app);
  return app;
}
