import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response as SuperagentResponse } from 'superagent';
import { extract } from 'tar';
import { AgentGrpcServer } from '../agent-api/agent-grpc.server';
import { bearer, createTeam, startTestApp, uniqueName, type TestApp } from '../testing/test-app';
import { llama3TokenizerUploads } from '../testing/tiny-model';
import { AgentProcess } from './agent-process';

const ROOT = resolve(__dirname, '../../../..');
const ENGINE = join(ROOT, 'native-worker/build/grove-engine');
export const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** Smallest Llama that takes the real Llama 3 token ids: the vocabulary is what costs time here. */
const TINY_CONFIG = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
  num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, vocab_size: 128256, max_position_embeddings: 512,
  rms_norm_eps: 1e-5, rope_theta: 500000, tie_word_embeddings: true, torch_dtype: 'float32',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- jobs and events as the API presents them
export type Presented = Record<string, any>;

/**
 * The whole system for end-to-end tests: the control plane (HTTP, gRPC, BullMQ dispatch, Postgres) on a real port,
 * a team, a tiny random-weight model registered with the real Llama 3 tokenizer, a join token, and real agent
 * processes driving the real engine (make test builds it first).
 */
export class E2eHarness {
  private readonly agents: AgentProcess[] = [];

  private constructor(
    readonly t: TestApp,
    readonly dir: string,
    readonly team: Awaited<ReturnType<typeof createTeam>>,
    readonly modelName: string,
    private readonly joinToken: string,
  ) {}

  static async start(config: Record<string, string>): Promise<E2eHarness> {
    const t = await startTestApp(config);
    await t.app.listen(0, '127.0.0.1');
    const dir = await mkdtemp(join(tmpdir(), 'grove-e2e-'));
    const team = await createTeam(t);
    const modelName = `e2e/${uniqueName('tiny')}`;
    const modelDir = join(dir, 'models', modelName.replace('/', '--'));
    await writeFile(join(dir, 'config.json'), JSON.stringify(TINY_CONFIG));
    execFileSync(ENGINE, ['make-model', join(dir, 'config.json'), modelDir, '--seed', '3']);
    const tok = llama3TokenizerUploads();
    await t.http().post('/v1/models').set(bearer(team.operator)).field('name', modelName)
      .attach('config', await readFile(join(modelDir, 'config.json')), 'config.json')
      .attach('tokenizer', tok.tokenizer, 'tokenizer.json').attach('tokenizer_config', tok.tokenizerConfig, 'tokenizer_config.json')
      .expect(201);
    const joinToken = (await t.http().post('/v1/nodes/join-tokens').set(bearer(team.operator)).send({ name: 'e2e' }).expect(201)).body.secret;
    return new E2eHarness(t, dir, team, modelName, joinToken);
  }

  /** A real agent process joining as `nodeName` (with another join token to test refusals). */
  agent(nodeName = uniqueName('node'), joinToken = this.joinToken): AgentProcess {
    const a = AgentProcess.start({
      grpcPort: this.t.app.get(AgentGrpcServer).port,
      apiUrl: `http://127.0.0.1:${(this.t.app.getHttpServer().address() as { port: number }).port}`,
      redisUrl: this.t.config.redisUrl,
      joinToken,
      nodeName,
      modelsDir: join(this.dir, 'models'),
      workDir: join(this.dir, `work-${nodeName}`),
    });
    this.agents.push(a);
    return a;
  }

  async job(id: string): Promise<Presented> {
    return (await this.t.http().get(`/v1/jobs/${id}`).set(bearer(this.team.member)).expect(200)).body;
  }

  async events(id: string): Promise<{ type: string; message: string; data: Presented }[]> {
    return (await this.t.http().get(`/v1/jobs/${id}/events?limit=1000`).set(bearer(this.team.member)).expect(200)).body.data;
  }

  /** Polls `probe` until it returns a value; on timeout the error carries the agents' output. */
  async until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; agent output:\n${this.agents.map((a) => a.output.join('').slice(-3000)).join('\n---\n')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async finished(ids: string[]): Promise<Presented[]> {
    return this.until(`${ids.length} jobs to finish`, async () => {
      const jobs = await Promise.all(ids.map((id) => this.job(id)));
      return jobs.every((j) => TERMINAL.includes(j.status)) ? jobs : undefined;
    });
  }

  /** The downloaded adapter, unpacked: its file names, the engine's metrics.jsonl lines and the safetensors header. */
  async adapter(id: string): Promise<{ files: string[]; metrics: Presented[]; header: Record<string, { shape: number[] }> }> {
    const res = await this.t.http().get(`/v1/jobs/${id}/adapter`).set(bearer(this.team.member)).buffer(true).parse(binary).expect(200);
    const out = await mkdtemp(join(this.dir, 'adapter-'));
    await pipeline(Readable.from(res.body as Buffer), extract({ cwd: out }));
    const metrics = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const st = await readFile(join(out, 'adapter_model.safetensors'));
    const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString('utf8'));
    delete header.__metadata__;
    return { files: (await readdir(out)).sort(), metrics, header };
  }

  /** Kills the agents and cancels what they left unfinished, so one test never leaks into the next. */
  async reset(): Promise<void> {
    await Promise.all(this.agents.splice(0).map((a) => a.stop('SIGKILL')));
    const list = (await this.t.http().get('/v1/jobs?limit=100').set(bearer(this.team.member))).body.data as { id: string; status: string }[];
    for (const j of list.filter((x) => !TERMINAL.includes(x.status))) await this.t.http().post(`/v1/jobs/${j.id}/cancel`).set(bearer(this.team.member));
  }

  async close(): Promise<void> {
    await this.reset();
    await this.t.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function binary(res: SuperagentResponse, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
