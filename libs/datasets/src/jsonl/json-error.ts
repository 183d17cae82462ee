import { parse as parseTolerant, ParseError } from 'jsonc-parser';

/**
 * Describes why `text` is not valid JSON, with a 1-based column (in characters) where the problem is.
 * V8's messages say what is wrong but not always where, so the position comes from jsonc-parser,
 * which is run only on lines that JSON.parse already rejected.
 */
export function describeJsonError(text: string, error: unknown): string {
  const v8Message = error instanceof Error ? error.message : String(error);
  const offset = v8Position(v8Message) ?? tolerantParserPosition(text) ?? text.length;
  return `invalid JSON at column ${columnOf(text, offset)}: ${v8Summary(v8Message)}`;
}

function v8Position(message: string): number | undefined {
  const match = / at position (\d+)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

function tolerantParserPosition(text: string): number | undefined {
  const errors: ParseError[] = [];
  parseTolerant(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors.length > 0 ? errors[0].offset : undefined;
}

/** Drops V8's echo of the input (which can be megabytes long) and its position suffix. */
function v8Summary(message: string): string {
  return message
    .replace(/, (\.\.\.)?".*is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ at position \d+.*$/s, '');
}

/** Columns count Unicode characters, not UTF-16 units, so they match what an editor shows. */
function columnOf(text: string, offset: number): number {
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    const isHighSurrogate = code >= 0xd800 && code <= 0xdbff;
    if (isHighSurrogate && i + 1 < offset) i += 1;
    column += 1;
  }
  return column;
}

