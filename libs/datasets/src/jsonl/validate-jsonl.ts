import { LineError } from '../dataset.error';
import { ExampleFormat } from './example';
import { JsonlExamples, JsonlReadOptions } from './jsonl-examples';
import { JsonlSource } from './jsonl-source';

export const DEFAULT_MAX_ERRORS = 20;

export interface ValidateJsonlOptions extends JsonlReadOptions {
  /** How many errors to list; all are counted. */
  maxErrors?: number;
}

export interface JsonlValidation {
  /** The file's format, or null when no line was a valid example. */
  format: ExampleFormat | null;
  /** Physical lines, blank ones included. */
  lines: number;
  /** Valid example lines. */
  examples: number;
  /** The first `maxErrors` errors in line order; the file is valid when `errorCount` is 0. */
  errors: LineError[];
  errorCount: number;
}

/** Validates a JSONL dataset in one streaming pass (memory bounded by the longest line). */
export async function validateJsonl(source: JsonlSource, options: ValidateJsonlOptions = {}): Promise<JsonlValidation> {
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const reader = new JsonlExamples(source, options);
  const errors: LineError[] = [];
  let errorCount = 0;
  let examples = 0;
  for await (const item of reader) {
    if ('example' in item) {
      examples += 1;
      continue;
    }
    errorCount += 1;
    if (errors.length < maxErrors) errors.push({ line: item.line, reason: item.reason });
  }
  return { format: reader.format, lines: reader.lines, examples, errors, errorCount };
}
