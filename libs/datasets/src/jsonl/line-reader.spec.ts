import { describe, expect, it } from 'vitest';
import { RawLine, readLines } from './line-reader';

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(source: AsyncIterable<string | Uint8Array>, maxLineBytes = 1024): Promise<RawLine[]> {
  const lines: RawLine[] = [];
  for await (const line of readLines(source, maxLineBytes)) lines.push(line);
  return lines;
}

describe(readLines.name, () => {
  const text = '{"text":"héllo 🌍"}\r\n\n{"text":"b"}\n{"text":"last"}';
  const expected: RawLine[] = [
    { line: 1, text: '{"text":"héllo 🌍"}' },
    { line: 2, text: '' },
    { line: 3, text: '{"text":"b"}' },
    { line: 4, text: '{"text":"last"}' },
  ];

  it('gives the same lines for every chunk size, including splits inside multi-byte characters and CRLF', async () => {
    const bytes = Buffer.from(text, 'utf8');
    for (let size = 1; size <= bytes.length; size += 1) {
      expect(await collect(chunked(bytes, size))).toEqual(expected);
    }
  });

  it('accepts string chunks', async () => {
    async function* strings(): AsyncGenerator<string> {
      yield '{"a":1}\n{"b"';
      yield ':2}\n';
    }
    expect(await collect(strings())).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, text: '{"b":2}' },
    ]);
  });

  it('strips a UTF-8 byte order mark on the first line only', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const bytes = Buffer.concat([bom, Buffer.from('{"a":1}\n'), bom, Buffer.from('{"b":2}\n')]);
    const lines = await collect(chunked(bytes, 2));
    expect(lines[0]).toEqual({ line: 1, text: '{"a":1}' });
    expect(lines[1]).toEqual({ line: 2, text: '\ufeff{"b":2}' });
  });

  it('does not invent an empty line after a trailing newline', async () => {
    expect(await collect(chunked(Buffer.from('a\nb\n'), 3))).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'b' },
    ]);
  });

  it('reports a line over the byte limit and keeps counting lines after it', async () => {
    const bytes = Buffer.from(`ok\n${'x'.repeat(50)}\nafter\n${'y'.repeat(11)}`);
    expect(await collect(chunked(bytes, 4), 10)).toEqual([
      { line: 1, text: 'ok' },
      { line: 2, problem: 'line is longer than 10 bytes' },
      { line: 3, text: 'after' },
      { line: 4, problem: 'line is longer than 10 bytes' },
    ]);
  });

  it('reports invalid UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from('good\n'), Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), Buffer.from('\n')]);
    expect(await collect(chunked(bytes, 64))).toEqual([
      { line: 1, text: 'good' },
      { line: 2, problem: 'invalid UTF-8' },
    ]);
  });
});
