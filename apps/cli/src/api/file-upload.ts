import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '../cli-errors';
import type { RequestBody } from './api-client';
import { multipartBody, type FormPart } from './multipart';

/** A local file as a multipart part; a missing path or a folder is a usage error. */
export async function filePart(name: string, path: string): Promise<FormPart & { kind: 'file' }> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${error.code ?? error.message}`);
  });
  if (!info.isFile()) throw new UsageError(`${path} is not a file`);
  return { kind: 'file', name, path, filename: basename(path), size: info.size };
}

/** A request body factory streaming the parts from disk; `onStart`/`onFileBytes` follow each attempt's progress. */
export function streamedForm(parts: FormPart[], progress?: { restart(): void; add(n: number): void }): () => RequestBody {
  const form = multipartBody(parts, `grove-${randomBytes(12).toString('hex')}`, (path) => createReadStream(path));
  return () => {
    progress?.restart();
    return {
      body: form.chunks((n) => progress?.add(n)),
      headers: { 'Content-Type': form.contentType, 'Content-Length': String(form.contentLength) },
    };
  };
}
