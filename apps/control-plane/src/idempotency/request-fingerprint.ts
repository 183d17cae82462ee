import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FingerprintInput {
  method: string;
  path: string;
  body: unknown;
  files: { fieldname: string; path: string }[];
}

/** What makes two requests "the same" for an idempotency key: method, path, JSON body and uploaded bytes. */
export async function requestFingerprint(input: FingerprintInput): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${input.method} ${input.path}\n`);
  hash.update(canonicalJson(input.body ?? null));
  for (const file of [...input.files].sort((a, b) => a.fieldname.localeCompare(b.fieldname))) {
    hash.update(`\n${file.fieldname}:`);
    for await (const chunk of createReadStream(file.path)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** JSON with sorted object keys, so key order in a retried body does not matter. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
