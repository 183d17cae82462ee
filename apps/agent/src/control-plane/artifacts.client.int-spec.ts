import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/tiny-engine-fixture';
import { ControlPlaneHttpError, HttpArtifactsApi } from './artifacts.client';

const TOKEN = 'grove_join_http';

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stand-in for the control plane's `/v1/agent/...` routes, as docs/agent-protocol.md describes them. */
function standIn(stored: Map<string, { type: string | undefined; body: Buffer }>): Server {
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: { code: 'unauthenticated' } });
    if (url.pathname === '/v1/agent/assignments/job_1') {
      if (url.searchParams.get('attempt') !== '2' || url.searchParams.get('node_id') !== 'node_1') return send(409, { error: { code: 'stale_assignment' } });
      return send(200, {
        job_id: 'job_1', attempt: 2, node_id: 'node_1', gpu_index: 0, model: 'org/m', total_steps: 10, checkpoint_every: 5,
        hyperparameters: { batch_size: 4 }, token_file_url: '/v1/agent/jobs/job_1/token-file', checkpoint: null,
      });
    }
    if (url.pathname === '/v1/agent/jobs/job_1/token-file') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(Buffer.from('GTOK-bytes'));
    }
    const put = url.pathname.match(/^\/v1\/agent\/jobs\/job_1\/(checkpoints\/\d+|adapter)$/);
    if (req.method === 'PUT' && put && url.searchParams.get('attempt') === '2') {
      const key = `job_1/${put[1]}`;
      stored.set(key, { type: req.headers['content-type'], body: await bodyOf(req) });
      return send(201, { key });
    }
    const get = url.pathname.match(/^\/v1\/agent\/jobs\/job_1\/(checkpoints\/\d+)$/);
    const blob = get && stored.get(`job_1/${get[1]}`);
    if (req.method === 'GET' && blob) {
      res.writeHead(200, { 'content-type': 'application/x-tar' });
      return res.end(blob.body);
    }
    send(404, { error: { code: 'not_found' } });
  });
}

describe(HttpArtifactsApi.name, () => {
  const stored = new Map<string, { type: string | undefined; body: Buffer }>();
  let server: Server;
  let sut: HttpArtifactsApi;
  let root: string;

  beforeAll(async () => {
    root = tempDir('http');
    server = standIn(stored);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sut = new HttpArtifactsApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, TOKEN);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('fetches the current assignment, and null for a stale attempt', async () => {
    expect(await sut.getAssignment('job_1', 2, 'node_1')).toMatchObject({ jobId: 'job_1', attempt: 2, checkpointEvery: 5, hyperparameters: { batch_size: 4, micro_batch_size: 4 } });
    expect(await sut.getAssignment('job_1', 1, 'node_1')).toBeNull();
  });

  it('downloads the token file', async () => {
    const dest = join(root, 'tokens.gtok');
    await sut.downloadTokenFile('/v1/agent/jobs/job_1/token-file', dest);
    expect(readFileSync(dest, 'utf8')).toBe('GTOK-bytes');
  });

  it('uploads a checkpoint folder as a tar and unpacks it again', async () => {
    const dir = join(root, 'checkpoint');
    mkdirSync(dir);
    writeFileSync(join(dir, 'state.json'), '{"step":5}');
    writeFileSync(join(dir, 'adapter_model.safetensors'), Buffer.alloc(3000, 7));
    expect(await sut.uploadCheckpoint('job_1', 2, 5, dir)).toBe('job_1/checkpoints/5');
    expect(stored.get('job_1/checkpoints/5')?.type).toBe('application/x-tar');
    const back = join(root, 'restored');
    await sut.downloadCheckpoint('/v1/agent/jobs/job_1/checkpoints/5', back);
    expect(readdirSync(back).sort()).toEqual(['adapter_model.safetensors', 'state.json']);
    expect(readFileSync(join(back, 'adapter_model.safetensors'))).toEqual(Buffer.alloc(3000, 7));
  });

  it('uploads the adapter folder', async () => {
    const dir = join(root, 'output');
    mkdirSync(dir);
    writeFileSync(join(dir, 'adapter_config.json'), '{}');
    expect(await sut.uploadAdapter('job_1', 2, dir)).toBe('job_1/adapter');
  });

  it('turns other answers into errors with the status', async () => {
    await expect(sut.getAssignment('job_404', 1, 'node_1')).rejects.toMatchObject({ status: 404 });
    await expect(new HttpArtifactsApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'wrong').getAssignment('job_1', 2, 'node_1')).rejects.toBeInstanceOf(ControlPlaneHttpError);
  });
});
