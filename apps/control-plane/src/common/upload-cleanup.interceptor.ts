import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { rm } from 'node:fs/promises';
import { finalize, type Observable } from 'rxjs';

/** Removes multer's temp files once a request is over, whatever failed; services move the files they keep. */
@Injectable()
export class UploadCleanupInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<Request>();
    return next.handle().pipe(finalize(() => void removeUploads(req)));
  }
}

async function removeUploads(req: Request): Promise<void> {
  const files = req.file ? [req.file] : Array.isArray(req.files) ? req.files : Object.values(req.files ?? {}).flat();
  await Promise.all(files.map((f) => (f.path ? rm(f.path, { force: true }) : undefined)));
}
