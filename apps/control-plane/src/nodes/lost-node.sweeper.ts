import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { NodesService } from './nodes.service';

/** Marks nodes lost once they miss heartbeats past the grace period, checking a few times per grace period. */
@Injectable()
export class LostNodeSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly nodes: NodesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = Math.max(100, Math.floor(this.config.nodeGraceMs / 4));
    this.timer = setInterval(() => void this.nodes.sweepLost().catch(() => undefined), every);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
