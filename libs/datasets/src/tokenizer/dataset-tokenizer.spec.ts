import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../dataset.error';
import { LLAMA3, llama3TokenizerFiles, REAL_TOKENIZER_TIMEOUT_MS } from '../test-support/llama3-tokenizer-files';
import { DatasetTokenizer } from './dataset-tokenizer';

/**
 * Llama 3.1's tokenizer.json adds BOS in its post-processor; this turns the Llama 3 file into that,
 * with a chosen start token so a test can tell which rule produced it.
 */
function withStartPostProcessor(tokenizerJson: Record<string, unknown>, bos: string, bosId: number): Record<string, unknown> {
  return {
    ...tokenizerJson,
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
        },
      ],
    },
  };
}

describe(DatasetTokenizer.name, { timeout: REAL_TOKENIZER_TIMEOUT_MS }, () => {
  let sut: DatasetTokenizer;
  beforeAll(() => {
    sut = DatasetTokenizer.load(llama3TokenizerFiles());
  }, REAL_TOKENIZER_TIMEOUT_MS);

  describe('load', () => {
    it('loads the real Llama 3 tokenizer with its BOS, EOS and chat template', () => {
      expect(sut.startIds).toEqual([LLAMA3.beginOfText]);
      expect(sut.bosId).toBe(LLAMA3.beginOfText);
      expect(sut.eosId).toBe(LLAMA3.endOfText);
      expect(sut.hasChatTemplate).toBe(true);
      expect(sut.specialTokens).toContain('<|eot_id|>');
    });

    it('uses the start tokens the post-processor adds instead of adding bos_token again', () => {
      const files = llama3TokenizerFiles();
      const llama31Style = withStartPostProcessor(files.tokenizerJson, '<|begin_of_text|>', LLAMA3.beginOfText);
      expect(DatasetTokenizer.load({ ...files, tokenizerJson: llama31Style }).startIds).toEqual([LLAMA3.beginOfText]);
      const otherStart = withStartPostProcessor(files.tokenizerJson, '<|reserved_special_token_0|>', 128002);
      expect(DatasetTokenizer.load({ ...files, tokenizerJson: otherStart }).startIds).toEqual([128002]);
    });

    it('adds no BOS when tokenizer_config.json says add_bos_token: false', () => {
      const files = llama3TokenizerFiles();
      const noBos = DatasetTokenizer.load({ ...files, tokenizerConfig: { ...files.tokenizerConfig, add_bos_token: false } });
      expect(noBos.startIds).toEqual([]);
    });

    it.each([
      ['a non-object tokenizer.json', (files: ReturnType<typeof llama3TokenizerFiles>) => ({ ...files, tokenizerJson: [] }), 'tokenizer.json must be a JSON object'],
      ['a non-object config', (files: ReturnType<typeof llama3TokenizerFiles>) => ({ ...files, tokenizerConfig: 'x' }), 'tokenizer_config.json must be a JSON object'],
      [
        'a config without eos_token',
        (files: ReturnType<typeof llama3TokenizerFiles>) => ({ ...files, tokenizerConfig: { ...files.tokenizerConfig, eos_token: undefined } }),
        'tokenizer_config.json names no eos_token that exists in the vocabulary',
      ],
    ])('refuses %s', (_name, change, message) => {
      const error = captureError(() => DatasetTokenizer.load(change(llama3TokenizerFiles())));
      expect(error).toBeInstanceOf(DatasetError);
      expect([(error as DatasetError).code, (error as DatasetError).message]).toEqual(['invalid_tokenizer', message]);
    });

    it('refuses a tokenizer.json that is not a tokenizer', () => {
      const error = captureError(() => DatasetTokenizer.load({ tokenizerJson: { model: {} }, tokenizerConfig: {} }));
      expect(error).toBeInstanceOf(DatasetError);
      expect((error as DatasetError).code).toBe('invalid_tokenizer');
      expect((error as DatasetError).message).toMatch(/^could not load the tokenizer: /);
    });
  });

  describe('encode', () => {
    it('gives Meta Llama 3 ids, with no special tokens added', () => {
      expect(sut.encode('Hello world')).toEqual(LLAMA3.helloWorld);
      expect(sut.encode('')).toEqual([]);
    });

    it('turns special-token strings into their tokens', () => {
      expect(sut.encode('<|begin_of_text|>Hello<|eot_id|>')).toEqual([LLAMA3.beginOfText, 9906, LLAMA3.eot]);
    });

    it('round-trips through decode', () => {
      const text = 'Grove co-trains LoRA adapters — ünïcödé, 中文, emoji 🌲.';
      expect(sut.decode(sut.encode(text))).toBe(text);
    });
  });
});

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
