import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTeam, registerModel, startTestApp, uniqueName, type TestApp } from '../testing/test-app';
import { llama3TokenizerUploads, tinyLlamaConfig } from '../testing/tiny-model';

describe('base model registration (HTTP, real Postgres)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;

  beforeAll(async () => {
    t = await startTestApp();
    team = await createTeam(t);
  });
  afterAll(() => t.close());

  it('an operator registers a model; anyone on a token can list and get it by id or name', async () => {
    const name = `${uniqueName('org')}/tiny-llama`;
    const res = await registerModel(t, team.operator, name).expect(201);
    expect(res.body).toMatchObject({ object: 'model', name, architecture: 'LlamaForCausalLM', layers: 2, kv_heads: 2, vocab_size: 128256 });
    expect(res.body.parameters).toBe(2 * (64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 128 + 128) + 128256 * 64 + 64);
    await t.http().get(`/v1/models/${res.body.id}`).set(bearer(team.member)).expect(200);
    const byName = await t.http().get(`/v1/models/${encodeURIComponent(name)}`).set(bearer(team.member)).expect(200);
    expect(byName.body.id).toBe(res.body.id);
    const list = await t.http().get('/v1/models?limit=100').set(bearer(team.member)).expect(200);
    expect(list.body.data.map((m: { id: string }) => m.id)).toContain(res.body.id);
  });

  it.each([
    ['an unknown architecture', { architectures: ['GPT2LMHeadModel'] }, 'config.architectures', 'unsupported architecture GPT2LMHeadModel'],
    ['a missing hidden_size', { hidden_size: undefined }, 'config.hidden_size', '"hidden_size" must be a positive integer'],
    ['heads not a multiple of kv heads', { num_key_value_heads: 3 }, 'config.num_key_value_heads', 'multiple of num_key_value_heads'],
    ['an unsupported rope scaling', { rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'config.rope_scaling', 'yarn'],
    ['a vocabulary smaller than the tokenizer', { vocab_size: 1000 }, 'tokenizer', 'vocab_size is 1000'],
  ])('refuses %s with 422 naming the field, storing nothing', async (_, patch, param, message) => {
    const name = uniqueName('bad');
    const res = await registerModel(t, team.operator, name, tinyLlamaConfig(patch)).expect(422);
    expect(res.body.error).toMatchObject({ code: 'unprocessable', param });
    expect(res.body.error.message).toContain(message);
    await t.http().get(`/v1/models/${name}`).set(bearer(team.member)).expect(404);
    expect(await readdir(join(t.config.dataDir, 'tmp'))).toEqual([]);
  });

  it('refuses a config that is not JSON, and a missing file field, with 400', async () => {
    const files = llama3TokenizerUploads();
    const notJson = await t.http().post('/v1/models').set(bearer(team.operator)).field('name', uniqueName('x'))
      .attach('config', Buffer.from('{nope'), 'config.json')
      .attach('tokenizer', files.tokenizer, 'tokenizer.json')
      .attach('tokenizer_config', files.tokenizerConfig, 'tokenizer_config.json')
      .expect(400);
    expect(notJson.body.error).toMatchObject({ code: 'invalid_request', param: 'config' });
    const missing = await t.http().post('/v1/models').set(bearer(team.operator)).field('name', uniqueName('x'))
      .attach('config', Buffer.from(JSON.stringify(tinyLlamaConfig())), 'config.json')
      .expect(400);
    expect(missing.body.error).toMatchObject({ code: 'invalid_request', param: 'tokenizer' });
  });

  it('refuses a tokenizer that cannot load with 422', async () => {
    const res = await t.http().post('/v1/models').set(bearer(team.operator)).field('name', uniqueName('x'))
      .attach('config', Buffer.from(JSON.stringify(tinyLlamaConfig())), 'config.json')
      .attach('tokenizer', Buffer.from('[]'), 'tokenizer.json')
      .attach('tokenizer_config', llama3TokenizerUploads().tokenizerConfig, 'tokenizer_config.json')
      .expect(422);
    expect(res.body.error).toMatchObject({ code: 'unprocessable', param: 'tokenizer' });
  });

  it('refuses a duplicate name with 409', async () => {
    const name = uniqueName('dup');
    await registerModel(t, team.operator, name).expect(201);
    const res = await registerModel(t, team.operator, name).expect(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', param: 'name' });
  });
});
