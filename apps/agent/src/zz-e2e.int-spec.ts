// Throwaway end-to-end check (not committed: it imports the control plane, which the agent project may not).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentGrpcServer } from '../../control-plane/src/agent-api/agent-grpc.server';
import { bearer, createTeam, jsonl, registerModel, startTestApp, uniqueName, uploadDataset, waitForJob, type TestApp } from '../../control-plane/src/testing/test-app';
import { tinyLlamaConfig } from '../../control-plane/src/testing/tiny-model';
import { loadAgentConfig } from './config/agent-config';
import { startAgent, type RunningAgent } from './start-agent';
import { ENGINE_BIN } from './testing/tiny-engine-fixture';

describe('agent + real control plane', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let agent: RunningAgent | undefined;
  const root = mkdtempSync(join(tmpdir(), 'agent-e2e-'));
  let env: Record<string, string>;
  let modelName: string;
  let fileId: string;

  beforeAll(async () => {
    t = await startTestApp({ GROVE_DISPATCH_INTERVAL_MS: '100', GROVE_HEARTBEAT_INTERVAL_MS: '200', GROVE_NODE_GRACE_MS: '3000', GROVE_CHECKPOINT_EVERY: '3' });
    await t.app.listen(0, '127.0.0.1');
    team = await createTeam(t);
    const joinToken = (await t.http().post('/v1/nodes/join-tokens').set(bearer(team.operator)).send({ name: 'e2e' }).expect(201)).body.secret;
    modelName = (await registerModel(t, team.operator, uniqueName('llama')).expect(201)).body.name;
    const dir = join(root, 'models', modelName.replaceAll('/', '--'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(root, 'cfg.json'), JSON.stringify(tinyLlamaConfig()));
    execFileSync(ENGINE_BIN, ['make-model', join(root, 'cfg.json'), dir]);
    fileId = (await uploadDataset(t, team.member, jsonl(Array.from({ length: 12 }, (_, i) => ({ prompt: `Q${i}?`, completion: ` A${i}.` }))))).body.id;
    env = {
      GROVE_GRPC_URL: `127.0.0.1:${t.app.get(AgentGrpcServer).port}`,
      GROVE_API_URL: `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`,
      GROVE_JOIN_TOKEN: joinToken,
      REDIS_URL: t.config.redisUrl,
      GROVE_NODE_NAME: uniqueName('node'),
      GROVE_MODELS_DIR: join(root, 'models'),
      GROVE_WORK_DIR: join(root, 'work'),
      GROVE_ENGINE_BIN: ENGINE_BIN,
      GROVE_CPU_SLOTS: '1',
      LOG_LEVEL: process.env['E2E_LOG'] ?? 'silent',
    };
    agent = await startAgent(loadAgentConfig(env));
  }, 120_000);
  afterAll(async () => {
    await agent?.stop();
    await t.close();
  });

  it('trains a submitted job to success with its loss curve and adapter', async () => {
    const job = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model: modelName, training_file: fileId, hyperparameters: { n_epochs: 2, batch_size: 2, max_seq_len: 128 } }).expect(201);
    const done = await waitForJob(t, team.member, job.body.id, (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), 60_000);
    console.log(JSON.stringify(done));
    expect(done.status).toBe('succeeded');
    const events = (await t.http().get(`/v1/jobs/${job.body.id}/events?limit=100`).set(bearer(team.member))).body.data;
    console.log(events.map((e: { type: string; data: unknown }) => `${e.type} ${JSON.stringify(e.data)}`).join('\n'));
    expect(events.filter((e: { type: string }) => e.type === 'metrics').length).toBe(done.total_steps ?? 12);
  }, 90_000);

  it('hands a running job back on stop, and a new agent resumes it from the checkpoint', async () => {
    const job = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model: modelName, training_file: fileId, hyperparameters: { n_epochs: 100, batch_size: 1, max_seq_len: 128 } }).expect(201);
    await waitForJob(t, team.member, job.body.id, (j) => j.status === 'running', 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    await agent?.stop();
    const after = (await t.http().get(`/v1/jobs/${job.body.id}`).set(bearer(team.member))).body;
    console.log('after stop', JSON.stringify(after));
    agent = await startAgent(loadAgentConfig(env));
    const done = await waitForJob(t, team.member, job.body.id, (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), 120_000);
    console.log(JSON.stringify(done));
    const events = (await t.http().get(`/v1/jobs/${job.body.id}/events?limit=100`).set(bearer(team.member))).body.data;
    console.log(events.filter((e: { type: string }) => e.type !== 'metrics').map((e: { type: string; data: unknown }) => `${e.type} ${JSON.stringify(e.data)}`).join('\n'));
    expect(done.status).toBe('succeeded');
  }, 180_000);
});
