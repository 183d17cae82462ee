import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestFingerprint } from './request-fingerprint';

describe(requestFingerprint.name, () => {
  const base = { method: 'POST', path: '/v1/jobs', files: [] };

  it('ignores object key order but not values, arrays order or path', async () => {
    const a = await requestFingerprint({ ...base, body: { a: 1, b: [1, 2] } });
    expect(await requestFingerprint({ ...base, body: { b: [1, 2], a: 1 } })).toBe(a);
    expect(await requestFingerprint({ ...base, body: { a: 1, b: [2, 1] } })).not.toBe(a);
    expect(await requestFingerprint({ ...base, body: { a: 2, b: [1, 2] } })).not.toBe(a);
    expect(await requestFingerprint({ ...base, path: '/v1/files', body: { a: 1, b: [1, 2] } })).not.toBe(a);
  });

  it('includes the uploaded bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fp-'));
    await writeFile(join(dir, 'x'), 'one');
    await writeFile(join(dir, 'y'), 'two');
    const x = await requestFingerprint({ ...base, body: {}, files: [{ fieldname: 'file', path: join(dir, 'x') }] });
    const y = await requestFingerprint({ ...base, body: {}, files: [{ fieldname: 'file', path: join(dir, 'y') }] });
    expect(x).not.toBe(y);
  });
});
