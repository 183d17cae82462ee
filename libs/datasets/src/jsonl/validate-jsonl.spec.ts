import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMAT_SHAPES } from './example';
import { validateJsonl } from './validate-jsonl';

async function* chunks(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const jsonl = (...values: unknown[]): string => values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join('\n') + '\n';

describe(validateJsonl.name, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-validate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a valid file read from a path, with a BOM, CRLF and blank lines', async () => {
    const path = join(dir, 'valid.jsonl');
    const body = ['{"prompt":"2+2=","completion":"4"}', '', '   ', '{"prompt":"3+3=","completion":"6"}'].join('\r\n');
    await writeFile(path, '\ufeff' + body + '\r\n');
    expect(await validateJsonl(path)).toEqual({ format: 'prompt_completion', lines: 4, examples: 2, errors: [], errorCount: 0 });
  });

  it('reports each bad line with its number and precise reason', async () => {
    const text = jsonl(
      { instruction: 'Add', input: '1 2', output: '3' },
      { instruction: 'Hi', output: 'Hello' },
      '',
      '{"instruction":"x","output":}',
      { instruction: 'x', output: 7 },
      { question: 'q' },
      { text: 'plain' },
      { instruction: 'ok', output: 'fine' },
    );
    expect(await validateJsonl(chunks(text, 7), { maxErrors: 10 })).toEqual({
      format: 'instruction',
      lines: 8,
      examples: 3,
      errorCount: 4,
      errors: [
        { line: 4, reason: "invalid JSON at column 29: Unexpected token '}'" },
        { line: 5, reason: 'field "output" must be a string, got a number' },
        { line: 6, reason: `unknown format (keys "question"), expected one of ${FORMAT_SHAPES}` },
        { line: 7, reason: 'format "text" differs from the file\'s format "instruction" (set by line 1)' },
      ],
    });
  });

  it('fixes the format at the first valid line, even after invalid ones', async () => {
    const result = await validateJsonl(chunks(jsonl('nope', { text: 'a' }, { prompt: 'p', completion: 'c' }), 5));
    expect(result.format).toBe('text');
    expect(result.errors).toEqual([
      { line: 1, reason: "invalid JSON at column 1: Unexpected token 'o'" },
      { line: 3, reason: 'format "prompt_completion" differs from the file\'s format "text" (set by line 2)' },
    ]);
  });

  it('lists only the first maxErrors errors but counts them all', async () => {
    const text = jsonl(...Array.from({ length: 30 }, () => ({ text: 1 })));
    const result = await validateJsonl(chunks(text, 100), { maxErrors: 3 });
    expect(result.errorCount).toBe(30);
    expect(result.errors.map((error) => error.line)).toEqual([1, 2, 3]);
    expect(result.format).toBeNull();
  });

  it('reports an empty file, and a file of blank lines, at line 0', async () => {
    const empty = { line: 0, reason: 'empty file: no examples' };
    expect(await validateJsonl(chunks('', 1))).toEqual({ format: null, lines: 0, examples: 0, errors: [empty], errorCount: 1 });
    expect(await validateJsonl(chunks('\n  \r\n\n', 1))).toEqual({ format: null, lines: 3, examples: 0, errors: [empty], errorCount: 1 });
  });

  it('rejects an overlong line without failing the rest of the file', async () => {
    const text = jsonl({ text: 'short' }, { text: 'x'.repeat(200) }, { text: 'short again' });
    const result = await validateJsonl(chunks(text, 16), { maxLineBytes: 100 });
    expect(result.examples).toBe(2);
    expect(result.errors).toEqual([{ line: 2, reason: 'line is longer than 100 bytes' }]);
  });

  it('validates messages files', async () => {
    const text = jsonl(
      { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] },
      { messages: [{ role: 'user', content: 'Hi' }] },
    );
    const result = await validateJsonl(chunks(text, 9));
    expect(result.format).toBe('messages');
    expect(result.errors).toEqual([{ line: 2, reason: 'field "messages" must contain at least one message with role "assistant"' }]);
  });
});
