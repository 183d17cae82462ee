import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTeam, startTestApp, uniqueName, type TestApp } from '../testing/test-app';

describe('authentication and roles (HTTP, real Postgres)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;

  beforeAll(async () => {
    t = await startTestApp();
    team = await createTeam(t);
  });
  afterAll(() => t.close());

  it('401 without a token, naming the header', async () => {
    const res = await t.http().get('/v1/jobs').expect(401);
    expect(res.body).toEqual({ error: { code: 'unauthenticated', message: expect.stringContaining('missing bearer token'), param: null } });
  });

  it('401 for an unknown token and for a malformed header', async () => {
    await t.http().get('/v1/jobs').set(bearer('grove_nope')).expect(401);
    const res = await t.http().get('/v1/jobs').set('Authorization', 'Basic abc').expect(401);
    expect(res.body.error.message).toContain('malformed');
  });

  it('403 (not 401) when a valid member token calls an admin or operator route', async () => {
    const admin = await t.http().post('/v1/tokens').set(bearer(team.member)).send({ name: 'x', role: 'member' }).expect(403);
    expect(admin.body.error).toEqual({ code: 'permission_denied', message: 'this action needs the admin role', param: null });
    const operator = await t.http().post('/v1/models').set(bearer(team.member)).field('name', 'm').expect(403);
    expect(operator.body.error.code).toBe('permission_denied');
  });

  it('stores only a hash: the secret never appears in listings, and a revoked token stops working at once', async () => {
    const created = await t.http().post('/v1/tokens').set(bearer(t.adminToken)).send({ name: 'ci', role: 'member', team_id: team.teamId }).expect(201);
    expect(created.body.secret).toMatch(/^grove_[\w-]{43}$/);
    await t.http().get('/v1/jobs').set(bearer(created.body.secret)).expect(200);
    const list = await t.http().get('/v1/tokens').set(bearer(t.adminToken)).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    expect(list.body.data.find((x: { id: string }) => x.id === created.body.id).prefix).toBe(created.body.secret.slice(0, 12));
    await t.http().delete(`/v1/tokens/${created.body.id}`).set(bearer(t.adminToken)).expect(200);
    await t.http().get('/v1/jobs').set(bearer(created.body.secret)).expect(401);
  });

  it('validates token requests with the field named', async () => {
    const res = await t.http().post('/v1/tokens').set(bearer(t.adminToken)).send({ name: 'x', role: 'root' }).expect(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', param: 'role' });
  });

  it('refuses a duplicate team name with 409', async () => {
    const name = uniqueName('dup');
    await t.http().post('/v1/teams').set(bearer(t.adminToken)).send({ name }).expect(201);
    const res = await t.http().post('/v1/teams').set(bearer(t.adminToken)).send({ name }).expect(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', param: 'name' });
  });

  it('health endpoints need no token and report both services', async () => {
    await t.http().get('/healthz').expect(200, { status: 'ok' });
    const ready = await t.http().get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ postgres: 'ok', redis: 'ok' });
  });

  it('serves the OpenAPI document', async () => {
    const doc = await t.http().get('/docs/openapi.json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/jobs', '/v1/files', '/v1/models', '/v1/jobs/{id}/cancel']));
  });
});
