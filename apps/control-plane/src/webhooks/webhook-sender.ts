import { Injectable } from '@nestjs/common';

export type SendResult =
  | { kind: 'response'; statusCode: number; bodySnippet: string }
  | { kind: 'error'; message: string }
  /** Stopped by the caller's signal (shutdown), not by the receiver. */
  | { kind: 'aborted' };

const SNIPPET_BYTES = 256;

/** POSTs webhook bodies over HTTP(S). Redirects are not followed: a 3xx is the receiver's answer. */
@Injectable()
export class WebhookSender {
  async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<SendResult> {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.any([signal, timeout]) });
      return { kind: 'response', statusCode: res.status, bodySnippet: await snippet(res) };
    } catch (error) {
      if (signal.aborted) return { kind: 'aborted' };
      if (timeout.aborted) return { kind: 'error', message: `timed out after ${timeoutMs} ms` };
      return { kind: 'error', message: describe(error as Error) };
    }
  }
}

/** The first bytes of the answer, for the delivery log; the rest is not read. */
async function snippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The status is what counts; a body cut short is still worth logging.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString('utf8');
}

/** fetch's own message is just "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, a TLS error…). */
function describe(error: Error): string {
  const cause = error.cause as (Error & { code?: string }) | undefined;
  if (!cause) return error.message;
  return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
}
