import { Logger } from '@nestjs/common';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../config/app-config';
import type { AttemptOutcome, ClaimedDelivery, WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { serializePayload, WebhookDeliveryService } from './webhook-delivery.service';
import type { SendResult, WebhookSender } from './webhook-sender';
import { verifySignature } from './webhook-signature';

const config = {
  webhooks: { pollIntervalMs: 60_000, timeoutMs: 1_000, concurrency: 4, retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 10_000 } },
} as AppConfig;

const claimed = (attempt = 1): ClaimedDelivery => ({
  id: 'whdel_1',
  eventType: 'job.succeeded',
  payload: { id: 'whdel_1', type: 'job.succeeded', created_at: 1_700_000_000, data: { job: { id: 'job_1', status: 'succeeded' } } },
  attempt,
  url: 'https://receiver.example/hook',
  secret: 'whsec_test',
});

/** The service with a repository that hands out `delivery` once and a sender that answers `send`. */
function setup(delivery: ClaimedDelivery, send: (signal: AbortSignal) => Promise<SendResult>) {
  let settle!: (what: { recorded?: AttemptOutcome; released?: boolean }) => void;
  const settled = new Promise<{ recorded?: AttemptOutcome; released?: boolean }>((resolve) => (settle = resolve));
  let handedOut = false;
  const repository = {
    claimDue: vi.fn(async () => (handedOut ? [] : ((handedOut = true), [delivery]))),
    record: vi.fn(async (_id: string, _attempt: number, outcome: AttemptOutcome) => settle({ recorded: outcome })),
    release: vi.fn(async () => settle({ released: true })),
  };
  const sender = { post: vi.fn((_url: string, _body: string, _headers: Record<string, string>, _timeout: number, signal: AbortSignal) => send(signal)) };
  const sut = new WebhookDeliveryService(repository as unknown as WebhookDeliveriesRepository, sender as unknown as WebhookSender, config);
  return { sut, repository, sender, settled };
}

describe(WebhookDeliveryService.name, () => {
  beforeAll(() => Logger.overrideLogger(false));

  describe('an attempt', () => {
    it('POSTs the payload signed, with the event and delivery headers; a 2xx is delivered', async () => {
      const { sut, repository, sender, settled } = setup(claimed(), async () => ({ kind: 'response', statusCode: 204, bodySnippet: '' }));
      sut.wake();
      expect((await settled).recorded).toEqual({ status: 'delivered', statusCode: 204 });
      const [url, body, headers, timeout] = sender.post.mock.calls[0]!;
      expect(url).toBe('https://receiver.example/hook');
      expect(body).toBe(serializePayload(claimed().payload));
      expect(JSON.parse(body)).toEqual(claimed().payload);
      expect(headers).toMatchObject({ 'Content-Type': 'application/json', 'Grove-Event': 'job.succeeded', 'Grove-Delivery': 'whdel_1' });
      expect(verifySignature('whsec_test', headers['Grove-Signature']!, body, Math.floor(Date.now() / 1000))).toBe(true);
      expect(timeout).toBe(1_000);
      expect(repository.record).toHaveBeenCalledWith('whdel_1', 1, expect.anything());
    });

    it('schedules a retry after a non-2xx answer, naming the status and the start of the answer', async () => {
      const { sut, settled } = setup(claimed(1), async () => ({ kind: 'response', statusCode: 302, bodySnippet: 'moved' }));
      sut.wake();
      const { recorded } = await settled;
      expect(recorded).toMatchObject({ status: 'pending', statusCode: 302, error: 'HTTP 302: moved' });
      expect((recorded as { retryInMs: number }).retryInMs).toBeGreaterThanOrEqual(800);
      expect((recorded as { retryInMs: number }).retryInMs).toBeLessThanOrEqual(1_200);
    });

    it('fails the delivery when the last attempt fails, with the error truncated', async () => {
      const { sut, settled } = setup(claimed(3), async () => ({ kind: 'error', message: `ECONNREFUSED ${'x'.repeat(1_000)}` }));
      sut.wake();
      const { recorded } = await settled;
      expect(recorded).toMatchObject({ status: 'failed', statusCode: null });
      expect((recorded as { error: string }).error).toHaveLength(500);
      expect((recorded as { error: string }).error.startsWith('ECONNREFUSED')).toBe(true);
    });
  });

  describe('onModuleDestroy', () => {
    it('interrupts attempts in flight and gives them back instead of counting them', async () => {
      const { sut, repository, settled } = setup(claimed(2), (signal) =>
        new Promise<SendResult>((resolve) => signal.addEventListener('abort', () => resolve({ kind: 'aborted' }))),
      );
      sut.wake();
      await vi.waitFor(() => expect(repository.claimDue).toHaveBeenCalled());
      await new Promise((r) => setTimeout(r, 10));
      const started = Date.now();
      await sut.onModuleDestroy();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(await settled).toEqual({ released: true });
      expect(repository.release).toHaveBeenCalledWith('whdel_1', 2);
      expect(repository.record).not.toHaveBeenCalled();
    });
  });
});
