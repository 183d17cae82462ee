/**
 * Throughput of the validation stage on this machine: JSONL validation (MB/s) and tokenization with
 * the real Llama 3 tokenizer (examples/s, tokens/s) per format. Synthetic data from a seeded PRNG.
 * Run: node -r @swc-node/register libs/datasets/bench/tokenize-dataset.bench.ts
 * The last line of output is a JSON object.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { llama3TokenizerFiles } from '../src/test-support/llama3-tokenizer-files';
import { tokenizeDataset } from '../src/tokenize-dataset';
import { validateJsonl } from '../src/jsonl/validate-jsonl';
import { DatasetTokenizer } from '../src/tokenizer/dataset-tokenizer';

const WORDS = 'the model learns from each example a short answer with care while the scheduler packs tokens into batches on shared GPUs'.split(' ');

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function sentence(random: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ') + '.';
}

function rows(format: string, count: number, random: () => number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const short = 10 + Math.floor(random() * 60);
    const long = 40 + Math.floor(random() * 200);
    if (format === 'prompt_completion') lines.push(JSON.stringify({ prompt: sentence(random, short), completion: ' ' + sentence(random, long) }));
    if (format === 'instruction') lines.push(JSON.stringify({ instruction: sentence(random, short), input: sentence(random, short), output: sentence(random, long) }));
    if (format === 'text') lines.push(JSON.stringify({ text: sentence(random, long + short) }));
    if (format === 'messages') {
      lines.push(
        JSON.stringify({
          messages: [
            { role: 'system', content: sentence(random, 12) },
            { role: 'user', content: sentence(random, short) },
            { role: 'assistant', content: sentence(random, long) },
            { role: 'user', content: sentence(random, short) },
            { role: 'assistant', content: sentence(random, long) },
          ],
        }),
      );
    }
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'grove-bench-'));
  const files = llama3TokenizerFiles();
  const result: Record<string, unknown> = { machine: '2 cores, 24 GiB (shared with other jobs)', tokenizer: 'Meta Llama 3 (@lenml/tokenizers 3.7.2)' };
  try {
    const bigPath = join(dir, 'big.jsonl');
    await writeFile(bigPath, rows('prompt_completion', 100_000, prng(1)));
    const megabytes = (await stat(bigPath)).size / 2 ** 20;
    let started = performance.now();
    const validation = await validateJsonl(bigPath);
    const seconds = (performance.now() - started) / 1000;
    result.validate = { megabytes: round(megabytes), lines: validation.lines, seconds: round(seconds), mb_per_s: round(megabytes / seconds) };
    console.log('validate', result.validate);

    started = performance.now();
    const tokenizer = DatasetTokenizer.load(files);
    result.tokenizer_load_s = round((performance.now() - started) / 1000);

    for (const format of ['prompt_completion', 'instruction', 'messages', 'text']) {
      const count = 2_000;
      const jsonlPath = join(dir, `${format}.jsonl`);
      await writeFile(jsonlPath, rows(format, count, prng(7)));
      started = performance.now();
      const { stats } = await tokenizeDataset({ jsonlPath, tokenizer, maxSeqLen: 2048, onOverlength: 'truncate', outPath: join(dir, `${format}.gtok`) });
      const total = (performance.now() - started) / 1000;
      const measured = { examples: stats.examples, tokens: stats.tokens, mean_len: round(stats.mean_len), seconds: round(total), examples_per_s: round(count / total), tokens_per_s: Math.round(stats.tokens / total) };
      result[format] = measured;
      console.log(format, measured);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
}

const round = (value: number): number => Math.round(value * 100) / 100;

void main();
