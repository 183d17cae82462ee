import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stripe-style signatures: `Grove-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The timestamp is signed too, so a captured request cannot be replayed after the tolerance window.
 */

const SECRET_PREFIX = 'whsec_';
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** A new signing secret: 192 random bits, shown to the webhook's owner once. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64url');
}

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(secret, unixSeconds, body)}`;
}

/**
 * True when one of the header's `v1` signatures matches the body and its timestamp is within `toleranceSeconds` of
 * `nowSeconds` (either way: a receiver's clock may run behind).
 */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  nowSeconds: number,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  return parts.some(([k, v = '']) => k === 'v1' && /^[0-9a-f]{64}$/.test(v) && timingSafeEqual(Buffer.from(v, 'hex'), expected));
}

function hmac(secret: string, unixSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
}
