/** A small client for the demo and the benchmarks: bearer auth, JSON or multipart, errors with the API's message. */
export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  as(token: string): ApiClient {
    return new ApiClient(this.base, token);
  }

  async call<T = any>(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<T> {
    const init: RequestInit = { method, headers: { Authorization: `Bearer ${this.token}` } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    const res = await fetch(`${this.base}${path}`, init);
    const json = await res.json();
    if (!res.ok && !okStatuses.includes(res.status)) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
    return json as T;
  }

  async download(path: string): Promise<Buffer> {
    const res = await fetch(`${this.base}${path}`, { headers: { Authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${await res.text()}`);
    return Buffer.from(await res.arrayBuffer());
  }
}
