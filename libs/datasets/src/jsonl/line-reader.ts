import { JsonlSource, sourceChunks } from './jsonl-source';

/** One physical line: its decoded text, or why it could not be read. Lines count from 1. */
export type RawLine = { line: number; text: string } | { line: number; problem: string };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Splits a byte stream into lines without holding more than one line in memory.
 * Splitting on the byte 0x0A is safe for UTF-8 (it never occurs inside a multi-byte character), so
 * chunk boundaries may fall anywhere. Strips a trailing CR (CRLF files) and a UTF-8 BOM on line 1.
 * A line longer than `maxLineBytes` is reported, not buffered.
 */
export async function* readLines(source: JsonlSource, maxLineBytes: number): AsyncGenerator<RawLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let parts: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  let line = 0;

  const take = (bytes: Buffer): void => {
    if (overlong || bytes.length === 0) return;
    pendingBytes += bytes.length;
    if (pendingBytes > maxLineBytes) {
      overlong = true;
      parts = [];
    } else {
      parts.push(bytes);
    }
  };

  const finishLine = (): RawLine => {
    line += 1;
    const wasOverlong = overlong;
    let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    parts = [];
    pendingBytes = 0;
    overlong = false;
    if (wasOverlong) return { line, problem: `line is longer than ${maxLineBytes} bytes` };
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, bytes.length - 1);
    if (line === 1 && bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3);
    try {
      return { line, text: decoder.decode(bytes) };
    } catch {
      return { line, problem: 'invalid UTF-8' };
    }
  };

  for await (const chunk of sourceChunks(source)) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE, start); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      take(chunk.subarray(start, end));
      yield finishLine();
      start = end + 1;
    }
    take(chunk.subarray(start));
  }
  // A final line without a newline still counts; a trailing newline does not start an empty line.
  if (pendingBytes > 0 || overlong) yield finishLine();
}
