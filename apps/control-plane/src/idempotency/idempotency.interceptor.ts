import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { from, lastValueFrom, of, type Observable } from 'rxjs';
import { ApiError } from '../common/api-error';
import type { AuthenticatedRequest } from '../auth/principal';
import { IdempotencyService } from './idempotency.service';
import { requestFingerprint } from './request-fingerprint';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Applies Idempotency-Key to a POST route; runs after file interceptors so uploaded bytes are part of the request. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: IdempotencyService) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const key = req.header('idempotency-key');
    if (key === undefined || !req.principal) return next.handle();
    return from(this.run(req, ctx.switchToHttp().getResponse<Response>(), key, next));
  }

  private async run(req: Request & AuthenticatedRequest, res: Response, key: string, next: CallHandler): Promise<unknown> {
    if (!KEY_PATTERN.test(key)) {
      throw new ApiError('invalid_request', 'Idempotency-Key must be 1-255 printable ASCII characters', 'Idempotency-Key');
    }
    const tokenId = req.principal!.tokenId;
    const files = uploadedFiles(req);
    const hash = await requestFingerprint({ method: req.method, path: req.path, body: req.body, files });
    const outcome = await this.idempotency.begin(tokenId, key, hash);
    if (outcome.kind === 'replay') {
      res.status(outcome.status).setHeader('Idempotent-Replayed', 'true');
      return lastValueFrom(of(outcome.body));
    }
    try {
      const body = await lastValueFrom(next.handle(), { defaultValue: undefined });
      await this.idempotency.complete(tokenId, key, res.statusCode, body ?? null);
      return body;
    } catch (error) {
      await this.idempotency.abandon(tokenId, key);
      throw error;
    }
  }
}

function uploadedFiles(req: Request): { fieldname: string; path: string }[] {
  if (req.file) return [req.file];
  if (Array.isArray(req.files)) return req.files;
  if (req.files) return Object.values(req.files).flat();
  return [];
}
