import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { NodesService } from '../nodes/nodes.service';
import { SchedulingRepository } from '../scheduling/scheduling.repository';
import { SchedulingRound, type RoundOutcome } from '../scheduling/scheduling-round.service';
import { DispatchRepository } from './dispatch.repository';

const NOTHING: RoundOutcome = { started: [], preempted: [], waiting: 0 };

/**
 * The dispatch loop. Each round: mark silent nodes lost and requeue their jobs, then run the scheduling round
 * (re-sent starts, placement, preemption, wait reasons; scheduling/). Rounds never overlap,
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
    return this.schedulingRound.run(now);
  }
}
