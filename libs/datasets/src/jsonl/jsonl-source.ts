import { createReadStream } from 'node:fs';

/** A JSONL file: a path on disk, or any stream of chunks (an upload, a test fixture). */
export type JsonlSource = string | AsyncIterable<string | Uint8Array>;

/** Yields the source's bytes as Buffers, opening the file when given a path. */
export async function* sourceChunks(source: JsonlSource): AsyncGenerator<Buffer> {
  const chunks: AsyncIterable<string | Uint8Array> =
    typeof source === 'string' ? createReadStream(source) : source;
  for await (const chunk of chunks) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}
