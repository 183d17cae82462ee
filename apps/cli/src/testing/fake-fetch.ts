import type { FetchFn } from '../api/api-client';

export interface FetchCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

type Answer = Response | Error | ((call: FetchCall) => Response | Error);

/** A fetch that answers from a script, in order, and records what it was asked (bodies read as text). */
export function fakeFetch(answers: Answer[]): FetchFn & { calls: FetchCall[] } {
  const calls: FetchCall[] = [];
  const fn = async (url: string, init: RequestInit) => {
    const call: FetchCall = { url, method: init.method ?? 'GET', headers: { ...(init.headers as Record<string, string>) }, body: await bodyText(init.body) };
    calls.push(call);
    const next = answers.shift();
    if (!next) throw new Error(`unexpected request ${call.method} ${url}`);
    const answer = typeof next === 'function' ? next(call) : next;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return Object.assign(fn, { calls });
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

/** What Node's fetch throws when nothing answers. */
export function connectionRefused(): Error {
  return Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
}

/** An SSE response whose body is the given messages; `drop` makes the stream fail after them (a lost connection). */
export function sse(messages: { id?: string; event: string; data: unknown }[], drop = false): Response {
  const text = messages.map((m) => `${m.id ? `id: ${m.id}\n` : ''}event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`).join('');
  let sent = false;
  // Fails on the read after the messages (erroring at once would discard them unread).
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode(text));
      } else if (drop) controller.error(new TypeError('terminated'));
      else controller.close();
    },
  });
  return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

async function bodyText(body: unknown): Promise<string | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
