import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTeam, jsonl, registerModel, startTestApp, uniqueName, uploadDataset, type TestApp } from '../testing/test-app';

const VALID = jsonl([
  { prompt: 'Say hi', completion: ' hi' },
  { prompt: 'Say bye', completion: ' bye' },
]);

async function filesUnder(dir: string): Promise<string[]> {
  return readdir(dir, { recursive: true }).catch(() => []);
}

describe('datasets (HTTP, real Postgres, filesystem artifact store)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;

  beforeAll(async () => {
    t = await startTestApp({ GROVE_MAX_REPORTED_ERRORS: '3' });
    team = await createTeam(t);
  });
  afterAll(() => t.close());

  it('stores a valid JSONL file with its format, counts and hash', async () => {
    const res = await uploadDataset(t, team.member, VALID).expect(201);
    expect(res.body).toMatchObject({ object: 'file', filename: 'train.jsonl', format: 'prompt_completion', examples: 2, bytes: VALID.length });
    expect(res.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    const got = await t.http().get(`/v1/files/${res.body.id}`).set(bearer(team.member)).expect(200);
    expect(got.body).toEqual(res.body);
  });

  it('refuses bad lines with 422 listing the first N line numbers and reasons, storing nothing', async () => {
    const before = await filesUnder(join(t.config.dataDir, 'datasets'));
    const body = [
      JSON.stringify({ prompt: 'ok', completion: 'ok' }),
      '{not json',
      JSON.stringify({ prompt: 'x', completion: 5 }),
      JSON.stringify({ foo: 1 }),
      JSON.stringify({ text: 'mixed formats' }),
    ].join('\n');
    const res = await uploadDataset(t, team.member, body).expect(422);
    expect(res.body.error).toMatchObject({ code: 'unprocessable', param: 'file' });
    expect(res.body.error.details.error_count).toBe(4);
    expect(res.body.error.details.errors.map((e: { line: number }) => e.line)).toEqual([2, 3, 4]);
    expect(res.body.error.details.errors[1].reason).toContain('completion');
    expect(await filesUnder(join(t.config.dataDir, 'datasets'))).toEqual(before);
    expect(await readdir(join(t.config.dataDir, 'tmp'))).toEqual([]);
  });

  it('refuses an empty file with 422', async () => {
    const res = await uploadDataset(t, team.member, '').expect(422);
    expect(res.body.error.code).toBe('unprocessable');
  });

  it('refuses an upload over the configured size limit with 413 and leaves no temp file', async () => {
    const small = await startTestApp({ GROVE_MAX_UPLOAD_BYTES: '4096' });
    try {
      const smallTeam = await createTeam(small);
      const big = jsonl(Array.from({ length: 200 }, (_, i) => ({ text: `example ${i} `.repeat(5) })));
      const res = await uploadDataset(small, smallTeam.member, big).expect(413);
      expect(res.body.error.code).toBe('payload_too_large');
      expect(await readdir(join(small.config.dataDir, 'tmp'))).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('refuses a request without the file field with 400 naming it', async () => {
    const res = await t.http().post('/v1/files').set(bearer(team.member)).field('x', '1').expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', param: 'file' });
  });

  it("hides other teams' files (404)", async () => {
    const other = await createTeam(t);
    const mine = await uploadDataset(t, team.member, VALID).expect(201);
    await t.http().get(`/v1/files/${mine.body.id}`).set(bearer(other.member)).expect(404);
    await t.http().delete(`/v1/files/${mine.body.id}`).set(bearer(other.member)).expect(404);
    const list = await t.http().get('/v1/files?limit=100').set(bearer(other.member)).expect(200);
    expect(list.body.data.map((f: { id: string }) => f.id)).not.toContain(mine.body.id);
  });

  it('refuses to delete a file an unfinished job uses (409), then deletes it once the job is cancelled', async () => {
    const model = await registerModel(t, team.operator, uniqueName('m')).expect(201);
    const file = await uploadDataset(t, team.member, VALID).expect(201);
    const job = await t.http().post('/v1/jobs').set(bearer(team.member)).send({ model: model.body.name, training_file: file.body.id }).expect(201);
    const refused = await t.http().delete(`/v1/files/${file.body.id}`).set(bearer(team.member)).expect(409);
    expect(refused.body.error.code).toBe('conflict');
    await t.http().post(`/v1/jobs/${job.body.id}/cancel`).set(bearer(team.member)).expect(200);
    await t.http().delete(`/v1/files/${file.body.id}`).set(bearer(team.member)).expect(200, { id: file.body.id, object: 'file', deleted: true });
    await t.http().get(`/v1/files/${file.body.id}`).set(bearer(team.member)).expect(404);
  });
});
