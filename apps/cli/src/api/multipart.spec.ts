import { describe, expect, it } from 'vitest';
import { multipartBody } from './multipart';

const TRAIN = '{"text":"a"}\n{"text":"b"}\n';
async function* open(_path: string) {
  const text = TRAIN;
  yield Buffer.from(text.slice(0, 5));
  yield Buffer.from(text.slice(5));
}

async function text(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const all: Uint8Array[] = [];
  for await (const c of chunks) all.push(c);
  return Buffer.concat(all).toString('utf8');
}

describe(multipartBody.name, () => {
  const parts = [
    { kind: 'field' as const, name: 'name', value: 'org/tiny' },
    { kind: 'file' as const, name: 'file', path: '/data/train.jsonl', filename: 'tr"ain.jsonl', size: Buffer.byteLength(TRAIN) },
  ];

  it('encodes fields and files as RFC 7578 form data', async () => {
    const sut = multipartBody(parts, 'XYZ', open);
    expect(sut.contentType).toBe('multipart/form-data; boundary=XYZ');
    expect(await text(sut.chunks())).toBe(
      '--XYZ\r\nContent-Disposition: form-data; name="name"\r\n\r\norg/tiny\r\n' +
        '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="tr%22ain.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n' +
        '{"text":"a"}\n{"text":"b"}\n\r\n--XYZ--\r\n',
    );
  });

  it('knows its length up front and counts file bytes as they are read', async () => {
    const sut = multipartBody(parts, 'XYZ', open);
    let fileBytes = 0;
    const body = await text(sut.chunks((n) => (fileBytes += n)));
    expect(sut.contentLength).toBe(Buffer.byteLength(body));
    expect(fileBytes).toBe(Buffer.byteLength(TRAIN));
  });

  it('streams again from the start on every call', async () => {
    const sut = multipartBody(parts, 'XYZ', open);
    expect(await text(sut.chunks())).toBe(await text(sut.chunks()));
  });
});
