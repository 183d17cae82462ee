import { ChatMessage, ChatRole } from '../jsonl/example';
import { DatasetTokenizer } from '../tokenizer/dataset-tokenizer';
import { Segment } from './encoded-example';

const HEADERS: Record<ChatRole, string> = {
  system: '### System:\n',
  user: '### User:\n',
  assistant: '### Assistant:\n',
};
const TURN_SEPARATOR = '\n\n';

/**
 * Fallback for conversations when the tokenizer has no chat template, in the same "### " style as
 * the Alpaca prompt:
 *
 *     <BOS>### System:\n{system}\n\n### User:\n{user}\n\n### Assistant:\n{assistant}<EOS>\n\n### User:\n...
 *
 * Assistant contents and the EOS after each are targets; headers, separators and other turns are not.
 */
export function plainChatSegments(tokenizer: DatasetTokenizer, messages: readonly ChatMessage[]): Segment[] {
  const segments: Segment[] = [{ ids: tokenizer.startIds, target: false }];
  messages.forEach((message, index) => {
    const isAssistant = message.role === 'assistant';
    if (index > 0) segments.push({ text: TURN_SEPARATOR, target: false });
    segments.push({ text: HEADERS[message.role], target: false });
    segments.push({ text: message.content, target: isAssistant });
    if (isAssistant) segments.push({ ids: [tokenizer.eosId], target: true });
  });
  return segments;
}
