import { Example } from '../jsonl/example';
import { DatasetTokenizer } from '../tokenizer/dataset-tokenizer';
import { alpacaPrompt } from './alpaca-template';
import { chatTemplateSegments } from './chat-template-segments';
import { EncodeResult, encodeSegments, Segment } from './encoded-example';
import { plainChatSegments } from './plain-chat-segments';

/**
 * Turns one example into token ids and a loss mask:
 * - prompt/completion: BOS + prompt + [completion + EOS]
 * - instruction: BOS + Alpaca prompt + [output + EOS]
 * - messages: the chat template with [assistant content + end-of-turn] as targets, or the plain
 *   fallback when the tokenizer has none
 * - text: BOS + [text + EOS], i.e. every token after the first is a target
 * (brackets mark targets; BOS stands for the tokenizer's start tokens, possibly none).
 */
export function encodeExample(tokenizer: DatasetTokenizer, example: Example): EncodeResult {
  const start: Segment = { ids: tokenizer.startIds, target: false };
  const eos: Segment = { ids: [tokenizer.eosId], target: true };
  switch (example.format) {
    case 'prompt_completion':
      return encoded(tokenizer, [start, { text: example.prompt, target: false }, { text: example.completion, target: true }, eos]);
    case 'instruction': {
      const prompt = alpacaPrompt(example.instruction, example.input);
      return encoded(tokenizer, [start, { text: prompt, target: false }, { text: example.output, target: true }, eos]);
    }
    case 'text':
      return encoded(tokenizer, [start, { text: example.text, target: true }, eos]);
    case 'messages': {
      if (!tokenizer.hasChatTemplate) return encoded(tokenizer, plainChatSegments(tokenizer, example.messages));
      const split = chatTemplateSegments(tokenizer, example.messages);
      return 'reason' in split ? split : encoded(tokenizer, split.segments);
    }
  }
}

function encoded(tokenizer: DatasetTokenizer, segments: Segment[]): EncodeResult {
  return { encoded: encodeSegments(tokenizer, segments) };
}
