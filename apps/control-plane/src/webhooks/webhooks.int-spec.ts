import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer, createTeam, jsonl, registerModel, startTestApp, uniqueName, uploadDataset, waitForJob, type TestApp,
} from '../testing/test-app';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver: records every request; each path answers from its script of statuses (the last one repeats). */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const script = this.scripts.get(path) ?? [200];
        const status = (script.length > 1 ? script.shift() : script[0]) ?? 200;
        res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status >= 300 ? `receiver says ${status}` : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answer(path: string, statuses: number[]): void {
    this.scripts.set(path, statuses);
  }

  to(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The Node recipe from docs/webhooks.md, verbatim. */
function verifyGroveSignature(secret: string, header: string, rawBody: string, toleranceSeconds = 300): boolean {
  const items = header.split(',').map((part) => part.trim().split('='));
  const t = Number(items.find(([key]) => key === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  return items.some(([key, value]) =>
    key === 'v1' && /^[0-9a-f]{64}$/.test(value ?? '') && timingSafeEqual(Buffer.from(value ?? '', 'hex'), expected));
}

async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Small retry delays, so the whole schedule plays out within a test. */
const FAST_WEBHOOKS = {
  GROVE_WEBHOOK_POLL_MS: '100',
  GROVE_WEBHOOK_RETRY_BASE_MS: '100',
  GROVE_WEBHOOK_RETRY_MAX_MS: '400',
  GROVE_WEBHOOK_MAX_ATTEMPTS: '3',
  GROVE_WEBHOOK_TIMEOUT_MS: '2000',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('team webhooks (HTTP, real Postgres and Redis, a local receiver)', () => {
  let t: TestApp;
  let receiver: Receiver;
  let model: string;
  const examples = [
    { messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4' }] },
    { messages: [{ role: 'user', content: 'Capital of France?' }, { role: 'assistant', content: 'Paris.' }] },
  ];

  /** A team with a dataset, and a job of it that is queued (validated) and waits for a GPU. */
  async function teamWithFile() {
    const team = await createTeam(t);
    const file = (await uploadDataset(t, team.member, jsonl(examples)).expect(201)).body.id as string;
    return { ...team, file };
  }
  async function queuedJob(token: string, file: string): Promise<string> {
    const job = await t.http().post('/v1/jobs').set(bearer(token)).send({ model, training_file: file }).expect(201);
    await waitForJob(t, token, job.body.id, (j) => j.status === 'queued');
    return job.body.id;
  }
  async function createWebhook(token: string, path: string, events?: string[]) {
    const res = await t.http().post('/v1/webhooks').set(bearer(token)).send({ url: `${receiver.url}${path}`, ...(events ? { events } : {}) }).expect(201);
    return res.body as { id: string; secret: string; events: string[] };
  }
  interface Delivery {
    id: string;
    status: string;
    attempts: number;
    last_status_code: number | null;
    [field: string]: unknown;
  }
  async function deliveries(token: string, webhookId: string): Promise<Delivery[]> {
    return (await t.http().get(`/v1/webhooks/${webhookId}/deliveries`).set(bearer(token)).expect(200)).body.data;
  }
  /** The webhook's newest delivery, once `done` holds for it. */
  const newestDelivery = (token: string, webhookId: string, done: (d: Delivery) => boolean, what: string) =>
    eventually(async () => {
      const [newest] = await deliveries(token, webhookId);
      return newest && done(newest) ? newest : undefined;
    }, what);
  const firstArrival = (path: string, what: string) => eventually(() => receiver.to(path)[0], what);
  const verifies = (secret: string, r: Received) => verifyGroveSignature(secret, String(r.headers['grove-signature']), r.body);
  const jobOf = (r: Received) => (JSON.parse(r.body) as { data: { job: { id: string } } }).data.job.id;

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    t = await startTestApp(FAST_WEBHOOKS);
    const operator = (await createTeam(t)).operator;
    model = (await registerModel(t, operator, uniqueName('llama')).expect(201)).body.name;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('creates webhooks with the default events, shows the secret only once, and refuses unknown events', async () => {
    const team = await createTeam(t);
    const created = await t.http().post('/v1/webhooks').set(bearer(team.member)).set('Idempotency-Key', 'wh-1')
      .send({ url: 'https://example.com/hooks' }).expect(201);
    expect(created.body).toMatchObject({ object: 'webhook', url: 'https://example.com/hooks', events: ['job.succeeded', 'job.failed', 'job.cancelled'] });
    expect(created.body.secret).toMatch(/^whsec_/);
    const replay = await t.http().post('/v1/webhooks').set(bearer(team.member)).set('Idempotency-Key', 'wh-1')
      .send({ url: 'https://example.com/hooks' }).expect(201);
    expect(replay.body.id).toBe(created.body.id);
    const got = await t.http().get(`/v1/webhooks/${created.body.id}`).set(bearer(team.member)).expect(200);
    expect(got.body).not.toHaveProperty('secret');
    const list = await t.http().get('/v1/webhooks').set(bearer(team.member)).expect(200);
    expect(list.body).toMatchObject({ object: 'list', has_more: false, data: [{ id: created.body.id }] });

    const unknown = await t.http().post('/v1/webhooks').set(bearer(team.member))
      .send({ url: 'https://example.com/hooks', events: ['job.failed', 'job.exploded'] }).expect(400);
    expect(unknown.body.error).toMatchObject({ code: 'invalid_request', param: 'events.1' });
    expect(unknown.body.error.message).toContain("'job.exploded'");
    const ftp = await t.http().post('/v1/webhooks').set(bearer(team.member)).send({ url: 'ftp://example.com/x' }).expect(400);
    expect(ftp.body.error.param).toBe('url');
  });

  it('announces a cancelled job once, signed per the documented recipe, and only the events subscribed to', async () => {
    const team = await teamWithFile();
    const terminal = await createWebhook(team.member, '/terminal');
    const queuedOnly = await createWebhook(team.member, '/queued', ['job.queued', 'job.queued']);
    expect(queuedOnly.events).toEqual(['job.queued']);
    const jobId = await queuedJob(team.member, team.file);
    await t.http().post(`/v1/jobs/${jobId}/cancel`).set(bearer(team.member)).expect(200);

    const hit = await firstArrival('/terminal', 'the cancel announcement');
    const body = JSON.parse(hit.body);
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['grove-event']).toBe('job.cancelled');
    expect(hit.headers['grove-delivery']).toBe(body.id);
    expect(verifies(terminal.secret, hit)).toBe(true);
    expect(verifies(queuedOnly.secret, hit)).toBe(false);
    expect(body).toMatchObject({ type: 'job.cancelled', created_at: expect.any(Number), data: { job: { id: jobId, object: 'fine_tuning.job', status: 'cancelled', model } } });
    const job = await t.http().get(`/v1/jobs/${jobId}`).set(bearer(team.member)).expect(200);
    expect(body.data.job).toEqual(job.body);

    const queued = await firstArrival('/queued', 'the queued announcement');
    expect(queued.headers['grove-event']).toBe('job.queued');
    expect(jobOf(queued)).toBe(jobId);
    await sleep(600); // several fan-out and delivery rounds: nothing more may arrive
    expect(receiver.to('/terminal')).toHaveLength(1);
    expect(receiver.to('/queued')).toHaveLength(1);

    const log = await deliveries(team.member, terminal.id);
    expect(log).toEqual([expect.objectContaining({
      id: body.id, object: 'webhook.delivery', webhook_id: terminal.id, event_type: 'job.cancelled', job_id: jobId, status: 'delivered',
      attempts: 1, last_status_code: 200, last_error: null, next_attempt_at: null, created_at: expect.any(Number), delivered_at: expect.any(Number),
    })]);
  });

  it('announces a job that failed validation (every example dropped)', async () => {
    const team = await teamWithFile();
    const hook = await createWebhook(team.member, '/failed');
    const job = await t.http().post('/v1/jobs').set(bearer(team.member))
      .send({ model, training_file: team.file, hyperparameters: { max_seq_len: 16, on_overlength: 'refuse' } }).expect(201);
    const hit = await firstArrival('/failed', 'the failure announcement');
    expect(JSON.parse(hit.body)).toMatchObject({ type: 'job.failed', data: { job: { id: job.body.id, status: 'failed', error: { code: 'all_examples_dropped' } } } });
    expect(verifies(hook.secret, hit)).toBe(true);
    await sleep(400);
    expect(receiver.to('/failed')).toHaveLength(1);
  });

  it('retries with backoff: 500, 500, then 200 is delivered on attempt 3, the same delivery each time', async () => {
    const team = await teamWithFile();
    receiver.answer('/flaky', [500, 500, 200]);
    const hook = await createWebhook(team.member, '/flaky');
    const jobId = await queuedJob(team.member, team.file);
    await t.http().post(`/v1/jobs/${jobId}/cancel`).set(bearer(team.member)).expect(200);

    const first = await newestDelivery(team.member, hook.id, (d) => d.last_status_code === 500, 'the first failed attempt');
    expect(first).toMatchObject({ status: 'pending', attempts: 1, last_error: 'HTTP 500: receiver says 500', next_attempt_at: expect.any(Number) });
    const done = await newestDelivery(team.member, hook.id, (d) => d.status === 'delivered', 'delivery on attempt 3');
    expect(done).toMatchObject({ id: first.id, attempts: 3, last_status_code: 200, last_error: null, job_id: jobId });
    const hits = receiver.to('/flaky');
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.headers['grove-delivery']))).toEqual(new Set([done.id]));
    expect(new Set(hits.map((h) => h.body)).size).toBe(1);
    for (const h of hits) expect(verifies(hook.secret, h)).toBe(true);
  });

  it('fails a delivery after the last attempt; redeliver sends it again', async () => {
    const team = await teamWithFile();
    receiver.answer('/down', [503]);
    const hook = await createWebhook(team.member, '/down');
    const jobId = await queuedJob(team.member, team.file);
    await t.http().post(`/v1/jobs/${jobId}/cancel`).set(bearer(team.member)).expect(200);

    const failed = await newestDelivery(team.member, hook.id, (d) => d.status === 'failed', 'the delivery to fail');
    expect(failed).toMatchObject({ attempts: 3, last_status_code: 503, last_error: 'HTTP 503: receiver says 503', next_attempt_at: null, delivered_at: null });
    expect(receiver.to('/down')).toHaveLength(3);

    receiver.answer('/down', [200]);
    const again = await t.http().post(`/v1/webhooks/${hook.id}/deliveries/${failed.id}/redeliver`).set(bearer(team.member)).expect(200);
    expect(again.body).toMatchObject({ id: failed.id, status: 'pending', attempts: 0 });
    const delivered = await newestDelivery(team.member, hook.id, (d) => d.status === 'delivered', 'the redelivery');
    expect(delivered).toMatchObject({ attempts: 1, last_status_code: 200 });
    const resent = receiver.to('/down')[3];
    expect(resent && jobOf(resent)).toBe(jobId);
    expect(resent && verifies(hook.secret, resent)).toBe(true);

    const missing = await t.http().post(`/v1/webhooks/${hook.id}/deliveries/whdel_nope/redeliver`).set(bearer(team.member)).expect(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it("hides another team's webhook and its deliveries (404), and stops delivering once deleted", async () => {
    const team = await teamWithFile();
    const other = await createTeam(t);
    const hook = await createWebhook(team.member, '/private');
    for (const path of [`/v1/webhooks/${hook.id}`, `/v1/webhooks/${hook.id}/deliveries`]) {
      const res = await t.http().get(path).set(bearer(other.member)).expect(404);
      expect(res.body.error.code).toBe('not_found');
    }
    await t.http().post(`/v1/webhooks/${hook.id}/deliveries/whdel_x/redeliver`).set(bearer(other.member)).expect(404);
    await t.http().delete(`/v1/webhooks/${hook.id}`).set(bearer(other.member)).expect(404);
    expect((await t.http().get('/v1/webhooks').set(bearer(other.member)).expect(200)).body.data).toEqual([]);

    await t.http().delete(`/v1/webhooks/${hook.id}`).set(bearer(team.member)).expect(200, { id: hook.id, object: 'webhook', deleted: true });
    await t.http().get(`/v1/webhooks/${hook.id}`).set(bearer(team.member)).expect(404);
    const jobId = await queuedJob(team.member, team.file);
    await t.http().post(`/v1/jobs/${jobId}/cancel`).set(bearer(team.member)).expect(200);
    await sleep(600);
    expect(receiver.to('/private')).toHaveLength(0);
  });

  it('announces each event once when two replicas fan out and deliver side by side', async () => {
    const replica = await startTestApp(FAST_WEBHOOKS);
    try {
      const team = await teamWithFile();
      await createWebhook(team.member, '/replicas');
      const jobs = await Promise.all([1, 2, 3, 4].map(() => queuedJob(team.member, team.file)));
      await Promise.all(jobs.map((id, i) => (i % 2 ? replica : t).http().post(`/v1/jobs/${id}/cancel`).set(bearer(team.member)).expect(200)));
      await eventually(() => (receiver.to('/replicas').length >= jobs.length ? true : undefined), 'every announcement');
      await sleep(600);
      expect(receiver.to('/replicas').map(jobOf).sort()).toEqual([...jobs].sort());
    } finally {
      await replica.close();
    }
  });
});
