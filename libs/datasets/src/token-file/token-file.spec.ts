import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../dataset.error';
import { tokenFileByteSize } from './token-file-format';
import { exampleOf, parseTokenFile, readTokenFile } from './token-file-reader';
import { TokenFileWriter } from './token-file-writer';

type Example = { ids: number[]; mask: number[] };

async function writeExamples(path: string, examples: Example[]): Promise<void> {
  const writer = await TokenFileWriter.create(path);
  for (const example of examples) await writer.append(example.ids, example.mask);
  await writer.finish();
}

describe(TokenFileWriter.name, () => {
  let dir: string;
  let out: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-gtok-'));
    out = join(dir, 'dataset.gtok');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the exact bytes of docs/token-file.md', async () => {
    await writeExamples(out, [
      { ids: [128000, 9906], mask: [0, 1] },
      { ids: [7, 0xffffffff, 9], mask: [0, 0, 1] },
    ]);
    const expected = Buffer.alloc(tokenFileByteSize(2, 5));
    expected.write('GROVETOK', 0, 'ascii');
    expected.writeUInt32LE(1, 8);
    expected.writeUInt32LE(0, 12);
    expected.writeBigUInt64LE(2n, 16);
    expected.writeBigUInt64LE(5n, 24);
    [0n, 2n, 5n].forEach((offset, i) => expected.writeBigUInt64LE(offset, 32 + 8 * i));
    [128000, 9906, 7, 0xffffffff, 9].forEach((id, i) => expected.writeUInt32LE(id, 56 + 4 * i));
    Buffer.from([0, 1, 0, 0, 1]).copy(expected, 76);
    expect(await readFile(out)).toEqual(expected);
    expect(expected.length).toBe(81);
  });

  it('round-trips many examples, including one larger than its write buffer', async () => {
    const examples: Example[] = Array.from({ length: 500 }, (_, e) => {
      const length = 2 + (e % 37);
      return { ids: Array.from({ length }, (_, i) => (e * 7919 + i * 104729) % 128256), mask: Array.from({ length }, (_, i) => (i === 0 ? 0 : (i + e) % 2)) };
    });
    const huge = 300_000;
    examples.push({ ids: Array.from({ length: huge }, (_, i) => i), mask: Array.from({ length: huge }, (_, i) => (i === 0 ? 0 : 1)) });
    const writer = await TokenFileWriter.create(out);
    for (const example of examples) await writer.append(example.ids, example.mask);
    const summary = await writer.finish();

    const tokens = examples.reduce((sum, example) => sum + example.ids.length, 0);
    expect(summary).toEqual({ examples: 501, tokens, bytes: tokenFileByteSize(501, tokens) });
    const file = await readTokenFile(out);
    expect((await readFile(out)).length).toBe(32 + 8 * (501 + 1) + 5 * tokens);
    expect(file.examples).toBe(501);
    examples.forEach((example, e) => expect(exampleOf(file, e)).toEqual(example));
    expect(await readdir(dir)).toEqual(['dataset.gtok']);
  });

  it('replaces an existing file only when the new one is complete', async () => {
    await writeExamples(out, [{ ids: [1, 2], mask: [0, 1] }]);
    const writer = await TokenFileWriter.create(out);
    await writer.append([3, 4, 5], [0, 1, 1]);
    expect((await readTokenFile(out)).tokens).toBe(2);
    await writer.finish();
    expect((await readTokenFile(out)).tokens).toBe(3);
  });

  it('leaves nothing behind when aborted', async () => {
    const writer = await TokenFileWriter.create(out);
    await writer.append([1, 2], [0, 1]);
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses to finish an empty file and leaves nothing behind', async () => {
    const writer = await TokenFileWriter.create(out);
    await expect(writer.finish()).rejects.toMatchObject({ code: 'all_examples_dropped' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('cleans up when the final rename fails', async () => {
    await mkdir(out);
    await writeFile(join(out, 'keep'), 'x');
    const writer = await TokenFileWriter.create(out);
    await writer.append([1, 2], [0, 1]);
    await expect(writer.finish()).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['dataset.gtok']);
    expect(await readdir(out)).toEqual(['keep']);
  });

  it.each([
    [[1, 2, 3], [0, 1], 'ids (3) and mask (2) differ in length'],
    [[1], [0], 'an example needs at least 2 tokens, got 1'],
    [[1, 2], [1, 1], 'the first token of an example cannot be a target'],
    [[1, -2], [0, 1], 'token id -2 at 1 is not a u32'],
    [[1, 2 ** 32], [0, 1], `token id ${2 ** 32} at 1 is not a u32`],
    [[1, 2], [0, 2], 'mask value 2 at 1 is not 0 or 1'],
  ])('rejects ids %j with mask %j', async (ids, mask, message) => {
    const writer = await TokenFileWriter.create(out);
    await expect(writer.append(ids, mask)).rejects.toThrow(message);
    await writer.abort();
  });
});

describe(parseTokenFile.name, () => {
  function validFile(): Buffer {
    const bytes = Buffer.alloc(tokenFileByteSize(1, 3));
    bytes.write('GROVETOK', 0, 'ascii');
    bytes.writeUInt32LE(1, 8);
    bytes.writeBigUInt64LE(1n, 16);
    bytes.writeBigUInt64LE(3n, 24);
    bytes.writeBigUInt64LE(3n, 40);
    [5, 6, 7].forEach((id, i) => bytes.writeUInt32LE(id, 48 + 4 * i));
    Buffer.from([0, 1, 1]).copy(bytes, 60);
    return bytes;
  }

  it('reads a valid file', () => {
    expect(exampleOf(parseTokenFile(validFile()), 0)).toEqual({ ids: [5, 6, 7], mask: [0, 1, 1] });
  });

  it.each<[string, (bytes: Buffer) => Buffer, string]>([
    ['a short file', (b) => b.subarray(0, 20), 'file is 20 bytes, shorter than the header'],
    ['a wrong magic', (b) => (b.write('GROVETOX', 0, 'ascii'), b), 'magic is not GROVETOK'],
    ['a wrong version', (b) => (b.writeUInt32LE(2, 8), b), 'version is 2, expected 1'],
    ['a truncated file', (b) => b.subarray(0, b.length - 1), 'file is 62 bytes, expected 63 for its counts'],
    ['a bad last offset', (b) => (b.writeBigUInt64LE(2n, 40), b), 'offsets[1] is 2, expected n_tokens 3'],
    ['a mask value of 2', (b) => (b.writeUInt8(2, 62), b), 'mask[2] is 2, expected 0 or 1'],
    ['a target first token', (b) => (b.writeUInt8(1, 60), b), 'example 0 has a target at its first token'],
  ])('refuses %s', (_name, damage, reason) => {
    const parse = () => parseTokenFile(damage(validFile()));
    expect(parse).toThrow(DatasetError);
    expect(parse).toThrow(`corrupt token file: ${reason}`);
  });
});
