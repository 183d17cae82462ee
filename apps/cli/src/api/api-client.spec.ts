import { describe, expect, it } from 'vitest';
import { ApiRequestError, NetworkError } from '../cli-errors';
import { connectionRefused, fakeFetch, json } from '../testing/fake-fetch';
import { ApiClient } from './api-client';

function client(fetch: ReturnType<typeof fakeFetch>, sleeps: number[] = []) {
  let n = 0;
  return new ApiClient({
    baseUrl: 'http://grove:8080',
    token: 'grove_t',
    fetch,
    sleep: async (ms) => void sleeps.push(ms),
    newIdempotencyKey: () => `key-${++n}`,
    userAgent: 'grove-cli/test',
  });
}

describe(ApiClient.name, () => {
  describe('request', () => {
    it('sends the token, JSON and a random Idempotency-Key on POST', async () => {
      const fetch = fakeFetch([json(201, { id: 'job_1' })]);
      const sut = client(fetch);
      expect(await sut.request('POST', '/v1/jobs', { json: { model: 'm' } })).toEqual({ body: { id: 'job_1' }, replayed: false });
      expect(fetch.calls[0]).toMatchObject({
        url: 'http://grove:8080/v1/jobs',
        method: 'POST',
        body: '{"model":"m"}',
        headers: { Authorization: 'Bearer grove_t', 'Idempotency-Key': 'key-1', 'Content-Type': 'application/json' },
      });
    });

    it('uses the given Idempotency-Key and reports a replayed answer', async () => {
      const fetch = fakeFetch([json(201, { id: 'job_1' }, { 'Idempotent-Replayed': 'true' })]);
      expect((await client(fetch).request('POST', '/v1/jobs', { json: {}, idempotencyKey: 'ci-abc' })).replayed).toBe(true);
      expect(fetch.calls[0]?.headers['Idempotency-Key']).toBe('ci-abc');
    });

    it('sends no Idempotency-Key on GET and encodes the query', async () => {
      const fetch = fakeFetch([json(200, { object: 'list', data: [] })]);
      await client(fetch).get('/v1/jobs', { status: 'queued', 'metadata[sha]': 'a b', after: undefined });
      expect(fetch.calls[0]?.url).toBe('http://grove:8080/v1/jobs?status=queued&metadata%5Bsha%5D=a+b');
      expect(fetch.calls[0]?.headers['Idempotency-Key']).toBeUndefined();
    });

    it('retries 503 and network errors with backoff, keeping the same Idempotency-Key', async () => {
      const sleeps: number[] = [];
      const fetch = fakeFetch([json(503, { error: { code: 'unavailable', message: 'm', param: null } }), connectionRefused(), json(201, { id: 'job_1' })]);
      expect((await client(fetch, sleeps).request('POST', '/v1/jobs', { json: {} })).body).toEqual({ id: 'job_1' });
      expect(fetch.calls.map((c) => c.headers['Idempotency-Key'])).toEqual(['key-1', 'key-1', 'key-1']);
      expect(sleeps).toEqual([500, 1000]);
    });

    it('honours Retry-After', async () => {
      const sleeps: number[] = [];
      const fetch = fakeFetch([json(503, {}, { 'Retry-After': '3' }), json(200, {})]);
      await client(fetch, sleeps).get('/v1/jobs');
      expect(sleeps).toEqual([3000]);
    });

    it('gives up after 3 retries: a network error, or the last API error', async () => {
      const down = client(fakeFetch([connectionRefused(), connectionRefused(), connectionRefused(), connectionRefused()]));
      const error = await down.get('/v1/jobs').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetworkError);
      expect((error as Error).message).toBe('cannot reach http://grove:8080: connect ECONNREFUSED 127.0.0.1:1');
      const fetch = fakeFetch(Array.from({ length: 4 }, () => json(502, 'bad gateway')));
      await expect(client(fetch).get('/v1/jobs')).rejects.toMatchObject({ status: 502 });
      expect(fetch.calls).toHaveLength(4);
    });

    it("does not retry 4xx and keeps the API's code, message and param", async () => {
      const fetch = fakeFetch([json(400, { error: { code: 'invalid_request', message: 'hyperparameters.lora.r: too small', param: 'hyperparameters.lora.r' } })]);
      const error = await client(fetch).request('POST', '/v1/jobs', { json: {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiRequestError);
      expect(error).toMatchObject({ status: 400, code: 'invalid_request', param: 'hyperparameters.lora.r', message: 'invalid_request: hyperparameters.lora.r: too small (hyperparameters.lora.r)' });
      expect(fetch.calls).toHaveLength(1);
    });

    it('maps an answer that is not Grove\'s error shape to http_<status>', async () => {
      const fetch = fakeFetch([new Response('<html>Not Found</html>', { status: 404 })]);
      await expect(client(fetch).get('/v1/jobs')).rejects.toMatchObject({ code: 'http_404', apiMessage: '<html>Not Found</html>' });
    });

    it('retries a request the server does not deduplicate only when it cannot have arrived', async () => {
      const reset = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
      const refusedThenOk = fakeFetch([connectionRefused(), json(201, { id: 'tok_1' })]);
      expect((await client(refusedThenOk).request('POST', '/v1/tokens', { json: {}, idempotent: false })).body).toEqual({ id: 'tok_1' });
      const resetFetch = fakeFetch([reset]);
      await expect(client(resetFetch).request('POST', '/v1/tokens', { json: {}, idempotent: false })).rejects.toBeInstanceOf(NetworkError);
      const unavailable = fakeFetch([json(503, {})]);
      await expect(client(unavailable).request('POST', '/v1/tokens', { json: {}, idempotent: false })).rejects.toMatchObject({ status: 503 });
      expect([resetFetch.calls.length, unavailable.calls.length]).toEqual([1, 1]);
    });

    it('builds a streamed body again for each attempt', async () => {
      let made = 0;
      const fetch = fakeFetch([json(503, {}), json(201, { id: 'file_1' })]);
      const body = () => {
        made += 1;
        return { body: (async function* () { yield Buffer.from(`attempt ${made}`); })(), headers: { 'Content-Type': 'text/plain' } };
      };
      await client(fetch).request('POST', '/v1/files', { body });
      expect(fetch.calls.map((c) => c.body)).toEqual(['attempt 1', 'attempt 2']);
    });
  });
});
