import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsRepository } from './metrics.repository';
import { MetricsTokenGuard } from './metrics-token.guard';
import { MetricsService } from './metrics.service';

/** GET /metrics for Prometheus (needs the global config and database modules). */
@Module({ controllers: [MetricsController], providers: [MetricsRepository, MetricsService, MetricsTokenGuard] })
export class MetricsModule {}
