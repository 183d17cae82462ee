import { describe, expect, it } from 'vitest';
import { describeJsonError } from './json-error';

function reasonFor(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return describeJsonError(text, error);
  }
  throw new Error(`${text} is valid JSON`);
}

describe(describeJsonError.name, () => {
  it.each([
    ['{"a":}', "invalid JSON at column 6: Unexpected token '}'"],
    ['{"a":1', "invalid JSON at column 7: Expected ',' or '}' after property value"],
    ['{"a" 1}', "invalid JSON at column 6: Expected ':' after property name"],
    ['{"a":1,}', 'invalid JSON at column 8: Expected double-quoted property name'],
    ['{"a":"b"} x', 'invalid JSON at column 11: Unexpected non-whitespace character after JSON'],
    ['{"a":NaN}', "invalid JSON at column 6: Unexpected token 'N'"],
  ])('locates the problem in %s', (text, reason) => expect(reasonFor(text)).toBe(reason));

  it('counts columns in characters, not UTF-16 units', () => {
    expect(reasonFor('{"🌍🌍":}')).toBe("invalid JSON at column 7: Unexpected token '}'");
  });

  it('does not echo a long line back', () => {
    const reason = reasonFor(`{"a":${'x'.repeat(10_000)}}`);
    expect(reason).toBe("invalid JSON at column 6: Unexpected token 'x'");
  });
});
