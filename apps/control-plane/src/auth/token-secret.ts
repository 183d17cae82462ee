import { createHash, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'grove_';

/** A new API token secret: 256 random bits, shown to its owner once. */
export function newTokenSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** Secrets are high-entropy, so a plain SHA-256 is a safe lookup hash (no per-token salt or slow KDF needed). */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, SECRET_PREFIX.length + 6);
}
