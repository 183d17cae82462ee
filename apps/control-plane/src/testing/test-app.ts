import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { TokensService } from '../auth/tokens.service';
import { loadConfig, type AppConfig } from '../config/app-config';
import { createApp } from '../create-app';
import { testServiceUrls } from './test-env';
import { llama3TokenizerUploads, tinyLlamaConfig } from './tiny-model';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  http: () => ReturnType<typeof request>;
  adminToken: string;
  close: () => Promise<void>;
}

let counter = 0;
/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** The real control plane on the real test Postgres and Redis, with its own artifact folder. */
export async function startTestApp(overrides: Partial<Record<string, string>> = {}): Promise<TestApp> {
  const { databaseUrl, redisUrl } = testServiceUrls();
  const dataDir = await mkdtemp(join(tmpdir(), 'grove-test-'));
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    GROVE_DATA_DIR: dataDir,
    LOG_LEVEL: process.env['GROVE_TEST_LOG_LEVEL'] ?? 'silent',
    GROVE_GRPC_PORT: '0',
    ...overrides,
  });
  const app = await createApp(config);
  await app.init();
  const admin = await app.get(TokensService).bootstrapAdmin(uniqueName('admin'), true);
  const server = app.getHttpServer();
  return {
    app,
    config,
    http: () => request(server),
    adminToken: admin!.secret,
    close: async () => {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** A team with one token per role, created through the API as an admin would. */
export async function createTeam(t: TestApp): Promise<{ teamId: string; member: string; operator: string; admin: string }> {
  const team = await t.http().post('/v1/teams').set(bearer(t.adminToken)).send({ name: uniqueName('team') }).expect(201);
  const issue = async (role: string) =>
    (
      await t.http().post('/v1/tokens').set(bearer(t.adminToken)).send({ name: role, role, team_id: team.body.id }).expect(201)
    ).body.secret as string;
  return { teamId: team.body.id, member: await issue('member'), operator: await issue('operator'), admin: await issue('admin') };
}

/** Registers a tiny Llama model with the real Llama 3 tokenizer through the API; returns the response. */
export function registerModel(t: TestApp, operatorToken: string, name: string, config: Record<string, unknown> = tinyLlamaConfig()) {
  const files = llama3TokenizerUploads();
  return t
    .http()
    .post('/v1/models')
    .set(bearer(operatorToken))
    .field('name', name)
    .attach('config', Buffer.from(JSON.stringify(config)), 'config.json')
    .attach('tokenizer', files.tokenizer, 'tokenizer.json')
    .attach('tokenizer_config', files.tokenizerConfig, 'tokenizer_config.json');
}

/** Uploads JSONL text as a dataset through the API; returns the response. */
export function uploadDataset(t: TestApp, token: string, jsonl: string, filename = 'train.jsonl') {
  return t.http().post('/v1/files').set(bearer(token)).attach('file', Buffer.from(jsonl), filename);
}

export function jsonl(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Polls the job until `done` holds (the validation stage runs asynchronously in the same app). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the job as the API presents it
type PresentedJob = { status: string } & Record<string, any>;

export async function waitForJob(t: TestApp, token: string, id: string, done: (job: PresentedJob) => boolean, timeoutMs = 30_000): Promise<PresentedJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.http().get(`/v1/jobs/${id}`).set(bearer(token)).expect(200);
    if (done(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
