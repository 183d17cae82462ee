import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PreemptDecision, RoundDecisions, StartDecision, WaitingJob } from '@grove/scheduler';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DispatchRepository } from '../dispatch/dispatch.repository';
import { GpuQueues } from '../dispatch/gpu-queues';
import type { NodeRecord } from '../nodes/node-record';
import { NodesService } from '../nodes/nodes.service';
import type { ActiveJob } from './active-job';
import { ClusterScheduler } from './cluster-scheduler';
import { gpuId } from './cluster-snapshot';
import { SchedulingRepository, type WaitingUpdate } from './scheduling.repository';
import { preemptionNotice } from './preemption-notice';
import { presentWaitReason } from './wait-reason.presenter';
import { waitingChanged } from './waiting-changed';

export interface RoundOutcome {
  started: string[];
  preempted: string[];
  waiting: number;
}

/**
 * One scheduling round against the live cluster: re-send start messages no agent acted on, move jobs off draining nodes, ask the policy, then carry out its
 * decisions — preempt via checkpoint (the agent saves, uploads and reports `preempted`; the job requeues with no
 * progress lost), start (assign + a start message on the GPU's queue), and record every waiting job's reason and
 * estimated start and finish. A start waits while the GPU still holds a job being preempted, so the two never
 * overlap in memory.
 */
@Injectable()
export class SchedulingRound {
  private readonly logger = new Logger(SchedulingRound.name);
  /** Preemptions asked of agents (job:attempt), so the event and the message go out once. */
  private readonly preempting = new Set<string>();

  constructor(
    private readonly repo: SchedulingRepository,
    private readonly dispatch: DispatchRepository,
    private readonly queues: GpuQueues,
    private readonly nodes: NodesService,
    private readonly scheduler: ClusterScheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(now: Date): Promise<RoundOutcome> {
    const nodes = await this.nodes.list();
    const jobs = await this.repo.activeJobs(this.config.scheduler.maxWaitingPerRound);
    await this.resendStale(jobs, now);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    const nodesById = new Map(nodes.map((n) => [n.id, n]));
    const preempted = await this.drainNodes(nodes, jobs);
    const decisions = this.scheduler.decide(now, nodes, jobs);
    for (const p of decisions.preemptions) {
      if (await this.preempt(byId.get(p.jobId), p, byId)) preempted.push(p.jobId);
    }
    const busy = this.gpusWithPendingPreemption(jobs);
    const started: string[] = [];
    for (const s of decisions.starts) {
      if (busy.has(s.gpuId)) continue;
      if (await this.start(s, nodesById)) started.push(s.jobId);
    }
    await this.recordWaiting(decisions, byId, now);
    this.forgetFinishedPreemptions(jobs);
    await this.nodes.finishDrains();
    return { started, preempted, waiting: decisions.waiting.length };
  }

  /** Every job on a draining node leaves it: a running one via checkpoint, an assigned one at once. */
  private async drainNodes(nodes: readonly NodeRecord[], jobs: readonly ActiveJob[]): Promise<string[]> {
    const draining = new Set(nodes.filter((n) => n.draining).map((n) => n.id));
    const moved: string[] = [];
    for (const job of jobs) {
      if (job.nodeId === null || !draining.has(job.nodeId)) continue;
      const reason = 'Its node is draining';
      if (await this.moveOff(job, reason, { reason: 'node_draining', node_id: job.nodeId })) moved.push(job.id);
    }
    return moved;
  }

  private async preempt(job: ActiveJob | undefined, p: PreemptDecision, byId: Map<string, ActiveJob>): Promise<boolean> {
    if (!job || job.nodeId === null) return false;
    const { message, data } = preemptionNotice(p, job, byId.get(p.forJobId));
    return this.moveOff(job, message, data);
  }

  /** A job not started yet is taken back; a running one is asked to checkpoint and stop (once). */
  private async moveOff(job: ActiveJob, reason: string, data: Record<string, unknown>): Promise<boolean> {
    if (job.status === 'queued') return this.repo.unassign(job.id, job.attempt, `${reason}; it will start elsewhere`);
    const key = `${job.id}:${job.attempt}`;
    if (this.preempting.has(key)) return false;
    try {
      await this.queues.send(job.nodeId!, job.gpuIndex!, { kind: 'preempt', jobId: job.id, attempt: job.attempt });
    } catch (error) {
      this.logger.warn(`preempt of ${job.id} not sent yet: ${(error as Error).message}`);
      return false;
    }
    this.preempting.add(key);
    await this.repo.preemptionRequested(job.id, job.attempt, `${reason}; checkpointing (no progress is lost)`, data);
    return true;
  }

  private gpusWithPendingPreemption(jobs: readonly ActiveJob[]): Set<string> {
    const busy = new Set<string>();
    for (const job of jobs) {
      if (job.nodeId !== null && job.gpuIndex !== null && this.preempting.has(`${job.id}:${job.attempt}`)) busy.add(gpuId(job.nodeId, job.gpuIndex));
    }
    return busy;
  }

  private forgetFinishedPreemptions(jobs: readonly ActiveJob[]): void {
    const placed = new Set(jobs.filter((j) => j.nodeId !== null).map((j) => `${j.id}:${j.attempt}`));
    for (const key of this.preempting) if (!placed.has(key)) this.preempting.delete(key);
  }

  private async start(s: StartDecision, nodes: Map<string, NodeRecord>): Promise<boolean> {
    const [nodeId, index] = s.gpuId.split('/');
    const gpuIndex = Number(index);
    const node = nodes.get(nodeId!);
    const attempt = await this.dispatch.assign(s.jobId, nodeId!, gpuIndex, `Assigned to GPU ${gpuIndex} of node ${node?.name ?? nodeId}`);
    if (attempt === null) return false;
    await this.sendStart(nodeId!, gpuIndex, s.jobId, attempt);
    return true;
  }

  /** A job assigned but not started after resendAfterMs gets its start message again (duplicates collapse). */
  private async resendStale(jobs: readonly ActiveJob[], now: Date): Promise<void> {
    const cutoff = now.getTime() - this.config.dispatch.resendAfterMs;
    for (const job of jobs) {
      if (job.status === 'queued' && job.nodeId !== null && job.gpuIndex !== null && job.updatedAt.getTime() < cutoff) {
        await this.sendStart(job.nodeId, job.gpuIndex, job.id, job.attempt);
      }
    }
  }

  /** Redis may be down: the message goes out on a later round. */
  private async sendStart(nodeId: string, gpuIndex: number, jobId: string, attempt: number): Promise<void> {
    await this.queues.send(nodeId, gpuIndex, { kind: 'start', jobId, attempt }).catch((error) =>
      this.logger.warn(`start of ${jobId} attempt ${attempt} not sent yet: ${(error as Error).message}`),
    );
  }

  private async recordWaiting(decisions: RoundDecisions, byId: Map<string, ActiveJob>, now: Date): Promise<void> {
    const updates: WaitingUpdate[] = [];
    for (const w of decisions.waiting) {
      const job = byId.get(w.jobId);
      if (!job) continue;
      const update = toUpdate(w);
      if (waitingChanged(job, update, now)) updates.push(update);
    }
    await this.repo.recordWaiting(updates);
  }
}

const toDate = (seconds: number | null) => (seconds === null || !Number.isFinite(seconds) ? null : new Date(Math.round(seconds * 1000)));

function toUpdate(w: WaitingJob): WaitingUpdate {
  return {
    jobId: w.jobId,
    reason: presentWaitReason(w.reason),
    estimatedStartAt: toDate(w.estimatedStartAt),
    estimatedFinishAt: toDate(w.estimatedFinishAt),
  };
}
