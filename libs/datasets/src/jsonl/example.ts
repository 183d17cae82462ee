/** The four dataset formats; one file holds exactly one of them. */
export type ExampleFormat = 'prompt_completion' | 'instruction' | 'messages' | 'text';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** One validated training example, as read from one JSONL line. */
export type Example =
  | { format: 'prompt_completion'; prompt: string; completion: string }
  | { format: 'instruction'; instruction: string; input?: string; output: string }
  | { format: 'messages'; messages: ChatMessage[] }
  | { format: 'text'; text: string };

export const CHAT_ROLES: readonly ChatRole[] = ['system', 'user', 'assistant'];

export const FORMAT_SHAPES =
  '{"prompt","completion"}, {"instruction","input"?,"output"}, {"messages":[{"role","content"}]}, {"text"}';
