/** A multipart/form-data field: text, or a file streamed from disk. */
export type FormPart =
  | { kind: 'field'; name: string; value: string }
  | { kind: 'file'; name: string; path: string; filename: string; size: number; contentType?: string };

export interface MultipartBody {
  contentType: string;
  contentLength: number;
  /** The encoded body; a fresh stream each call (a retry sends it again). `onFileBytes` counts file bytes read. */
  chunks(onFileBytes?: (n: number) => void): AsyncGenerator<Uint8Array>;
}

const CRLF = '\r\n';

/**
 * multipart/form-data (RFC 7578) built as a stream, so a multi-GB dataset is read from disk while it is sent instead of
 * being held in memory; the length is known up front from the file sizes.
 */
export function multipartBody(
  parts: FormPart[],
  boundary: string,
  openFile: (path: string) => AsyncIterable<Uint8Array>,
): MultipartBody {
  const encoded = parts.map((part) => ({
    part,
    head: Buffer.from(partHead(part, boundary)),
    value: part.kind === 'field' ? Buffer.from(part.value) : undefined,
  }));
  const tail = Buffer.from(`--${boundary}--${CRLF}`);
  const contentLength =
    encoded.reduce((n, e) => n + e.head.length + (e.part.kind === 'file' ? e.part.size : (e.value?.length ?? 0)) + CRLF.length, 0) + tail.length;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength,
    async *chunks(onFileBytes) {
      for (const { part, head, value } of encoded) {
        yield head;
        if (value) yield value;
        if (part.kind === 'file') {
          for await (const chunk of openFile(part.path)) {
            onFileBytes?.(chunk.length);
            yield chunk;
          }
        }
        yield Buffer.from(CRLF);
      }
      yield tail;
    },
  };
}

function partHead(part: FormPart, boundary: string): string {
  const disposition = `form-data; name="${escapeQuoted(part.name)}"${part.kind === 'file' ? `; filename="${escapeQuoted(part.filename)}"` : ''}`;
  const type = part.kind === 'file' ? `Content-Type: ${part.contentType ?? 'application/octet-stream'}${CRLF}` : '';
  return `--${boundary}${CRLF}Content-Disposition: ${disposition}${CRLF}${type}${CRLF}`;
}

/** The HTML form encoding of names and filenames in a quoted header value. */
function escapeQuoted(value: string): string {
  return value.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}
