import { describe, expect, it } from 'vitest';
import { readSse, SseParser } from './sse-parser';

describe(SseParser.name, () => {
  it('parses messages with id, event and data', () => {
    const sut = new SseParser();
    expect(sut.push('id: 7\nevent: job.queued\ndata: {"a":1}\n\nevent: end\ndata: {}\n\n')).toEqual([
      { id: '7', event: 'job.queued', data: '{"a":1}' },
      { id: '7', event: 'end', data: '{}' },
    ]);
  });

  it('gives the same messages however the text is split, CRLF included', () => {
    const text = 'id: 1\r\nevent: a\r\ndata: x\r\n\r\nid: 2\revent: b\rdata: y\r\rid: 3\nevent: c\ndata: z\n\n';
    const whole = new SseParser().push(text);
    for (let size = 1; size <= 7; size += 1) {
      const sut = new SseParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...sut.push(text.slice(i, i + size)));
      expect(got).toEqual(whole);
    }
    expect(whole.map((m) => [m.id, m.event, m.data])).toEqual([['1', 'a', 'x'], ['2', 'b', 'y'], ['3', 'c', 'z']]);
  });

  it('joins data lines, skips comments and drops messages without data', () => {
    const sut = new SseParser();
    expect(sut.push(': keep-alive\n\nevent: ping\n\ndata: a\ndata:b\n\n')).toEqual([{ id: undefined, event: 'message', data: 'a\nb' }]);
  });

  it('holds an unfinished message until its blank line', () => {
    const sut = new SseParser();
    expect(sut.push('id: 1\ndata: x\n')).toEqual([]);
    expect(sut.push('\n')).toEqual([{ id: '1', event: 'message', data: 'x' }]);
  });
});

describe(readSse.name, () => {
  it('decodes UTF-8 split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo\n\n');
    async function* chunks() {
      for (const b of bytes) yield new Uint8Array([b]);
    }
    const got = [];
    for await (const m of readSse(chunks())) got.push(m.data);
    expect(got).toEqual(['héllo']);
  });
});
