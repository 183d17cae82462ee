import { execFileSync } from 'node:child_process';
import { gpuQueueName } from '@grove/contracts';
import { Queue } from 'bullmq';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonl, uniqueName, uploadDataset, waitForJob } from '../testing/test-app';
import { E2eHarness, TERMINAL } from './e2e-harness';

const ROOT = resolve(__dirname, '../../../..');
const ROWS = Array.from({ length: 12 }, (_, i) => ({ prompt: `Q${i}`, completion: ` A${i}` }));

/**
 * The whole system: the control plane (HTTP, gRPC, BullMQ dispatch, Postgres), the real agent process and the real
 * engine it drives. Needs the engine binary (make test builds it first).
 */
describe('co-training end to end (real control plane, agent process, engine, Postgres, Redis)', () => {
  let h: E2eHarness;
  let fileId: string;

  const submit = async (suffix: string, hyperparameters: Record<string, unknown>) =>
    (await h.t.http().post('/v1/jobs').set(bearer(h.team.member))
      .send({ model: h.modelName, training_file: fileId, suffix, hyperparameters: { max_seq_len: 64, micro_batch_size: 1, ...hyperparameters } })
      .expect(201)).body.id as string;
  const agent = (nodeName: string, joinToken?: string) => h.agent(nodeName, joinToken);
  const job = (id: string) => h.job(id);
  const events = (id: string) => h.events(id);
  const until = <T>(what: string, probe: () => Promise<T | undefined>, ms?: number) => h.until(what, probe, ms);
  /** The adapter's files, the steps its metrics.jsonl holds, and its tensor shapes. */
  const adapter = async (id: string) => {
    const a = await h.adapter(id);
    return { files: a.files, steps: a.metrics.map((m) => m.step as number), header: a.header };
  };

  beforeAll(async () => {
    h = await E2eHarness.start({ GROVE_DISPATCH_INTERVAL_MS: '200', GROVE_HEARTBEAT_INTERVAL_MS: '500', GROVE_NODE_GRACE_MS: '4000', GROVE_CHECKPOINT_EVERY: '4', GROVE_DISPATCH_RESEND_MS: '3000' });
    fileId = (await uploadDataset(h.t, h.team.member, jsonl(ROWS)).expect(201)).body.id;
  }, 180_000);

  afterEach(() => h.reset());

  afterAll(async () => {
    await h?.close();
  });

  it('co-trains 3 jobs in one engine to success; each adapter has its own rank, modules and exactly its steps', async () => {
    const node = agent(uniqueName('node'));
    const ids = [
      await submit('a', { n_epochs: 1, batch_size: 2, lora: { r: 4, target_modules: ['q_proj', 'v_proj'] } }),
      await submit('b', { n_epochs: 1, batch_size: 3, learning_rate: 1e-3, lr_scheduler: 'linear', lora: { r: 8, target_modules: ['gate_proj', 'up_proj', 'down_proj'] } }),
      await submit('c', { n_epochs: 2, batch_size: 4, lr_scheduler: 'constant', lora: { r: 2, target_modules: ['o_proj'] } }),
    ];
    const done = await until('3 jobs to finish', async () => {
      const jobs = await Promise.all(ids.map(job));
      return jobs.every((j) => TERMINAL.includes(j.status)) ? jobs : undefined;
    });
    expect(done.map((j) => [j.status, j.total_steps])).toEqual([['succeeded', 6], ['succeeded', 4], ['succeeded', 6]]);
    const nodeIds = new Set((await Promise.all(ids.map(events))).flatMap((e) => e.filter((x) => x.type === 'job.assigned').map((x) => x.data.node_id)));
    expect(nodeIds.size).toBe(1);
    for (const [i, id] of ids.entries()) {
      const a = await adapter(id);
      expect(a.files).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'metrics.jsonl']);
      expect(a.steps).toEqual(Array.from({ length: done[i].total_steps }, (_, k) => k + 1));
      const keys = Object.keys(a.header);
      const modules = new Set(keys.map((k) => k.split('.').at(-3)));
      expect([...modules].sort()).toEqual([...done[i].hyperparameters.lora.target_modules].sort());
      const loraA = keys.find((k) => k.endsWith('lora_A.weight'))!;
      expect(a.header[loraA].shape[0]).toBe(done[i].hyperparameters.lora.r);
      // Step metrics travel with heartbeats, asynchronously to the final report.
      const curve = await until('the whole loss curve', async () => {
        const c = (await events(id)).filter((e) => e.type === 'metrics');
        return c.length >= done[i].total_steps ? c : undefined;
      }, 10_000).catch(async () => (await events(id)).filter((e) => e.type === 'metrics'));
      expect(curve.length).toBeGreaterThanOrEqual(done[i].total_steps);
    }
    expect(await node.stop()).toBe(0);
  });

  it('cancelling one co-trained job leaves the others training to success', async () => {
    agent(uniqueName('node'));
    const keep = await submit('keep', { n_epochs: 3, batch_size: 2 });
    const drop = await submit('drop', { n_epochs: 20, batch_size: 2 });
    await until('the job to be cancelled to run', async () => ((await job(drop)).status === 'running' ? true : undefined));
    await h.t.http().post(`/v1/jobs/${drop}/cancel`).set(bearer(h.team.member)).expect(200);
    const kept = await waitForJob(h.t, h.team.member, keep, (j) => TERMINAL.includes(j.status), 90_000);
    expect(kept.status).toBe('succeeded');
    expect((await job(drop)).status).toBe('cancelled');
  });

  it('kill -9 of the agent mid-run: a new agent resumes from the checkpoint and every job ends with exactly its steps', async () => {
    const name = uniqueName('node');
    const first = agent(name);
    const ids = [await submit('k1', { n_epochs: 3, batch_size: 2 }), await submit('k2', { n_epochs: 2, batch_size: 1 })];
    await until('a checkpoint of each job', async () => {
      const all = await Promise.all(ids.map(async (id) => (await events(id)).some((e) => e.type === 'checkpoint.saved')));
      return all.every(Boolean) ? true : undefined;
    });
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    agent(name);
    const done = await until('both jobs to finish', async () => {
      const jobs = await Promise.all(ids.map(job));
      return jobs.every((j) => TERMINAL.includes(j.status)) ? jobs : undefined;
    });
    for (const [i, id] of ids.entries()) {
      expect(done[i].status).toBe('succeeded');
      expect(done[i].attempt).toBeGreaterThan(1);
      const types = (await events(id)).map((e) => e.type);
      expect(types).toContain('job.requeued');
      const a = await adapter(id);
      expect(a.steps).toEqual(Array.from({ length: done[i].total_steps }, (_, k) => k + 1));
    }
  });

  it('drain: co-trained jobs checkpoint, move to another node and finish there with exactly their steps; cordon is respected', async () => {
    const [nameA, nameB] = [uniqueName('node'), uniqueName('node')];
    agent(nameA);
    agent(nameB);
    const operator = (method: 'get' | 'post', path: string) => h.t.http()[method](path).set(bearer(h.team.operator));
    const nodes = await until('both nodes to register', async () => {
      const list = (await operator('get', '/v1/nodes').expect(200)).body.data as { id: string; name: string; schedulable: string }[];
      const [a, b] = [list.find((n) => n.name === nameA), list.find((n) => n.name === nameB)];
      return a && b ? { a, b } : undefined;
    });
    // Both nodes cordoned: the jobs wait, and say why; then node A alone opens and takes both in one round.
    for (const name of [nameA, nameB]) {
      expect((await operator('post', `/v1/nodes/${name}/cordon`).send({ reason: 'e2e' }).expect(200)).body.schedulable).toBe('cordoned');
    }
    const ids = [await submit('d1', { n_epochs: 20, batch_size: 1 }), await submit('d2', { n_epochs: 20, batch_size: 1, lora: { r: 4 } })];
    await until('both jobs to wait on cordoned nodes', async () => {
      const jobs = await Promise.all(ids.map(job));
      return jobs.every((j) => j.wait_reason?.code === 'all_matching_nodes_cordoned') ? jobs : undefined;
    });
    await operator('post', `/v1/nodes/${nameA}/uncordon`).expect(200);
    const before = await until('both jobs co-trained on node A', async () => {
      const jobs = await Promise.all(ids.map(job));
      return jobs.every((j) => j.status === 'running') ? jobs : undefined;
    });
    expect(before.map((j) => j.node_id)).toEqual([nodes.a.id, nodes.a.id]);

    await operator('post', `/v1/nodes/${nameB}/uncordon`).expect(200);
    expect((await operator('post', `/v1/nodes/${nodes.a.id}/drain`).send({}).expect(200)).body.schedulable).toBe('draining');
    const done = await until('both jobs to finish', async () => {
      const jobs = await Promise.all(ids.map(job));
      return jobs.every((j) => TERMINAL.includes(j.status)) ? jobs : undefined;
    });
    for (const [i, id] of ids.entries()) {
      expect(done[i]).toMatchObject({ status: 'succeeded', node_id: nodes.b.id });
      expect(done[i].preemptions).toBe(1);
      const types = (await events(id)).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['job.preempting', 'job.preempted']));
      expect((await adapter(id)).steps).toEqual(Array.from({ length: done[i].total_steps }, (_, k) => k + 1));
    }
    const drained = await until('node A to finish draining', async () => {
      const a = (await operator('get', `/v1/nodes/${nameA}`).expect(200)).body;
      return a.schedulable === 'cordoned' ? a : undefined;
    });
    expect(drained.draining).toBe(false);
    const audit = (await operator('get', `/v1/audit-events?target_id=${nodes.a.id}`).expect(200)).body.data.map((e: { action: string }) => e.action);
    expect(audit).toContain('node.drain');
  });

  it('a duplicated start delivery never starts a job twice', async () => {
    agent(uniqueName('node'));
    const id = await submit('dup', { n_epochs: 2, batch_size: 2 });
    const running = await until('the job to run', async () => {
      const j = await job(id);
      return j.status === 'running' ? j : undefined;
    });
    const url = new URL(h.t.config.redisUrl);
    const queue = new Queue(gpuQueueName(running.node_id, 0), { connection: { host: url.hostname, port: Number(url.port), db: Number(url.pathname.slice(1) || 0) } });
    await queue.add('start', { kind: 'start', jobId: id, attempt: running.attempt }, { jobId: `dup-${id}` });
    await queue.close();
    const done = await waitForJob(h.t, h.team.member, id, (j) => TERMINAL.includes(j.status), 90_000);
    expect(done.status).toBe('succeeded');
    expect((await events(id)).filter((e) => e.type === 'job.started')).toHaveLength(1);
    expect((await adapter(id)).steps).toEqual(Array.from({ length: done.total_steps }, (_, k) => k + 1));
  });

  it('Redis restarted mid-run loses no job', async () => {
    agent(uniqueName('node'));
    const id = await submit('redis', { n_epochs: 4, batch_size: 2 });
    await until('the job to run', async () => ((await job(id)).status === 'running' ? true : undefined));
    const port = new URL(h.t.config.redisUrl).port;
    execFileSync('redis-cli', ['-p', port, 'shutdown']);
    execFileSync(join(ROOT, 'scripts/services.sh'), ['start'], { env: { ...process.env, DATABASE_URL: 'postgresql://external', REDIS_URL: '' }, stdio: 'ignore' });
    const done = await waitForJob(h.t, h.team.member, id, (j) => TERMINAL.includes(j.status), 120_000);
    expect(done.status).toBe('succeeded');
  });

  it('an agent with a bad join token is refused and exits with a clear error', async () => {
    const bad = agent(uniqueName('node'), 'grove_join_not-a-token');
    expect(await bad.exited()).not.toBe(0);
    expect(bad.output.join('')).toMatch(/join token/i);
  });
});

