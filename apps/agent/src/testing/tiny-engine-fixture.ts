import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The engine binary the integration tests drive (built by native-worker/scripts/test.sh or `make engine`). */
export const ENGINE_BIN = resolve(__dirname, '../../../../native-worker/build/grove-engine');

const VOCAB = 256;

/** A one-layer Llama with a 256-token vocabulary: loads and steps in milliseconds on a CPU. */
const TINY_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: VOCAB,
  max_position_embeddings: 128,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
};

export function requireEngine(): string {
  if (!existsSync(ENGINE_BIN)) throw new Error(`${ENGINE_BIN} is missing: build the engine first (make engine)`);
  return ENGINE_BIN;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `grove-agent-${prefix}-`));
}

/** Writes a random-weight tiny model into `dir` (config.json + model.safetensors). */
export function makeTinyModel(dir: string, seed = 1): string {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'source-config.json');
  writeFileSync(config, JSON.stringify(TINY_CONFIG));
  execFileSync(requireEngine(), ['make-model', config, dir, '--seed', String(seed)]);
  return dir;
}

/** A `.gtok` file of `examples` pseudo-random sequences; `badToken` puts an id outside the vocabulary in it. */
export function makeTokenFile(path: string, examples = 8, options: { badToken?: boolean } = {}): string {
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) % VOCAB;
  const lines = Array.from({ length: examples }, (_, i) => {
    const tokens = Array.from({ length: 16 }, next);
    if (options.badToken && i === 0) tokens[3] = VOCAB + 10;
    return JSON.stringify({ tokens, mask: tokens.map((_, t) => (t < 4 ? 0 : 1)) });
  });
  const jsonl = `${path}.jsonl`;
  writeFileSync(jsonl, lines.join('\n') + '\n');
  execFileSync(requireEngine(), ['make-tokens', jsonl, path]);
  return path;
}
