import { ChatMessage } from '../jsonl/example';
import { DatasetTokenizer } from '../tokenizer/dataset-tokenizer';
import { Segment } from './encoded-example';

/** Stands in for an assistant turn's content so its position in the rendered text can be found. */
const SENTINEL = 'GROVE_ASSISTANT_CONTENT_5f1c9e';

export type ChatSegmentsResult = { segments: Segment[] } | { reason: string };

/**
 * Splits a conversation rendered with the model's chat template into prompt and target text.
 * For each assistant turn k, messages[0..k) plus a sentinel assistant turn is rendered: the text
 * before the sentinel is everything the template puts before the content (header included) and the
 * text after it is what follows the content. Rendering messages[0..k] then gives the content exactly
 * as the template writes it (it may trim it). The target is that content plus the end-of-turn token
 * right after it (`<|eot_id|>`, `<|im_end|>`, `</s>`, ...). Every such span must be a prefix of the
 * whole rendered conversation, so the mask is exact; templates that render earlier turns differently
 * once later turns exist are refused rather than guessed at.
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
    const upToTurn = tokenizer.renderChat(messages.slice(0, k + 1));
    const contentEnd = upToTurn.length - after.length;
    if (!upToTurn.startsWith(before) || !upToTurn.endsWith(after) || contentEnd < before.length) {
      return { reason: `the chat template renders messages[${k}] in a way whose content cannot be located` };
    }
    const targetEnd = contentEnd + endOfTurnLength(after, tokenizer.specialTokens);
    if (before.length < cursor || !full.startsWith(upToTurn.slice(0, targetEnd))) {
      return { reason: `the chat template renders messages[${k}] differently once later messages follow` };
    }
    segments.push({ text: full.slice(cursor, before.length), target: false });
    segments.push({ text: full.slice(before.length, targetEnd), target: true });
    cursor = targetEnd;
  }
  segments.push({ text: full.slice(cursor), target: false });
  return { segments };
}

/** Length of the end-of-turn marker at the start of `text`: optional spaces, then one special token. */
function endOfTurnLength(text: string, specialTokens: readonly string[]): number {
  const spaces = /^[ \t]*/.exec(text)?.[0].length ?? 0;
  const token = specialTokens.find((special) => text.startsWith(special, spaces));
  return token === undefined ? 0 : spaces + token.length;
}
