import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** GET /metrics is open unless GROVE_METRICS_TOKEN is set; then scrapers must send it as a bearer token. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.metricsToken === null ? null : sha256(config.metricsToken);
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = ctx.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const sent = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    // Comparing digests keeps the comparison constant-time whatever the length of what was sent.
    if (sent === undefined || !timingSafeEqual(sha256(sent), this.expected)) {
      throw new ApiError('unauthenticated', 'missing or wrong metrics token (Authorization: Bearer <GROVE_METRICS_TOKEN>)');
    }
    return true;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
