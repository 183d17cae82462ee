import { copyFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { HeartbeatRequest, HeartbeatResponse, RegisterRequest, RegisterResponse, ReportJobEventRequest, ReportJobEventResponse } from '@grove/proto';
import type { AgentRpc } from '../control-plane/agent-rpc.client';
import type { ArtifactsApi } from '../control-plane/artifacts.client';
import { packDirectory, unpackInto } from '../control-plane/tar-archive';
import type { Assignment } from '../jobs/assignment';

/**
 * The control plane's side of docs/agent-protocol.md kept in memory, for tests of the agent's own logic: what it
 * reports, uploads and answers. Artifacts are real tar files; the real control plane is the end-to-end test's.
 */
export class InMemoryControlPlane implements AgentRpc, ArtifactsApi {
  readonly registrations: RegisterRequest[] = [];
  readonly heartbeats: HeartbeatRequest[] = [];
  readonly reports: ReportJobEventRequest[] = [];
  readonly blobs = new Map<string, Buffer>();
  readonly assignments = new Map<string, Assignment>();
  /** Token file URL → local file. */
  readonly files = new Map<string, string>();
  /** Jobs whose reports are refused (`accepted: false`). */
  readonly refused = new Set<string>();
  known = true;

  async register(req: RegisterRequest): Promise<RegisterResponse> {
    this.registrations.push(req);
    this.known = true;
    return { nodeId: 'node_test', heartbeatIntervalMs: 50 };
  }

  async heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse> {
    this.heartbeats.push(structuredClone(req));
    return { known: this.known };
  }

  async reportJobEvent(req: ReportJobEventRequest): Promise<ReportJobEventResponse> {
    this.reports.push(req);
    const accepted = !this.refused.has(req.jobId);
    return { accepted, reason: accepted ? '' : 'not assigned to this node' };
  }

  closed = false;

  close(): void {
    this.closed = true;
  }

  async getAssignment(jobId: string, attempt: number): Promise<Assignment | null> {
    const a = this.assignments.get(jobId);
    if (!a) throw new Error(`unknown job ${jobId}`);
    return a.attempt === attempt ? a : null;
  }

  async downloadTokenFile(url: string, dest: string): Promise<void> {
    await copyFile(this.files.get(url) as string, dest);
  }

  async downloadCheckpoint(url: string, destDir: string): Promise<void> {
    await unpackInto(Readable.from(this.blob(url)), destDir);
  }

  async uploadCheckpoint(jobId: string, attempt: number, step: number, checkpointDir: string): Promise<string> {
    const key = `checkpoints/${jobId}/${step}`;
    this.blobs.set(key, await packDirectory(checkpointDir));
    return key;
  }

  async uploadAdapter(jobId: string, attempt: number, outputDir: string): Promise<string> {
    const key = `adapters/${jobId}/${attempt}`;
    this.blobs.set(key, await packDirectory(outputDir));
    return key;
  }

  eventsOf(jobId: string): string[] {
    return this.reports.filter((r) => r.jobId === jobId).map((r) => `${r.attempt}:${r.event?.$case}`);
  }

  /** Every step of a job the heartbeats carried, in order. */
  stepsOf(jobId: string): number[] {
    return this.heartbeats.flatMap((h) => h.jobs.filter((j) => j.jobId === jobId).flatMap((j) => j.recentSteps.map((s) => s.step)));
  }

  private blob(key: string): Buffer {
    const b = this.blobs.get(key);
    if (!b) throw new Error(`no artifact ${key}`);
    return b;
  }
}
