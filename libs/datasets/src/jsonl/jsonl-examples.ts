import { Example, ExampleFormat } from './example';
import { describeJsonError } from './json-error';
import { JsonlSource } from './jsonl-source';
import { readLines } from './line-reader';
import { parseExample } from './parse-example';

/** Lines longer than this are rejected unread; long chats fit, a whole file on one line does not. */
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

export interface JsonlReadOptions {
  maxLineBytes?: number;
}

/** What one non-blank line turned out to be. */
export type JsonlItem = { line: number; example: Example } | { line: number; reason: string };

/**
 * Streams a JSONL dataset as validated examples and per-line errors, in line order.
 * Blank (whitespace-only) lines are skipped: editors and concatenation leave them, and they carry
 * no data. The first valid line fixes the file's format; a later line in another format is an error.
 * A file with no examples and no other errors yields one file-level error (line 0).
 */
export class JsonlExamples implements AsyncIterable<JsonlItem> {
  /** Physical lines read so far, blank ones included. */
  lines = 0;
  /** Format of the file, known after the first valid line. */
  format: ExampleFormat | null = null;
  private formatLine = 0;

  constructor(
    private readonly source: JsonlSource,
    private readonly options: JsonlReadOptions = {},
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<JsonlItem> {
    let sawItem = false;
    for await (const raw of readLines(this.source, this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)) {
      this.lines = raw.line;
      if ('problem' in raw) {
        sawItem = true;
        yield { line: raw.line, reason: raw.problem };
        continue;
      }
      if (raw.text.trim() === '') continue;
      sawItem = true;
      yield this.parseLine(raw.line, raw.text);
    }
    if (!sawItem) yield { line: 0, reason: 'empty file: no examples' };
  }

  private parseLine(line: number, text: string): JsonlItem {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return { line, reason: describeJsonError(text, error) };
    }
    const parsed = parseExample(value);
    if ('reason' in parsed) return { line, reason: parsed.reason };
    const { format } = parsed.example;
    if (this.format === null) {
      this.format = format;
      this.formatLine = line;
    } else if (format !== this.format) {
      return { line, reason: `format "${format}" differs from the file's format "${this.format}" (set by line ${this.formatLine})` };
    }
    return { line, example: parsed.example };
  }
}
