import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgents } from '../testing/fake-agents';
import { bearer, createTeam, registerModel, startTestApp, uniqueName, type TestApp } from '../testing/test-app';

/** Operators manage nodes through the API; every action is audited; members cannot. */
describe('node operations (real HTTP, gRPC, Postgres)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let agents: FakeAgents;

  const as = (token: string) => ({
    get: (path: string) => t.http().get(path).set(bearer(token)),
    post: (path: string, body: object = {}) => t.http().post(path).set(bearer(token)).send(body),
    patch: (path: string, body: object) => t.http().patch(path).set(bearer(token)).send(body),
    delete: (path: string) => t.http().delete(path).set(bearer(token)),
  });

  beforeAll(async () => {
    t = await startTestApp({ GROVE_DISPATCH_INTERVAL_MS: '100', GROVE_HEARTBEAT_INTERVAL_MS: '200' });
    team = await createTeam(t);
    const joinToken = (await as(team.operator).post('/v1/nodes/join-tokens', { name: 'ops' }).expect(201)).body.secret;
    agents = new FakeAgents(t, joinToken);
  });
  afterAll(async () => {
    await agents?.close();
    await t.close();
  });

  it('cordons, labels, uncordons and removes a node by name, leaving an audit event for each action', async () => {
    const name = uniqueName('node');
    const node = await agents.node(name, ['m'], { labels: { gpu: 'h200' } });
    const op = as(team.operator);

    expect((await op.post(`/v1/nodes/${name}/cordon`, { reason: 'firmware update' }).expect(200)).body).toMatchObject({ id: node.id, schedulable: 'cordoned', cordoned: true });
    const labelled = (await op.patch(`/v1/nodes/${node.id}`, { labels: { pool: 'batch', gpu: 'h200-nvl' } }).expect(200)).body;
    expect(labelled).toMatchObject({ labels: { gpu: 'h200-nvl', pool: 'batch' }, agent_labels: { gpu: 'h200' }, operator_labels: { gpu: 'h200-nvl', pool: 'batch' } });
    expect((await op.patch(`/v1/nodes/${name}`, { labels: { gpu: null } }).expect(200)).body.labels).toEqual({ gpu: 'h200', pool: 'batch' });
    expect((await op.post(`/v1/nodes/${name}/uncordon`).expect(200)).body.schedulable).toBe('active');
    await op.delete(`/v1/nodes/${name}`).expect(409); // online and schedulable: drain or cordon first
    await op.post(`/v1/nodes/${name}/cordon`).expect(200);
    node.silence();
    expect((await op.delete(`/v1/nodes/${name}`).expect(200)).body).toMatchObject({ id: node.id, deleted: true });
    await op.get(`/v1/nodes/${node.id}`).expect(404);

    const audit = (await op.get(`/v1/audit-events?target_type=node&target_id=${node.id}`).expect(200)).body;
    expect(audit.data.map((e: { action: string }) => e.action)).toEqual(['node.remove', 'node.cordon', 'node.uncordon', 'node.label', 'node.label', 'node.cordon']);
    expect(audit.data.at(-1)).toMatchObject({ data: { reason: 'firmware update' }, actor: { team_id: team.teamId } });
  });

  it('refuses bad labels with a clear error, unknown nodes with 404, and members with 403', async () => {
    const name = uniqueName('node');
    await agents.node(name, ['m']);
    const op = as(team.operator);
    const bad = await op.patch(`/v1/nodes/${name}`, { labels: { 'bad key!': 'x' } }).expect(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request' });
    expect(bad.body.error.param).toContain('labels');
    await op.post('/v1/nodes/no-such-node/drain').expect(404);

    const member = as(team.member);
    await member.get('/v1/nodes').expect(403);
    await member.post(`/v1/nodes/${name}/cordon`).expect(403);
    await member.patch(`/v1/nodes/${name}`, { labels: { a: 'b' } }).expect(403);
    await member.get('/v1/audit-events').expect(403);
    await member.post('/v1/nodes/join-tokens', { name: 'x' }).expect(403);
  });

  it('audits join tokens, model registration and API tokens', async () => {
    const admin = as(team.admin);
    const token = (await admin.post('/v1/nodes/join-tokens', { name: 'rack-7' }).expect(201)).body;
    await admin.delete(`/v1/nodes/join-tokens/${token.id}`).expect(200);
    const api = (await admin.post('/v1/tokens', { name: 'ci', role: 'member' }).expect(201)).body;
    const actions = async (id: string) => (await admin.get(`/v1/audit-events?target_id=${id}`).expect(200)).body.data.map((e: { action: string }) => e.action);
    expect(await actions(token.id)).toEqual(['join_token.revoke', 'join_token.create']);
    expect(await actions(api.id)).toEqual(['token.create']);
    const model = (await registerModel(t, team.operator, uniqueName('llama')).expect(201)).body;
    expect(await actions(model.id)).toEqual(['model.register']);
    expect(JSON.stringify((await admin.get(`/v1/audit-events?target_id=${api.id}`)).body)).not.toContain(api.secret);
  });
});
