import { describe, expect, it } from 'vitest';
import { FORMAT_SHAPES } from './example';
import { parseExample } from './parse-example';

const reasonOf = (value: unknown): string | undefined => {
  const parsed = parseExample(value);
  return 'reason' in parsed ? parsed.reason : undefined;
};

describe(parseExample.name, () => {
  describe('prompt_completion', () => {
    it('accepts strings, an empty prompt included, and ignores extra keys', () => {
      expect(parseExample({ prompt: '', completion: 'yes', id: 7 })).toEqual({
        example: { format: 'prompt_completion', prompt: '', completion: 'yes' },
      });
    });
    it.each([
      [{ prompt: 'q' }, 'field "completion" is missing'],
      [{ completion: 'a' }, 'field "prompt" is missing'],
      [{ prompt: 'q', completion: 3 }, 'field "completion" must be a string, got a number'],
      [{ prompt: ['q'], completion: 'a' }, 'field "prompt" must be a string, got an array'],
      [{ prompt: 'q', completion: '  ' }, 'field "completion" must not be empty'],
    ])('rejects %j', (value, reason) => expect(reasonOf(value)).toBe(reason));
  });

  describe('instruction', () => {
    it('accepts an optional input; empty or null input means none', () => {
      expect(parseExample({ instruction: 'Sum', input: '1 2', output: '3' })).toEqual({
        example: { format: 'instruction', instruction: 'Sum', input: '1 2', output: '3' },
      });
      expect(parseExample({ instruction: 'Hi', input: '', output: 'Hello' })).toEqual({
        example: { format: 'instruction', instruction: 'Hi', input: undefined, output: 'Hello' },
      });
      expect(parseExample({ instruction: 'Hi', input: null, output: 'Hello' })).toEqual({
        example: { format: 'instruction', instruction: 'Hi', input: undefined, output: 'Hello' },
      });
    });
    it.each([
      [{ output: 'x' }, 'field "instruction" is missing'],
      [{ instruction: 'x' }, 'field "output" is missing'],
      [{ instruction: 'x', input: 5, output: 'y' }, 'field "input" must be a string, got a number'],
      [{ instruction: '', output: 'y' }, 'field "instruction" must not be empty'],
      [{ instruction: 'x', output: { a: 1 } }, 'field "output" must be a string, got an object'],
    ])('rejects %j', (value, reason) => expect(reasonOf(value)).toBe(reason));
  });

  describe('messages', () => {
    it('accepts system, user and assistant turns', () => {
      const messages = [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: '' },
        { role: 'assistant', content: 'Hi' },
      ];
      expect(parseExample({ messages })).toEqual({ example: { format: 'messages', messages } });
    });
    it.each([
      [{ messages: 'hi' }, 'field "messages" must be an array, got a string'],
      [{ messages: [] }, 'field "messages" must not be empty'],
      [{ messages: [null] }, 'field "messages[0]" must be an object, got null'],
      [
        { messages: [{ role: 'user', content: 'a' }, { role: 'bot', content: 'b' }] },
        'field "messages[1].role" must be one of "system", "user", "assistant", got "bot"',
      ],
      [
        { messages: [{ content: 'b' }] },
        'field "messages[0].role" must be one of "system", "user", "assistant", it is missing',
      ],
      [
        { messages: [{ role: 'user', content: 1 }, { role: 'assistant', content: 'b' }] },
        'field "messages[0].content" must be a string, got a number',
      ],
      [
        { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: '' }] },
        'field "messages[1].content" must not be empty',
      ],
      [
        { messages: [{ role: 'user', content: 'a' }] },
        'field "messages" must contain at least one message with role "assistant"',
      ],
    ])('rejects %j', (value, reason) => expect(reasonOf(value)).toBe(reason));
  });

  describe('text', () => {
    it('accepts a string', () => {
      expect(parseExample({ text: 'hello' })).toEqual({ example: { format: 'text', text: 'hello' } });
    });
    it.each([
      [{ text: null }, 'field "text" must be a string, got null'],
      [{ text: '' }, 'field "text" must not be empty'],
    ])('rejects %j', (value, reason) => expect(reasonOf(value)).toBe(reason));
  });

  it.each([
    [[1, 2], 'expected a JSON object, got an array'],
    ['text', 'expected a JSON object, got a string'],
    [null, 'expected a JSON object, got null'],
    [true, 'expected a JSON object, got a boolean'],
  ])('rejects the non-object %j', (value, reason) => expect(reasonOf(value)).toBe(reason));

  it('names the keys it found when no format matches', () => {
    expect(reasonOf({ question: 'q', answer: 'a' })).toBe(
      `unknown format (keys "question", "answer"), expected one of ${FORMAT_SHAPES}`,
    );
    expect(reasonOf({})).toBe(`unknown format (no keys), expected one of ${FORMAT_SHAPES}`);
  });

  it('picks messages over text when both are present', () => {
    const parsed = parseExample({ text: 'x', messages: [{ role: 'assistant', content: 'a' }] });
    expect('example' in parsed && parsed.example.format).toBe('messages');
  });
});
