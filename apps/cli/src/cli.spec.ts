import { describe, expect, it } from 'vitest';
import { runCli } from './cli';
import type { CliDeps } from './cli-context';
import { ExitCode } from './exit-codes';
import { fakeFetch, json, sse } from './testing/fake-fetch';

const NOW = 1_700_000_000;
const JOB = { id: 'job_1', object: 'fine_tuning.job', status: 'validating', model: 'org/tiny', training_file: 'file_1', hyperparameters: {}, metadata: {}, error: null, result_files: [], attempt: 0, created_at: NOW };

/** Runs one command line in-process against a scripted API; returns its exit code and output. */
async function run(argv: string[], fetch = fakeFetch([]), files: Record<string, string> = {}, env: Record<string, string> = { GROVE_TOKEN: 'grove_t' }) {
  let stdout = '';
  let stderr = '';
  const deps: CliDeps = {
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    fetch,
    uploadFetch: fetch,
    homedir: '/home/u',
    readFile: async (path) => {
      const text = files[path];
      if (text !== undefined) return text;
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    },
    sleep: async () => undefined,
    now: () => NOW,
    randomId: () => 'r1',
  };
  const code = await runCli(argv, deps);
  return { code, stdout, stderr, calls: fetch.calls };
}

describe(runCli.name, () => {
  it('exits 2 with usage on an unknown command or flag', async () => {
    const flag = await run(['jobs', 'list', '--bogus']);
    expect(flag.code).toBe(ExitCode.usage);
    expect(flag.stderr).toMatch(/unknown option '--bogus'[\s\S]*Usage: grove jobs list/);
    expect((await run(['nope'])).code).toBe(ExitCode.usage);
    expect((await run(['jobs', 'list', '--limit', '500'])).code).toBe(ExitCode.usage);
  });

  it('exits 0 for --help and prints it on stdout', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(ExitCode.ok);
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 job failed/);
  });

  it('exits 2 without a token, before any request', async () => {
    const result = await run(['jobs', 'list'], fakeFetch([]), {}, {});
    expect(result).toMatchObject({ code: ExitCode.usage, calls: [] });
    expect(result.stderr).toMatch(/^error: no API token/);
  });

  it('takes the API URL and token from the config file', async () => {
    const fetch = fakeFetch([json(200, { object: 'list', data: [], has_more: false, last_id: null })]);
    const result = await run(['jobs', 'list'], fetch, { '/home/u/.config/grove/config.yaml': 'api_url: http://grove:9\ntoken: grove_file\n' }, {});
    expect(result.code).toBe(ExitCode.ok);
    expect(result.calls[0]).toMatchObject({ url: 'http://grove:9/v1/jobs?limit=20', headers: { Authorization: 'Bearer grove_file' } });
    expect(result.stdout).toBe('No jobs.\n');
  });

  it('prints API errors as `error: code: message (param)` and exits 3', async () => {
    const result = await run(['jobs', 'get', 'job_x'], fakeFetch([json(404, { error: { code: 'not_found', message: 'job job_x not found', param: 'id' } })]));
    expect(result).toMatchObject({ code: ExitCode.api, stdout: '', stderr: 'error: not_found: job job_x not found (id)\n' });
  });

  it('prints the raw API JSON with --json and only ids with -q', async () => {
    const json1 = await run(['--json', 'jobs', 'get', 'job_1'], fakeFetch([json(200, JOB)]));
    expect(JSON.parse(json1.stdout)).toEqual(JOB);
    const quiet = await run(['jobs', 'list', '-q'], fakeFetch([json(200, { object: 'list', data: [JOB, { ...JOB, id: 'job_2' }] })]));
    expect(quiet.stdout).toBe('job_1\njob_2\n');
  });

  describe('jobs create', () => {
    const files = { 'job.yaml': 'model: org/tiny\ntraining_file: file_old\nhyperparameters: {n_epochs: 1}\n' };

    it('posts the file with flag overrides and the given idempotency key', async () => {
      const result = await run(['jobs', 'create', '-f', 'job.yaml', '--training-file', 'file_1', '--metadata', 'sha=abc', '--idempotency-key', 'ci-abc', '-q'], fakeFetch([json(201, JOB)]), files);
      expect(result).toMatchObject({ code: ExitCode.ok, stdout: 'job_1\n' });
      expect(JSON.parse(result.calls[0]?.body ?? '')).toEqual({ model: 'org/tiny', training_file: 'file_1', hyperparameters: { n_epochs: 1 }, metadata: { sha: 'abc' } });
      expect(result.calls[0]?.headers['Idempotency-Key']).toBe('ci-abc');
    });

    it('refuses a malformed file with exit 2 and sends nothing', async () => {
      const result = await run(['jobs', 'create', '-f', 'bad.yaml'], fakeFetch([]), { 'bad.yaml': 'model: [unclosed\n' });
      expect(result.code).toBe(ExitCode.usage);
      expect(result.stderr).toMatch(/^error: bad\.yaml:\d+:\d+: /);
      expect((await run(['jobs', 'create', '-f', 'missing.yaml'])).stderr).toBe('error: cannot read missing.yaml: ENOENT\n');
    });

    it.each([
      ['succeeded', null, ExitCode.ok, /created$/],
      ['failed', { code: 'all_examples_dropped', message: 'every example was longer than max_seq_len' }, ExitCode.jobFailed, /^error: job job_1 failed: all_examples_dropped: every example was longer than max_seq_len$/],
      ['cancelled', null, ExitCode.jobCancelled, /^error: job job_1 was cancelled$/],
    ])('--wait follows the job and exits by its outcome: %s', async (status, error, code, stderr) => {
      const fetch = fakeFetch([
        json(201, JOB),
        sse([{ id: '1', event: 'job.created', data: { id: '1', type: 'job.created', message: 'created', created_at: NOW } }, { event: 'end', data: {} }]),
        json(200, { ...JOB, status, error }),
      ]);
      const result = await run(['--json', 'jobs', 'create', '-f', 'job.yaml', '--wait'], fetch, files);
      expect(result.code).toBe(code);
      expect(JSON.parse(result.stdout)).toMatchObject({ id: 'job_1', status });
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe('job_1 created; waiting for it to finish');
      expect(lines[1]).toMatch(/^2023-11-14 22:13:20Z {2}job\.created +created$/);
      expect(lines.at(-1)).toMatch(stderr);
      expect(result.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
        'POST http://127.0.0.1:8080/v1/jobs',
        'GET http://127.0.0.1:8080/v1/jobs/job_1/events/stream',
        'GET http://127.0.0.1:8080/v1/jobs/job_1',
      ]);
    });
  });

  it('nodes label sends set and remove edits in one PATCH', async () => {
    const node = { id: 'node_1', name: 'n1', labels: { gpu: 'a100' } };
    const result = await run(['nodes', 'label', 'n1', 'gpu=a100', 'zone-'], fakeFetch([json(200, node)]));
    expect(result.code).toBe(ExitCode.ok);
    expect(result.calls[0]).toMatchObject({ method: 'PATCH', url: 'http://127.0.0.1:8080/v1/nodes/n1', body: '{"labels":{"gpu":"a100","zone":null}}' });
    expect(result.stdout).toBe('n1 labels: gpu=a100\n');
  });
});
