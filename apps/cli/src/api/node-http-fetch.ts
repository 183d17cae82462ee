import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FetchFn } from './api-client';

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A fetch over node:http(s) for streamed uploads. Node 20's fetch keeps every byte of a streamed request body in memory
 * until the request ends (nodejs/undici#4058: a 1.2 GB upload held 1.3 GB here); node:http sends it with backpressure
 * and holds a few chunks. Network errors are thrown the way fetch throws them (a TypeError whose cause has the code).
 */
export const nodeHttpFetch: FetchFn = (url, init) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: init.method ?? 'GET', headers: init.headers as Record<string, string> });
    req.on('response', (res) => resolve(toResponse(res)));
    req.on('error', (error) => reject(Object.assign(new TypeError('fetch failed'), { cause: error })));
    const body = init.body as string | AsyncIterable<Uint8Array> | null | undefined;
    if (body === null || body === undefined || typeof body === 'string') req.end(body ?? undefined);
    // A failed write also fails the request, which rejects above; an early answer (413) ends the upload.
    else pipeline(Readable.from(body), req).catch(() => undefined);
  });

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const status = res.statusCode ?? 500;
  const body = NULL_BODY_STATUSES.has(status) ? null : (Readable.toWeb(res) as WebReadableStream<Uint8Array> as unknown as ReadableStream<Uint8Array>);
  if (body === null) res.resume();
  return new Response(body, { status, statusText: res.statusMessage, headers });
}
