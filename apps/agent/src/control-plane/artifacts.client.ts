import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parseAssignment, type Assignment } from '../jobs/assignment';
import { packDirectory, unpackInto } from './tar-archive';

/** The agent's artifact calls (`/v1/agent/...`, docs/agent-protocol.md). */
export interface ArtifactsApi {
  /** Null when the control plane refuses a stale attempt (409). */
  getAssignment(jobId: string, attempt: number, nodeId: string): Promise<Assignment | null>;
  downloadTokenFile(url: string, dest: string): Promise<void>;
  downloadCheckpoint(url: string, destDir: string): Promise<void>;
  uploadCheckpoint(jobId: string, attempt: number, step: number, checkpointDir: string): Promise<string>;
  uploadAdapter(jobId: string, attempt: number, outputDir: string): Promise<string>;
}

export class ControlPlaneHttpError extends Error {
  readonly code = 'control_plane_http';
  constructor(readonly status: number, what: string, body: string) {
    super(`${what} answered HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/** The artifact endpoints over HTTP with the join token as bearer. */
export class HttpArtifactsApi implements ArtifactsApi {
  constructor(
    private readonly baseUrl: string,
    private readonly joinToken: string,
  ) {}

  async getAssignment(jobId: string, attempt: number, nodeId: string): Promise<Assignment | null> {
    const path = `/v1/agent/assignments/${encodeURIComponent(jobId)}?attempt=${attempt}&node_id=${encodeURIComponent(nodeId)}`;
    const res = await this.request('GET', path);
    if (res.status === 409) return null;
    await this.expectOk(res, `GET assignment of ${jobId}`);
    return parseAssignment(await res.json());
  }

  async downloadTokenFile(url: string, dest: string): Promise<void> {
    const res = await this.request('GET', url);
    await this.expectOk(res, 'GET token file');
    await pipeline(this.bodyOf(res), createWriteStream(dest));
  }

  async downloadCheckpoint(url: string, destDir: string): Promise<void> {
    const res = await this.request('GET', url);
    await this.expectOk(res, 'GET checkpoint');
    await unpackInto(this.bodyOf(res), destDir);
  }

  uploadCheckpoint(jobId: string, attempt: number, step: number, checkpointDir: string): Promise<string> {
    return this.uploadTar(`/v1/agent/jobs/${encodeURIComponent(jobId)}/checkpoints/${step}?attempt=${attempt}`, checkpointDir);
  }

  uploadAdapter(jobId: string, attempt: number, outputDir: string): Promise<string> {
    return this.uploadTar(`/v1/agent/jobs/${encodeURIComponent(jobId)}/adapter?attempt=${attempt}`, outputDir);
  }

  private async uploadTar(path: string, dir: string): Promise<string> {
    const body = await packDirectory(dir);
    const res = await this.request('PUT', path, body);
    await this.expectOk(res, `PUT ${path.split('?')[0]}`);
    const answer = (await res.json()) as { key?: unknown };
    if (typeof answer.key !== 'string' || !answer.key) throw new ControlPlaneHttpError(res.status, `PUT ${path}`, 'answer has no key');
    return answer.key;
  }

  /** `url` may be absolute or a path on the control plane. */
  private request(method: 'GET' | 'PUT', url: string, body?: Buffer): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.joinToken}` };
    if (body) headers['content-type'] = 'application/x-tar';
    return fetch(new URL(url, this.baseUrl), { method, headers, body, signal: AbortSignal.timeout(10 * 60_000) });
  }

  private async expectOk(res: Response, what: string): Promise<void> {
    if (res.ok) return;
    throw new ControlPlaneHttpError(res.status, what, await res.text().catch(() => ''));
  }

  private bodyOf(res: Response): Readable {
    if (!res.body) throw new ControlPlaneHttpError(res.status, 'download', 'empty body');
    return Readable.fromWeb(res.body as WebReadableStream);
  }
}
