import { mkdir, readdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create, extract } from 'tar';

/** Every file of `dir` (at the archive's top level) as one uncompressed tar. */
export async function packDirectory(dir: string): Promise<Buffer> {
  const entries = (await readdir(dir)).sort();
  const chunks: Buffer[] = [];
  for await (const chunk of create({ cwd: dir, portable: true }, entries)) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Unpacks a tar stream into `dir` (created if missing); entries may not escape it. */
export async function unpackInto(tarStream: Readable, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await pipeline(tarStream, extract({ cwd: dir, strict: true }));
}
