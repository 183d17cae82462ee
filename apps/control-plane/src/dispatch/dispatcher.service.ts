import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { NodesService } from '../nodes/nodes.service';
import { DispatchRepository, type DispatchJob } from './dispatch.repository';
import { GpuQueues } from './gpu-queues';
import { jobDemand } from './job-demand';
import { placeJob, reserve, type GpuSlot } from './placement';

const WAITING_PER_ROUND = 200;

/**
 * The placement loop: queued jobs go to GPUs (see placement.ts), each placement bumps the job's attempt and sends
 * a `start` message on that GPU's queue. Start messages not acted on are re-sent; jobs of lost nodes are requeued.
 */
@Injectable()
export class DispatcherService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DispatcherService.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly dispatch: DispatchRepository,
    private readonly nodes: NodesService,
    private readonly queues: GpuQueues,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.round(), this.config.dispatch.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One round; rounds never overlap. Returns the jobs it placed. */
  async round(now = new Date()): Promise<string[]> {
    if (this.running) return [];
    this.running = true;
    try {
      await this.nodes.sweepLost(now);
      const requeued = await this.dispatch.requeueJobsOfLostNodes();
      if (requeued.length > 0) this.logger.warn(`requeued ${requeued.length} job(s) of lost nodes`);
      const placed = await this.dispatch.placed();
      await this.resendStale(placed, now);
      return await this.placeWaiting(placed);
    } catch (error) {
      this.logger.warn(`dispatch round failed: ${(error as Error).message}`);
      return [];
    } finally {
      this.running = false;
    }
  }

  private async placeWaiting(placed: DispatchJob[]): Promise<string[]> {
    const waiting = await this.dispatch.waiting(WAITING_PER_ROUND);
    if (waiting.length === 0) return [];
    const slots = await this.slots(placed);
    const started: string[] = [];
    for (const job of waiting) {
      const demand = jobDemand(job.modelName, job.summary, job.hyperparameters);
      const slot = placeJob(demand, slots);
      if (!slot) continue;
      const attempt = await this.dispatch.assign(job.id, slot.nodeId, slot.gpuIndex, `Assigned to GPU ${slot.gpuIndex} of node ${slot.nodeId}`);
      if (attempt === null) continue;
      reserve(slot, demand);
      await this.send(slot.nodeId, slot.gpuIndex, job.id, attempt);
      started.push(job.id);
    }
    return started;
  }

  /** The free capacity of every GPU of every online node, with what is placed on it now. */
  private async slots(placed: DispatchJob[]): Promise<GpuSlot[]> {
    const nodes = (await this.nodes.list()).filter((n) => n.state === 'online');
    const slots = new Map<string, GpuSlot>();
    for (const node of nodes) {
      for (const gpu of node.gpus) {
        slots.set(`${node.id}/${gpu.index}`, {
          nodeId: node.id,
          gpuIndex: gpu.index,
          totalBytes: gpu.totalMemoryBytes,
          availableModels: new Set(node.baseModels),
          usedBytes: 0,
          trainingModels: new Set(),
          dtypeBytes: node.backend === 'cuda' ? 2 : 4,
        });
      }
    }
    for (const job of placed) {
      const slot = slots.get(`${job.nodeId}/${job.gpuIndex}`);
      if (slot) reserve(slot, jobDemand(job.modelName, job.summary, job.hyperparameters));
    }
    return [...slots.values()];
  }

  private async resendStale(placed: DispatchJob[], now: Date): Promise<void> {
    const cutoff = now.getTime() - this.config.dispatch.resendAfterMs;
    for (const job of placed) {
      if (job.status === 'queued' && job.updatedAt.getTime() < cutoff) await this.send(job.nodeId!, job.gpuIndex!, job.id, job.attempt);
    }
  }

  private async send(nodeId: string, gpuIndex: number, jobId: string, attempt: number): Promise<void> {
    await this.queues.send(nodeId, gpuIndex, { kind: 'start', jobId, attempt }).catch((error) =>
      this.logger.warn(`start of ${jobId} attempt ${attempt} not sent yet: ${(error as Error).message}`),
    );
  }
}
