import { readTokenFile } from '@grove/datasets';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer, createTeam, jsonl, registerModel, startTestApp, uniqueName, uploadDataset, waitForJob, type TestApp,
} from '../testing/test-app';

describe('fine-tuning jobs: validating → queued (HTTP, real Postgres, Redis, BullMQ)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let model: string;
  let file: string;

  beforeAll(async () => {
    t = await startTestApp();
    team = await createTeam(t);
    model = (await registerModel(t, team.operator, uniqueName('llama')).expect(201)).body.name;
    const rows = [
      { messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4' }] },
      { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Capital of France?' }, { role: 'assistant', content: 'Paris.' }] },
    ];
    file = (await uploadDataset(t, team.member, jsonl(rows)).expect(201)).body.id;
  });
  afterAll(() => t.close());

  it('creates a job with documented defaults, tokenizes it with the real tokenizer and queues it', async () => {
    const res = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file, suffix: 'demo' }).expect(201);
    expect(res.body).toMatchObject({
      object: 'fine_tuning.job',
      status: 'validating',
      model,
      training_file: file,
      priority: 'normal',
      hyperparameters: {
        n_epochs: 3, batch_size: 8, micro_batch_size: 4, learning_rate: 2e-4, lr_scheduler: 'cosine', max_seq_len: 2048,
        lora: { r: 8, alpha: 16, dropout: 0.05, target_modules: ['q_proj', 'v_proj'], use_rslora: false },
      },
    });
    const job = await waitForJob(t, team.member, res.body.id, (j) => j.status !== 'validating');
    expect(job.status).toBe('queued');
    expect(job.dataset_stats.training).toMatchObject({ examples: 2 });
    expect(job.dataset_stats.training.tokens).toBeGreaterThan(10);
    const events = await t.http().get(`/v1/jobs/${job.id}/events`).set(bearer(team.member)).expect(200);
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['job.created', 'validation.started', 'job.queued']);
    const tokens = await readTokenFile(join(t.config.dataDir, 'tokens', job.id, 'train.gtok'));
    expect(tokens.examples).toBe(2);
    expect(tokens.mask.some((m) => m === 1)).toBe(true);
  });

  it('fails the job with the reason when every example is over max_seq_len and overlength is refused', async () => {
    const res = await t.http().post('/v1/jobs').set(bearer(team.member))
      .send({ model, training_file: file, hyperparameters: { max_seq_len: 16, on_overlength: 'refuse' } }).expect(201);
    const job = await waitForJob(t, team.member, res.body.id, (j) => j.status !== 'validating');
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('all_examples_dropped');
    expect(job.error.details.dropped.overlength).toBe(2);
  });

  it.each([
    ['an out-of-range LoRA rank', { lora: { r: 0 } }, 'hyperparameters.lora.r'],
    ['a rank above 256', { lora: { r: 512 } }, 'hyperparameters.lora.r'],
    ['a zero learning rate', { learning_rate: 0 }, 'hyperparameters.learning_rate'],
    ['a wrong type', { n_epochs: 'three' }, 'hyperparameters.n_epochs'],
    ['an unknown target module', { lora: { target_modules: ['wq'] } }, 'hyperparameters.lora.target_modules.0'],
    ['a micro batch that does not divide the batch', { batch_size: 8, micro_batch_size: 3 }, 'hyperparameters.micro_batch_size'],
    ['an unknown hyperparameter', { epochs: 3 }, 'hyperparameters'],
    ['an unknown scheduler', { lr_scheduler: 'step' }, 'hyperparameters.lr_scheduler'],
    ['early stopping without a validation file', { early_stopping: { patience: 3 } }, 'hyperparameters.early_stopping'],
    ['an evaluation interval without a validation file', { eval_every_steps: 5 }, 'hyperparameters.eval_every_steps'],
  ])('refuses %s with 400 naming the field, storing nothing', async (_, hyperparameters, param) => {
    const before = await t.http().get('/v1/jobs?limit=100').set(bearer(team.member));
    const res = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file, hyperparameters }).expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', param });
    expect(res.body.error.message).toContain(param);
    const after = await t.http().get('/v1/jobs?limit=100').set(bearer(team.member));
    expect(after.body.data.length).toBe(before.body.data.length);
  });

  it('refuses malformed JSON, unknown models and files, too much metadata and a too-long max_seq_len', async () => {
    const malformed = await t.http().post('/v1/jobs').set(bearer(team.member)).set('Content-Type', 'application/json').send('{"model":').expect(400);
    expect(malformed.body.error.code).toBe('invalid_request');
    const noModel = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model: 'nope', training_file: file }).expect(404);
    expect(noModel.body.error).toMatchObject({ code: 'not_found', param: 'model' });
    const noFile = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: 'file_nope' }).expect(404);
    expect(noFile.body.error).toMatchObject({ code: 'not_found', param: 'training_file' });
    const noVal = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file, validation_file: 'file_x' }).expect(404);
    expect(noVal.body.error.param).toBe('validation_file');
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    const tooMuch = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file, metadata }).expect(400);
    expect(tooMuch.body.error.param).toBe('metadata');
    const long = await t.http().post('/v1/jobs').set(bearer(team.member))
      .send({ model, training_file: file, hyperparameters: { max_seq_len: 4096 } }).expect(400);
    expect(long.body.error).toMatchObject({ param: 'hyperparameters.max_seq_len' });
    expect(long.body.error.message).toContain('max_position_embeddings (2048)');
  });

  it("hides other teams' jobs and refuses their training files", async () => {
    const other = await createTeam(t);
    const job = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file }).expect(201);
    await t.http().get(`/v1/jobs/${job.body.id}`).set(bearer(other.member)).expect(404);
    await t.http().post(`/v1/jobs/${job.body.id}/cancel`).set(bearer(other.member)).expect(404);
    const res = await t.http().post('/v1/jobs').set(bearer(other.member)).send({ model, training_file: file }).expect(404);
    expect(res.body.error.param).toBe('training_file');
  });

  it('cancels an unfinished job once; cancelling again is a 409', async () => {
    const job = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file }).expect(201);
    const cancelled = await t.http().post(`/v1/jobs/${job.body.id}/cancel`).set(bearer(team.member)).expect(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.finished_at).toEqual(expect.any(Number));
    const again = await t.http().post(`/v1/jobs/${job.body.id}/cancel`).set(bearer(team.member)).expect(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('filters by status, model and metadata', async () => {
    const tag = uniqueName('tag');
    const a = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file, metadata: { tag, kind: 'a' } }).expect(201);
    await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file, metadata: { tag, kind: 'b' } }).expect(201);
    await t.http().post(`/v1/jobs/${a.body.id}/cancel`).set(bearer(team.member)).expect(200);
    const byTag = await t.http().get('/v1/jobs').query({ 'metadata[tag]': tag }).set(bearer(team.member)).expect(200);
    expect(byTag.body.data).toHaveLength(2);
    const byKind = await t.http().get('/v1/jobs').query({ 'metadata[tag]': tag, 'metadata[kind]': 'a' }).set(bearer(team.member)).expect(200);
    expect(byKind.body.data.map((j: { id: string }) => j.id)).toEqual([a.body.id]);
    const cancelled = await t.http().get('/v1/jobs').query({ 'metadata[tag]': tag, status: 'cancelled', model }).set(bearer(team.member)).expect(200);
    expect(cancelled.body.data.map((j: { id: string }) => j.id)).toEqual([a.body.id]);
    const bad = await t.http().get('/v1/jobs').query({ status: 'done' }).set(bearer(team.member)).expect(400);
    expect(bad.body.error.param).toBe('status');
  });

  it('streams events over SSE until the job finishes', async () => {
    const job = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model, training_file: file }).expect(201);
    const res = await t.http().get(`/v1/jobs/${job.body.id}/events/stream`).set(bearer(team.member))
      .buffer(true).parse((response, callback) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('event: job.queued')) void t.http().post(`/v1/jobs/${job.body.id}/cancel`).set(bearer(team.member)).then(() => undefined);
        });
        response.on('end', () => callback(null, text));
      }).expect(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    const types = [...(res.body as string).matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(types).toEqual(['job.created', 'validation.started', 'job.queued', 'job.cancelled', 'end']);
  });
});
