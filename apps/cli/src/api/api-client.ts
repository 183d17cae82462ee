import { ApiRequestError, NetworkError } from '../cli-errors';
import { backoffMs, isRetryableStatus, retryAfterMs } from './backoff';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

/** A request body and its headers; built again for every attempt because a stream cannot be sent twice. */
export interface RequestBody {
  body: string | AsyncIterable<Uint8Array>;
  headers: Record<string, string>;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  body?: () => RequestBody;
  /** POST only: the given key, else a random one, the same for every retry of this call. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  /**
   * False for the few routes that ignore Idempotency-Key (POST /v1/teams, /v1/tokens): those are retried only after
   * errors that prove the request never reached the server, so a retry cannot create a second token.
   */
  idempotent?: boolean;
}

export interface ApiClientOptions {
  baseUrl: string;
  token: string;
  fetch: FetchFn;
  /** Sends requests with a streamed body (uploads); `fetch` when absent. */
  uploadFetch?: FetchFn;
  sleep: (ms: number) => Promise<void>;
  newIdempotencyKey: () => string;
  userAgent: string;
  /** Retries after the first attempt, for network errors and 5xx. */
  retries?: number;
}

export interface ApiResult<T> {
  body: T;
  /** The server replayed the stored answer of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

/**
 * The control plane's REST API over fetch. Reads, label sets and POSTs carrying an Idempotency-Key may be repeated
 * safely, so network errors and 5xx are retried with backoff (`idempotent: false` marks the exceptions); any other
 * non-2xx answer becomes an ApiRequestError with the API's `{code, message, param}`.
 */
export class ApiClient {
  private readonly retries: number;

  constructor(private readonly options: ApiClientOptions) {
    this.retries = options.retries ?? 3;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResult<T>> {
    const res = await this.send(method, path, options);
    const text = await res.text();
    return { body: (text ? JSON.parse(text) : null) as T, replayed: res.headers.get('idempotent-replayed') === 'true' };
  }

  async get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>('GET', path, { query })).body;
  }

  /** A 2xx response whose body the caller reads (downloads, event streams). */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.options.token}`,
      'User-Agent': this.options.userAgent,
      ...options.headers,
    };
    if (method === 'POST') headers['Idempotency-Key'] = options.idempotencyKey ?? this.options.newIdempotencyKey();
    const fetch = options.body && this.options.uploadFetch ? this.options.uploadFetch : this.options.fetch;
    for (let attempt = 0; ; attempt += 1) {
      let res: Response;
      try {
        res = await fetch(url, this.init(method, headers, options));
      } catch (error) {
        if (attempt < this.retries && (options.idempotent !== false || neverSent(error))) {
          await this.options.sleep(backoffMs(attempt));
          continue;
        }
        throw new NetworkError(`cannot reach ${this.options.baseUrl}: ${describeNetworkError(error)}`);
      }
      if (res.ok) return res;
      if (isRetryableStatus(res.status) && attempt < this.retries && options.idempotent !== false) {
        await res.body?.cancel().catch(() => undefined);
        await this.options.sleep(retryAfterMs(res.headers.get('retry-after')) ?? backoffMs(attempt));
        continue;
      }
      throw await apiErrorFrom(res);
    }
  }

  private url(path: string, query: RequestOptions['query'] = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return `${this.options.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  private init(method: string, headers: Record<string, string>, options: RequestOptions): RequestInit {
    if (options.json !== undefined) {
      return { method, headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(options.json) };
    }
    if (options.body) {
      const made = options.body();
      // duplex: Node's fetch needs it to send a streamed body.
      return { method, headers: { ...headers, ...made.headers }, body: made.body as RequestInit['body'], duplex: 'half' } as RequestInit;
    }
    return { method, headers };
  }
}

/** The API's error body, or a made-up code for an answer that is not Grove's (a proxy, a wrong URL). */
export async function apiErrorFrom(res: Response): Promise<ApiRequestError> {
  const text = await res.text().catch(() => '');
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; param?: unknown; details?: unknown } }).error;
    if (error && typeof error.code === 'string') {
      return new ApiRequestError(res.status, error.code, String(error.message ?? ''), typeof error.param === 'string' ? error.param : null, error.details);
    }
  } catch {
    // not JSON: fall through
  }
  const snippet = text.trim().slice(0, 200) || res.statusText || 'no body';
  return new ApiRequestError(res.status, `http_${res.status}`, snippet, null);
}

/** Connection refused or a name that did not resolve: no byte of the request reached the server. */
function neverSent(error: unknown): boolean {
  const code = (error as { cause?: { code?: string } } | null)?.cause?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return cause.message?.includes(cause.code) ? cause.message : `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}
