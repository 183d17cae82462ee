import { beforeAll, describe, expect, it } from 'vitest';
import { ChatMessage, Example } from '../jsonl/example';
import { LLAMA3, llama3TokenizerFiles, REAL_TOKENIZER_TIMEOUT_MS } from '../test-support/llama3-tokenizer-files';
import { DatasetTokenizer } from '../tokenizer/dataset-tokenizer';
import { alpacaPrompt } from './alpaca-template';
import { EncodedExample } from './encoded-example';
import { encodeExample } from './encode-example';

/** Each maximal run of target tokens, decoded. */
function targetRuns(tokenizer: DatasetTokenizer, { ids, mask }: EncodedExample): string[] {
  const runs: string[] = [];
  let run: number[] = [];
  ids.forEach((id, i) => {
    if (mask[i] === 1) run.push(id);
    if ((mask[i] === 0 || i === ids.length - 1) && run.length > 0) {
      runs.push(tokenizer.decode(run));
      run = [];
    }
  });
  return runs;
}

function encodeOk(tokenizer: DatasetTokenizer, example: Example): EncodedExample {
  const result = encodeExample(tokenizer, example);
  if ('reason' in result) throw new Error(result.reason);
  return result.encoded;
}

function withChatTemplate(chatTemplate: string | undefined): DatasetTokenizer {
  const files = llama3TokenizerFiles();
  return DatasetTokenizer.load({ ...files, tokenizerConfig: { ...files.tokenizerConfig, chat_template: chatTemplate } });
}

const conversation: ChatMessage[] = [
  { role: 'system', content: 'You answer in one short sentence.' },
  { role: 'user', content: 'What does Grove do?' },
  { role: 'assistant', content: 'It co-trains many LoRA adapters on shared GPUs.' },
  { role: 'user', content: 'And the base weights?' },
  { role: 'assistant', content: 'They are held in memory once.' },
];

describe(encodeExample.name, { timeout: REAL_TOKENIZER_TIMEOUT_MS }, () => {
  let sut: DatasetTokenizer;
  beforeAll(() => {
    sut = DatasetTokenizer.load(llama3TokenizerFiles());
  }, REAL_TOKENIZER_TIMEOUT_MS);

  describe('prompt_completion', () => {
    it('is BOS + prompt + completion + EOS with completion and EOS as targets', () => {
      expect(encodeOk(sut, { format: 'prompt_completion', prompt: 'Hello', completion: ' world' })).toEqual({
        ids: [LLAMA3.beginOfText, ...LLAMA3.helloWorld, LLAMA3.endOfText],
        mask: [0, 0, 1, 1],
      });
    });

    it('does not double BOS when the prompt starts with the BOS string', () => {
      const encoded = encodeOk(sut, { format: 'prompt_completion', prompt: '<|begin_of_text|>Hello', completion: ' world' });
      expect(encoded.ids).toEqual([LLAMA3.beginOfText, ...LLAMA3.helloWorld, LLAMA3.endOfText]);
    });

    it('does not double EOS when the completion ends with the EOS string', () => {
      const encoded = encodeOk(sut, { format: 'prompt_completion', prompt: 'Hello', completion: ' world<|end_of_text|>' });
      expect(encoded).toEqual({ ids: [LLAMA3.beginOfText, ...LLAMA3.helloWorld, LLAMA3.endOfText], mask: [0, 0, 1, 1] });
    });

    it('never makes the first token a target, even with an empty prompt and no BOS', () => {
      const files = llama3TokenizerFiles();
      const noBos = DatasetTokenizer.load({ ...files, tokenizerConfig: { ...files.tokenizerConfig, add_bos_token: false } });
      expect(encodeOk(noBos, { format: 'prompt_completion', prompt: '', completion: 'Hello world' })).toEqual({
        ids: [...LLAMA3.helloWorld, LLAMA3.endOfText],
        mask: [0, 1, 1],
      });
    });
  });

  describe('instruction', () => {
    it('puts the Alpaca prompt before the output, with output + EOS as targets', () => {
      const example: Example = { format: 'instruction', instruction: 'Add the numbers.', input: '2 and 3', output: 'The sum is 5.' };
      const encoded = encodeOk(sut, example);
      const promptIds = encoded.ids.filter((_, i) => encoded.mask[i] === 0);
      expect(sut.decode(promptIds)).toBe('<|begin_of_text|>' + alpacaPrompt('Add the numbers.', '2 and 3'));
      expect(targetRuns(sut, encoded)).toEqual(['The sum is 5.<|end_of_text|>']);
      expect(sut.decode(promptIds)).toContain('### Input:\n2 and 3\n\n### Response:\n');
    });
  });

  describe('text', () => {
    it('makes every token after the first a target', () => {
      expect(encodeOk(sut, { format: 'text', text: 'Hello world' })).toEqual({
        ids: [LLAMA3.beginOfText, ...LLAMA3.helloWorld, LLAMA3.endOfText],
        mask: [0, 1, 1, 1],
      });
    });
  });

  describe('messages with the Llama 3 chat template', () => {
    it('targets exactly the assistant contents plus their end-of-turn tokens', () => {
      const encoded = encodeOk(sut, { format: 'messages', messages: conversation });
      expect(targetRuns(sut, encoded)).toEqual([
        'It co-trains many LoRA adapters on shared GPUs.<|eot_id|>',
        'They are held in memory once.<|eot_id|>',
      ]);
      expect(encoded.ids[0]).toBe(LLAMA3.beginOfText);
      expect(encoded.ids.filter((id) => id === LLAMA3.beginOfText)).toHaveLength(1);
      expect(encoded.ids.at(-1)).toBe(LLAMA3.eot);
    });

    it('tokenizes exactly as the whole rendered conversation would be', () => {
      const encoded = encodeOk(sut, { format: 'messages', messages: conversation });
      const whole = sut.encode(sut.renderChat(conversation));
      expect(encoded.ids).toEqual(whole.slice(0, encoded.ids.length));
      const prompt = sut.decode(encoded.ids.slice(0, encoded.mask.indexOf(1)));
      expect(prompt).toBe(
        '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou answer in one short sentence.<|eot_id|>' +
          '<|start_header_id|>user<|end_header_id|>\n\nWhat does Grove do?<|eot_id|>' +
          '<|start_header_id|>assistant<|end_header_id|>\n\n',
      );
    });

    it('follows the template when it trims content', () => {
      const messages: ChatMessage[] = [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: '  Hello there!\n' },
      ];
      expect(targetRuns(sut, encodeOk(sut, { format: 'messages', messages }))).toEqual(['Hello there!<|eot_id|>']);
    });
  });

  describe('messages with other templates', () => {
    it('handles a template that honours add_generation_prompt and puts text after end-of-turn', () => {
      const tokenizer = withChatTemplate(
        "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + m['content'] + '<|eot_id|>\\n' }}{% endfor %}" +
          "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
      );
      const encoded = encodeOk(tokenizer, { format: 'messages', messages: conversation });
      expect(targetRuns(tokenizer, encoded)).toEqual([
        'It co-trains many LoRA adapters on shared GPUs.<|eot_id|>',
        'They are held in memory once.<|eot_id|>',
      ]);
    });

    it('locates content that the template rewrites', () => {
      const tokenizer = withChatTemplate(
        "{{ bos_token }}{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' + (m['content'] | upper) + '<|eot_id|>' }}{% endfor %}",
      );
      const encoded = encodeOk(tokenizer, { format: 'messages', messages: conversation });
      expect(targetRuns(tokenizer, encoded)).toEqual([
        'IT CO-TRAINS MANY LORA ADAPTERS ON SHARED GPUS.<|eot_id|>',
        'THEY ARE HELD IN MEMORY ONCE.<|eot_id|>',
      ]);
    });

    it('refuses a template that renders a turn differently once later turns follow', () => {
      const tokenizer = withChatTemplate(
        "{% for m in messages %}{% if loop.last %}{{ m['content'] + eos_token }}{% else %}{{ m['content'] | upper }}{% endif %}{% endfor %}",
      );
      expect(encodeExample(tokenizer, { format: 'messages', messages: conversation })).toEqual({
        reason: 'the chat template renders messages[2] differently once later messages follow',
      });
    });

    it('reports a template that fails to render', () => {
      const tokenizer = withChatTemplate("{{ raise_exception('Conversation roles must alternate user/assistant') }}");
      const result = encodeExample(tokenizer, { format: 'messages', messages: conversation });
      expect(result).toEqual({
        reason: 'the chat template failed to render this conversation: Conversation roles must alternate user/assistant',
      });
    });

    it('falls back to the plain "### Role" layout when there is no chat template', () => {
      const tokenizer = withChatTemplate(undefined);
      expect(tokenizer.hasChatTemplate).toBe(false);
      const encoded = encodeOk(tokenizer, { format: 'messages', messages: conversation.slice(1, 3) });
      expect(tokenizer.decode(encoded.ids)).toBe(
        '<|begin_of_text|>### User:\nWhat does Grove do?\n\n### Assistant:\nIt co-trains many LoRA adapters on shared GPUs.<|end_of_text|>',
      );
      expect(targetRuns(tokenizer, encoded)).toEqual(['It co-trains many LoRA adapters on shared GPUs.<|end_of_text|>']);
    });
  });
});
