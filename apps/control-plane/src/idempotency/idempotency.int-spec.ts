import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTeam, jsonl, registerModel, startTestApp, uniqueName, uploadDataset, type TestApp } from '../testing/test-app';

describe('Idempotency-Key on POST (HTTP, real Postgres)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let body: { model: string; training_file: string; metadata: Record<string, string> };

  beforeAll(async () => {
    t = await startTestApp();
    team = await createTeam(t);
    const model = (await registerModel(t, team.operator, uniqueName('m')).expect(201)).body.name;
    const file = (await uploadDataset(t, team.member, jsonl([{ text: 'hello there' }])).expect(201)).body.id;
    body = { model, training_file: file, metadata: { run: 'ci' } };
  });
  afterAll(() => t.close());

  async function jobCount(tag: string): Promise<number> {
    const res = await t.http().get('/v1/jobs').query({ limit: 100, 'metadata[key]': tag }).set(bearer(team.member)).expect(200);
    return res.body.data.length;
  }

  it('20 concurrent retries with one key create one job and all get the same response', async () => {
    const key = uniqueName('key');
    const payload = { ...body, metadata: { key } };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => t.http().post('/v1/jobs').set(bearer(team.member)).set('Idempotency-Key', key).send(payload)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect(await jobCount(key)).toBe(1);
  });

  it('the same key with another body is a 409, and nothing is created', async () => {
    const key = uniqueName('key');
    await t.http().post('/v1/jobs').set(bearer(team.member)).set('Idempotency-Key', key).send({ ...body, metadata: { key } }).expect(201);
    const res = await t.http().post('/v1/jobs').set(bearer(team.member)).set('Idempotency-Key', key)
      .send({ ...body, metadata: { key }, suffix: 'other' }).expect(409);
    expect(res.body.error).toMatchObject({ code: 'idempotency_conflict', param: 'Idempotency-Key' });
    expect(await jobCount(key)).toBe(1);
  });

  it('key order in the body does not matter; a failed first request can be retried', async () => {
    const key = uniqueName('key');
    const bad = await t.http().post('/v1/jobs').set(bearer(team.member)).set('Idempotency-Key', key)
      .send({ ...body, model: 'missing-model' }).expect(404);
    expect(bad.body.error.param).toBe('model');
    const first = await t.http().post('/v1/jobs').set(bearer(team.member)).set('Idempotency-Key', key)
      .send({ metadata: { key }, training_file: body.training_file, model: body.model }).expect(201);
    const again = await t.http().post('/v1/jobs').set(bearer(team.member)).set('Idempotency-Key', key)
      .send({ model: body.model, training_file: body.training_file, metadata: { key } }).expect(201);
    expect(again.body.id).toBe(first.body.id);
  });

  it('keys are scoped to the token: another token with the same key creates its own job', async () => {
    const key = uniqueName('key');
    const a = await t.http().post('/v1/jobs').set(bearer(team.member)).set('Idempotency-Key', key).send({ ...body, metadata: { key } }).expect(201);
    const b = await t.http().post('/v1/jobs').set(bearer(team.admin)).set('Idempotency-Key', key).send({ ...body, metadata: { key } }).expect(201);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('replays uploads too, hashing the uploaded bytes', async () => {
    const key = uniqueName('key');
    const upload = (text: string) => t.http().post('/v1/files').set(bearer(team.member)).set('Idempotency-Key', key)
      .attach('file', Buffer.from(jsonl([{ text }])), 'a.jsonl');
    const first = await upload('same').expect(201);
    const second = await upload('same').expect(201);
    expect(second.body.id).toBe(first.body.id);
    await upload('different').expect(409);
  });
});

describe('cursor pagination under concurrent inserts', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;

  beforeAll(async () => {
    t = await startTestApp();
    team = await createTeam(t);
  });
  afterAll(() => t.close());

  it('walks every file that existed exactly once while new ones keep arriving', async () => {
    const existing: string[] = [];
    for (let i = 0; i < 25; i++) existing.push((await uploadDataset(t, team.member, jsonl([{ text: `row ${i}` }])).expect(201)).body.id);
    const seen: string[] = [];
    let after: string | undefined;
    let inserted = 0;
    for (;;) {
      const page = await t.http().get('/v1/files').query({ limit: 4, ...(after ? { after } : {}) }).set(bearer(team.member)).expect(200);
      seen.push(...page.body.data.map((f: { id: string }) => f.id));
      await Promise.all([0, 1].map(() => uploadDataset(t, team.member, jsonl([{ text: 'late' }])).expect(201)));
      inserted += 2;
      if (!page.body.has_more) break;
      after = page.body.last_id;
    }
    expect(inserted).toBeGreaterThan(10);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...existing].reverse());
  });
});
