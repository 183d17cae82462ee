import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { MetricsTokenGuard } from './metrics-token.guard';
import { METRICS_CONTENT_TYPE, MetricsService } from './metrics.service';

@ApiTags('metrics')
@Public()
@UseGuards(MetricsTokenGuard)
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /** Prometheus text exposition: queue depth, jobs by state, wait times, failures, nodes, GPU memory and throughput. */
  @Get('metrics')
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    const text = await this.metrics.render();
    res.type(METRICS_CONTENT_TYPE); // only on success: errors keep the JSON error shape
    return text;
  }
}
