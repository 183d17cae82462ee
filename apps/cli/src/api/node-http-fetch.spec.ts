import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHttpFetch } from './node-http-fetch';

describe('nodeHttpFetch', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let received = 0;
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => {
        if (req.url === '/empty') return void res.writeHead(204).end();
        res.writeHead(201, { 'Content-Type': 'application/json', 'Idempotent-Replayed': 'true' });
        res.end(JSON.stringify({ method: req.method, received, type: req.headers['content-type'], key: req.headers['idempotency-key'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('streams an async-iterable body and answers as fetch would', async () => {
    async function* body() {
      for (let i = 0; i < 100; i += 1) yield Buffer.alloc(1000, i);
    }
    const res = await nodeHttpFetch(`${url}/upload`, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'Idempotency-Key': 'k' }, body: body() as unknown as RequestInit['body'] });
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBe('true');
    expect(await res.json()).toEqual({ method: 'POST', received: 100_000, type: 'text/plain', key: 'k' });
  });

  it('answers a status without a body', async () => {
    const res = await nodeHttpFetch(`${url}/empty`, { method: 'GET' });
    expect([res.status, await res.text()]).toEqual([204, '']);
  });

  it("throws fetch's TypeError with the network error as its cause", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = await nodeHttpFetch(`http://127.0.0.1:${port}/`, { method: 'GET' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as { cause: { code: string } }).cause.code).toBe('ECONNREFUSED');
  });
});
