import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { NodesService } from '../nodes/nodes.service';
import { SchedulingRepository } from '../scheduling/scheduling.repository';
import { SchedulingRound, type RoundOutcome } from '../scheduling/scheduling-round.service';
import { DispatchRepository, type DispatchJob } from './dispatch.repository';
import { GpuQueues } from './gpu-queues';

const NOTHING: RoundOutcome = { started: [], preempted: [], waiting: 0 };

/**
 * The dispatch loop. Each round: mark silent nodes lost and requeue their jobs, re-send start messages no agent
 * acted on, then run the scheduling round (placement, preemption, wait reasons; scheduling/). Rounds never overlap,
 * and with several control-plane replicas only one runs them at a time (a Postgres advisory lock).
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
    private readonly scheduling: SchedulingRepository,
    private readonly schedulingRound: SchedulingRound,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.round(), this.config.dispatch.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One round; returns what it started and preempted. */
  async round(now = new Date()): Promise<RoundOutcome> {
    if (this.running) return NOTHING;
    this.running = true;
    try {
      return (await this.scheduling.exclusively(() => this.roundUnderLock(now))) ?? NOTHING;
    } catch (error) {
      this.logger.warn(`dispatch round failed: ${(error as Error).message}`);
      return NOTHING;
    } finally {
      this.running = false;
    }
  }

  private async roundUnderLock(now: Date): Promise<RoundOutcome> {
    await this.nodes.sweepLost(now);
    const requeued = await this.dispatch.requeueJobsOfLostNodes();
    if (requeued.length > 0) this.logger.warn(`requeued ${requeued.length} job(s) of lost nodes`);
    await this.resendStale(await this.dispatch.placed(), now);
    return this.schedulingRound.run(now, this.config.scheduler.maxWaitingPerRound);
  }

  private async resendStale(placed: DispatchJob[], now: Date): Promise<void> {
    const cutoff = now.getTime() - this.config.dispatch.resendAfterMs;
    for (const job of placed) {
      if (job.status !== 'queued' || job.updatedAt.getTime() >= cutoff) continue;
      await this.queues.send(job.nodeId!, job.gpuIndex!, { kind: 'start', jobId: job.id, attempt: job.attempt }).catch((error) =>
        this.logger.warn(`start of ${job.id} attempt ${job.attempt} not re-sent yet: ${(error as Error).message}`),
      );
    }
  }
}
