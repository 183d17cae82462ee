import { CHAT_ROLES, ChatMessage, ChatRole, Example, FORMAT_SHAPES } from './example';

export type ParsedExample = { example: Example } | { reason: string };

type Fields = Record<string, unknown>;

/**
 * Checks one decoded JSON value against the four formats.
 * The format is chosen by which keys are present, in the order messages > prompt/completion >
 * instruction/output > text, so extra keys (ids, metadata) are allowed and ignored.
 * Target fields (completion, output, text, assistant content) must be non-empty: an empty target is
 * almost always a data bug and would train the model to stop immediately.
 */
export function parseExample(value: unknown): ParsedExample {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { reason: `expected a JSON object, got ${jsonTypeOf(value)}` };
  }
  const fields = value as Fields;
  if ('messages' in fields) return parseMessages(fields);
  if ('prompt' in fields || 'completion' in fields) return parsePromptCompletion(fields);
  if ('instruction' in fields || 'output' in fields) return parseInstruction(fields);
  if ('text' in fields) return parseText(fields);
  const keys = Object.keys(fields).map((key) => JSON.stringify(key));
  const found = keys.length > 0 ? `keys ${keys.slice(0, 5).join(', ')}` : 'no keys';
  return { reason: `unknown format (${found}), expected one of ${FORMAT_SHAPES}` };
}

function parsePromptCompletion(fields: Fields): ParsedExample {
  const problem = stringField(fields, 'prompt', false) ?? stringField(fields, 'completion', true);
  if (problem) return { reason: problem };
  return { example: { format: 'prompt_completion', prompt: fields.prompt as string, completion: fields.completion as string } };
}

function parseInstruction(fields: Fields): ParsedExample {
  const inputProblem =
    fields.input === undefined || fields.input === null ? undefined : stringField(fields, 'input', false);
  const problem = stringField(fields, 'instruction', true) ?? inputProblem ?? stringField(fields, 'output', true);
  if (problem) return { reason: problem };
  const input = typeof fields.input === 'string' && fields.input !== '' ? fields.input : undefined;
  return {
    example: { format: 'instruction', instruction: fields.instruction as string, input, output: fields.output as string },
  };
}

function parseText(fields: Fields): ParsedExample {
  const problem = stringField(fields, 'text', true);
  if (problem) return { reason: problem };
  return { example: { format: 'text', text: fields.text as string } };
}

function parseMessages(fields: Fields): ParsedExample {
  const raw = fields.messages;
  if (!Array.isArray(raw)) return { reason: `field "messages" must be an array, got ${jsonTypeOf(raw)}` };
  if (raw.length === 0) return { reason: 'field "messages" must not be empty' };
  const messages: ChatMessage[] = [];
  for (let i = 0; i < raw.length; i += 1) {
    const parsed = parseMessage(raw[i], `messages[${i}]`);
    if ('reason' in parsed) return parsed;
    messages.push(parsed.message);
  }
  if (!messages.some((message) => message.role === 'assistant')) {
    return { reason: 'field "messages" must contain at least one message with role "assistant"' };
  }
  return { example: { format: 'messages', messages } };
}

function parseMessage(value: unknown, name: string): { message: ChatMessage } | { reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { reason: `field "${name}" must be an object, got ${jsonTypeOf(value)}` };
  }
  const fields = value as Fields;
  if (!CHAT_ROLES.includes(fields.role as ChatRole)) {
    const roles = CHAT_ROLES.map((role) => `"${role}"`).join(', ');
    const got = fields.role === undefined ? 'it is missing' : `got ${JSON.stringify(fields.role)}`;
    return { reason: `field "${name}.role" must be one of ${roles}, ${got}` };
  }
  const role = fields.role as ChatRole;
  const problem = stringField(fields, 'content', role === 'assistant', name);
  if (problem) return { reason: problem };
  return { message: { role, content: fields.content as string } };
}

/** Returns why `fields[key]` is not an acceptable string, or undefined when it is. */
function stringField(fields: Fields, key: string, nonEmpty: boolean, parent?: string): string | undefined {
  const name = parent ? `${parent}.${key}` : key;
  const value = fields[key];
  if (value === undefined) return `field "${name}" is missing`;
  if (typeof value !== 'string') return `field "${name}" must be a string, got ${jsonTypeOf(value)}`;
  if (nonEmpty && value.trim() === '') return `field "${name}" must not be empty`;
  return undefined;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
