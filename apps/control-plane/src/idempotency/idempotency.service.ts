import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { IdempotencyRepository } from './idempotency.repository';

const WAIT_FOR_FIRST_MS = 15_000;
const POLL_MS = 25;
const RETENTION_MS = 24 * 3600_000;

export type IdempotencyOutcome = { kind: 'run' } | { kind: 'replay'; status: number; body: unknown };

/**
 * Idempotency-Key semantics: the same key with the same request replays the first response; with another request
 * it is a 409. A retry that arrives while the first request is still running waits for its response.
 */
@Injectable()
export class IdempotencyService {
  constructor(private readonly records: IdempotencyRepository) {}

  async begin(tokenId: string, key: string, requestHash: string): Promise<IdempotencyOutcome> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const claim = await this.records.claim(tokenId, key, requestHash);
      if (claim === 'claimed') return { kind: 'run' };
      if (claim.requestHash !== requestHash) {
        throw new ApiError(
          'idempotency_conflict',
          `Idempotency-Key '${key}' was already used with a different request`,
          'Idempotency-Key',
        );
      }
      if (claim.status !== null) return { kind: 'replay', status: claim.status, body: claim.body };
      if (Date.now() > deadline) {
        throw new ApiError('conflict', `a request with Idempotency-Key '${key}' is still in progress`, 'Idempotency-Key');
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  complete(tokenId: string, key: string, status: number, body: unknown): Promise<void> {
    return this.records.complete(tokenId, key, status, body);
  }

  /** A failed first request leaves no record, so a retry runs again. */
  abandon(tokenId: string, key: string): Promise<void> {
    return this.records.release(tokenId, key);
  }

  purgeExpired(now = new Date()): Promise<number> {
    return this.records.deleteOlderThan(new Date(now.getTime() - RETENTION_MS));
  }
}
