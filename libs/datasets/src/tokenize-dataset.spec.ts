import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatasetError } from './dataset.error';
import { encodeExample } from './encoding/encode-example';
import { LLAMA3, llama3TokenizerFiles, REAL_TOKENIZER_TIMEOUT_MS } from './test-support/llama3-tokenizer-files';
import { tokenFileByteSize } from './token-file/token-file-format';
import { exampleOf, readTokenFile } from './token-file/token-file-reader';
import { tokenizeDataset, TokenizeDatasetOptions, TokenizerSource } from './tokenize-dataset';
import { DatasetTokenizer } from './tokenizer/dataset-tokenizer';

type JobOverrides = Partial<Pick<TokenizeDatasetOptions, 'maxSeqLen' | 'onOverlength' | 'maxErrors'>>;

const jsonl = (...values: unknown[]): string => values.map((value) => JSON.stringify(value)).join('\n') + '\n';
/** "Hello world" is 2 Llama 3 tokens and each further " Hello world" 2 more. */
const helloWorlds = (n: number): string => Array.from({ length: n }, () => 'Hello world').join(' ');

async function caught(promise: Promise<unknown>): Promise<DatasetError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DatasetError) return error;
    throw error;
  }
  throw new Error('expected a DatasetError');
}

describe(tokenizeDataset.name, { timeout: REAL_TOKENIZER_TIMEOUT_MS }, () => {
  const files = llama3TokenizerFiles();
  let tokenizer: DatasetTokenizer;
  let dir: string;
  /** Writes the JSONL file and returns options for it; the tokenizer is the preloaded one unless given. */
  let options: (jsonlText: string, overrides?: JobOverrides, source?: TokenizerSource) => Promise<TokenizeDatasetOptions>;

  beforeAll(() => {
    tokenizer = DatasetTokenizer.load(files);
  }, REAL_TOKENIZER_TIMEOUT_MS);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-tokenize-'));
    options = async (jsonlText, overrides = {}, source = { tokenizer }) => {
      const jsonlPath = join(dir, 'data.jsonl');
      await writeFile(jsonlPath, jsonlText);
      return { ...source, jsonlPath, maxSeqLen: 64, onOverlength: 'refuse', outPath: join(dir, 'data.gtok'), ...overrides };
    };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every example as encoded, with exact stats and file size, from the tokenizer files', async () => {
    const rows = [
      { prompt: 'Hello', completion: ' world' },
      { prompt: 'Translate to French: cat', completion: ' chat' },
      { prompt: 'Q: 2+2=', completion: ' 4' },
    ];
    const { stats, bytes } = await tokenizeDataset(await options(jsonl(...rows), {}, files));

    const expected = rows.map((row) => {
      const result = encodeExample(tokenizer, { format: 'prompt_completion', ...row });
      if ('reason' in result) throw new Error(result.reason);
      return result.encoded;
    });
    const file = await readTokenFile(join(dir, 'data.gtok'));
    expect(file.examples).toBe(3);
    expected.forEach((example, i) => expect(exampleOf(file, i)).toEqual(example));
    expect(exampleOf(file, 0)).toEqual({ ids: [LLAMA3.beginOfText, ...LLAMA3.helloWorld, LLAMA3.endOfText], mask: [0, 0, 1, 1] });

    const lengths = expected.map((example) => example.ids.length);
    const tokens = lengths.reduce((a, b) => a + b, 0);
    const targets = expected.reduce((sum, example) => sum + example.mask.reduce((a, b) => a + b, 0), 0);
    expect(stats).toEqual({
      examples: 3,
      dropped: { overlength: 0, no_targets: 0 },
      truncated: 0,
      tokens,
      target_tokens: targets,
      max_len: Math.max(...lengths),
      mean_len: tokens / 3,
      histogram: [{ le: 64, count: 3 }],
    });
    expect(bytes).toBe(tokenFileByteSize(3, tokens));
    expect((await readFile(join(dir, 'data.gtok'))).length).toBe(32 + 8 * 4 + 5 * tokens);
    expect((await readdir(dir)).sort()).toEqual(['data.gtok', 'data.jsonl']);
  });

  describe('length policy', () => {
    // BOS + 2n tokens + EOS for the text rows.
    const text = jsonl({ text: helloWorlds(5) }, { text: helloWorlds(40) }, { text: helloWorlds(20) });

    it('refuse drops overlong examples and counts them', async () => {
      const { stats } = await tokenizeDataset(await options(text, { maxSeqLen: 50, onOverlength: 'refuse' }));
      expect(stats).toMatchObject({ examples: 2, dropped: { overlength: 1, no_targets: 0 }, truncated: 0, tokens: 12 + 42, max_len: 42 });
    });

    it('truncate keeps the first max_seq_len tokens', async () => {
      const { stats } = await tokenizeDataset(await options(text, { maxSeqLen: 50, onOverlength: 'truncate' }));
      expect(stats).toMatchObject({ examples: 3, dropped: { overlength: 0, no_targets: 0 }, truncated: 1, tokens: 12 + 50 + 42, max_len: 50 });
      const long = exampleOf(await readTokenFile(join(dir, 'data.gtok')), 1);
      expect(long.ids).toHaveLength(50);
      expect(long.ids.slice(0, 3)).toEqual([LLAMA3.beginOfText, ...LLAMA3.helloWorld]);
    });

    it('truncate drops, as overlength, an example whose targets all lie past max_seq_len', async () => {
      const rows = jsonl({ prompt: helloWorlds(40), completion: ' ok' }, { prompt: 'Hi', completion: ' there' });
      const { stats } = await tokenizeDataset(await options(rows, { maxSeqLen: 50, onOverlength: 'truncate' }));
      expect(stats).toMatchObject({ examples: 1, dropped: { overlength: 1, no_targets: 0 }, truncated: 0 });
    });

    it('fails with all_examples_dropped when nothing fits, leaving nothing behind', async () => {
      const error = await caught(tokenizeDataset(await options(text, { maxSeqLen: 8, onOverlength: 'refuse' })));
      expect(error.code).toBe('all_examples_dropped');
      expect(error.message).toBe('all 3 examples were dropped: 3 too long for max_seq_len, 0 without target tokens');
      expect(error.details).toEqual({ dropped: { overlength: 3, no_targets: 0 } });
      expect(await readdir(dir)).toEqual(['data.jsonl']);
    });
  });

  it('fails with invalid_dataset naming lines and reasons, keeping a previous token file intact', async () => {
    const outPath = join(dir, 'data.gtok');
    await writeFile(outPath, 'previous');
    const text = jsonl({ prompt: 'a', completion: 'b' }, { prompt: 'a', completion: 5 }, { text: 'x' }) + '{oops\n';
    const error = await caught(tokenizeDataset(await options(text, { maxErrors: 2 })));
    expect(error.code).toBe('invalid_dataset');
    expect(error.message).toBe('dataset has 3 errors; first: line 2: field "completion" must be a string, got a number');
    expect(error.details).toEqual({
      errorCount: 3,
      errors: [
        { line: 2, reason: 'field "completion" must be a string, got a number' },
        { line: 3, reason: 'format "text" differs from the file\'s format "prompt_completion" (set by line 1)' },
      ],
    });
    expect(await readFile(outPath, 'utf8')).toBe('previous');
    expect((await readdir(dir)).sort()).toEqual(['data.gtok', 'data.jsonl']);
  });

  it('reports an empty file', async () => {
    const error = await caught(tokenizeDataset(await options('\n\n')));
    expect(error.code).toBe('invalid_dataset');
    expect(error.message).toBe('dataset has 1 error; first: empty file: no examples');
  });

  it('reports a conversation the chat template rejects against its line', async () => {
    const config = { ...files.tokenizerConfig, chat_template: "{{ raise_exception('roles must alternate') }}" };
    const rows = jsonl({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }] });
    const rejecting = DatasetTokenizer.load({ ...files, tokenizerConfig: config });
    const error = await caught(tokenizeDataset(await options(rows, {}, { tokenizer: rejecting })));
    expect(error.details.errors).toEqual([{ line: 1, reason: 'the chat template failed to render this conversation: roles must alternate' }]);
  });

  it('writes conversations whose target tokens decode to the assistant turns', async () => {
    const rows = jsonl(
      { messages: [{ role: 'user', content: 'Name a colour.' }, { role: 'assistant', content: 'Green.' }] },
      {
        messages: [
          { role: 'system', content: 'Be terse.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello.' },
          { role: 'user', content: 'Bye' },
          { role: 'assistant', content: 'Goodbye.' },
        ],
      },
    );
    await tokenizeDataset(await options(rows));
    const file = await readTokenFile(join(dir, 'data.gtok'));
    const targets = [0, 1].map((i) => {
      const { ids, mask } = exampleOf(file, i);
      return tokenizer.decode(ids.filter((_, t) => mask[t] === 1));
    });
    expect(targets).toEqual(['Green.<|eot_id|>', 'Hello.<|eot_id|>Goodbye.<|eot_id|>']);
  });

  it.each<[string, JobOverrides, string, string]>([
    ['a tiny maxSeqLen', { maxSeqLen: 1 }, 'invalid_options', 'maxSeqLen must be an integer of at least 2, got 1'],
    ['an unknown policy', { onOverlength: 'skip' as 'refuse' }, 'invalid_options', 'onOverlength must be "truncate" or "refuse", got "skip"'],
  ])('refuses %s before writing anything', async (_name, overrides, code, message) => {
    const error = await caught(tokenizeDataset(await options(jsonl({ text: 'hi' }), overrides)));
    expect([error.code, error.message]).toEqual([code, message]);
    expect(await readdir(dir)).toEqual(['data.jsonl']);
  });

  it('refuses broken tokenizer files before writing anything', async () => {
    const broken = { tokenizerJson: 'nope', tokenizerConfig: files.tokenizerConfig };
    const error = await caught(tokenizeDataset(await options(jsonl({ text: 'hi' }), {}, broken)));
    expect([error.code, error.message]).toEqual(['invalid_tokenizer', 'tokenizer.json must be a JSON object']);
    expect(await readdir(dir)).toEqual(['data.jsonl']);
  });
});
