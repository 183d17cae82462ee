import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signatureHeader, verifySignature } from './webhook-signature';

const secret = 'whsec_test';
const body = '{"id":"whdel_1","type":"job.succeeded"}';
const t = 1_700_000_000;

describe('webhook signatures', () => {
  describe(newWebhookSecret.name, () => {
    it('makes distinct whsec_ secrets', () => {
      const a = newWebhookSecret();
      expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
      expect(newWebhookSecret()).not.toBe(a);
    });
  });

  describe(signatureHeader.name, () => {
    it('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
      const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
      expect(signatureHeader(secret, body, t)).toBe(`t=${t},v1=${expected}`);
    });
  });

  describe(verifySignature.name, () => {
    const sut = (header: string, now = t, raw = body, key = secret) => verifySignature(key, header, raw, now);
    const header = signatureHeader(secret, body, t);

    it('accepts its own signature within five minutes either way', () => {
      expect(sut(header)).toBe(true);
      expect(sut(header, t + 300)).toBe(true);
      expect(sut(header, t - 300)).toBe(true);
    });

    it('refuses an old or far-future timestamp', () => {
      expect(sut(header, t + 301)).toBe(false);
      expect(sut(header, t - 301)).toBe(false);
    });

    it('refuses another body, another secret or a re-signed timestamp', () => {
      expect(sut(header, t, body.replace('succeeded', 'failed'))).toBe(false);
      expect(sut(header, t, body, 'whsec_other')).toBe(false);
      expect(sut(header.replace(`t=${t}`, `t=${t + 1}`), t)).toBe(false);
    });

    it('accepts any matching v1 among several (secret rotation) and ignores unknown schemes', () => {
      const other = signatureHeader('whsec_old', body, t).split(',')[1];
      expect(sut(`t=${t},${other},v0=abc,${header.split(',')[1]}`)).toBe(true);
    });

    it('refuses malformed headers without throwing', () => {
      for (const bad of ['', 'garbage', `t=${t}`, `t=${t},v1=zz`, `t=${t},v1=${'a'.repeat(63)}`, `t=abc,${header.split(',')[1]}`, 'v1=,t=']) {
        expect(sut(bad)).toBe(false);
      }
    });
  });
});
