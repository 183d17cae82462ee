import { ChatMessage } from '../jsonl/example';
import { DatasetTokenizer } from '../tokenizer/dataset-tokenizer';
import { Segment } from './encoded-example';

/** Stands in for an assistant turn's content; no letters, so case filters in templates leave it intact. */
const SENTINEL = '@@0271828182845904523@@';

export type ChatSegmentsResult = { segments: Segment[] } | { reason: string };

/**
 * Splits a conversation rendered with the model's chat template into prompt and target text.
 * For each assistant turn k, messages[0..k) plus a sentinel assistant turn is rendered: the text
 * before the sentinel is exactly what inference would feed the model before turn k (header
 * included), and the text after it starts with the template's end-of-turn token. The whole
 * conversation's rendering must start with that prefix, so the mask is exact and matches inference;
 * templates that render earlier turns differently once later turns exist are refused, not guessed at.
 * The target is the content as the template writes it plus the end-of-turn token right after it
 * (`<|eot_id|>`, `<|im_end|>`, `</s>`, ...).
 */
export function chatTemplateSegments(tokenizer: DatasetTokenizer, messages: readonly ChatMessage[]): ChatSegmentsResult {
  try {
    return splitRendered(tokenizer, messages);
  } catch (error) {
    return { reason: `the chat template failed to render this conversation: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function splitRendered(tokenizer: DatasetTokenizer, messages: readonly ChatMessage[]): ChatSegmentsResult {
  const full = tokenizer.renderChat(messages);
  const segments: Segment[] = [];
  let cursor = 0;
  for (let k = 0; k < messages.length; k += 1) {
    if (messages[k].role !== 'assistant') continue;
    const probe = tokenizer.renderChat([...messages.slice(0, k), { role: 'assistant', content: SENTINEL }]);
    const at = probe.indexOf(SENTINEL);
    if (at < 0) return { reason: `the chat template does not render the content of messages[${k}]` };
    const before = probe.slice(0, at);
    const after = probe.slice(at + SENTINEL.length);
    const endOfTurn = after.slice(0, endOfTurnLength(after, tokenizer.specialTokens));
    if (before.length < cursor || !full.startsWith(before)) {
      return { reason: `the chat template renders messages[${k}] differently once later messages follow` };
    }
    const content = renderedContent(tokenizer, messages, k, { full, before, after, endOfTurn });
    if (content === undefined) return { reason: `the chat template renders messages[${k}] in a way whose content cannot be located` };
    if (!full.startsWith(content + endOfTurn, before.length)) {
      return { reason: `the chat template renders messages[${k}] differently once later messages follow` };
    }
    const targetEnd = before.length + content.length + endOfTurn.length;
    segments.push({ text: full.slice(cursor, before.length), target: false });
    segments.push({ text: full.slice(before.length, targetEnd), target: true });
    cursor = targetEnd;
  }
  segments.push({ text: full.slice(cursor), target: false });
  return { segments };
}

interface Rendered {
  full: string;
  before: string;
  after: string;
  endOfTurn: string;
}

/**
 * The content of messages[k] as the template writes it. Templates nearly always write it as is or
 * trimmed, which the full rendering shows directly when an end-of-turn token follows it; anything
 * else is found by rendering the conversation up to turn k (one more render, the slow part).
 */
function renderedContent(
  tokenizer: DatasetTokenizer,
  messages: readonly ChatMessage[],
  k: number,
  { full, before, after, endOfTurn }: Rendered,
): string | undefined {
  const { content } = messages[k];
  if (endOfTurn !== '') {
    const asWritten = [content, content.trim()].find((candidate) => full.startsWith(candidate + endOfTurn, before.length));
    if (asWritten !== undefined) return asWritten;
  }
  const upToTurn = tokenizer.renderChat(messages.slice(0, k + 1));
  const contentEnd = upToTurn.length - after.length;
  if (!upToTurn.startsWith(before) || !upToTurn.endsWith(after) || contentEnd < before.length) return undefined;
  return upToTurn.slice(before.length, contentEnd);
}

/** Length of the end-of-turn marker at the start of `text`: optional spaces, then one special token. */
function endOfTurnLength(text: string, specialTokens: readonly string[]): number {
  const spaces = /^[ \t]*/.exec(text)?.[0].length ?? 0;
  const token = specialTokens.find((special) => text.startsWith(special, spaces));
  return token === undefined ? 0 : spaces + token.length;
}
