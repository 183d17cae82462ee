import { z } from 'zod';

/** The fields of a Hugging Face `config.json` the memory and throughput models need. */
export const modelConfigSchema = z.object({
  hiddenSize: z.number().int().positive(),
  intermediateSize: z.number().int().positive(),
  numLayers: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  numKvHeads: z.number().int().positive(),
  vocabSize: z.number().int().positive(),
  tiedEmbeddings: z.boolean(),
  /** Bytes per element of the frozen base weights and activations (2 for bf16/fp16). */
  dtypeBytes: z.number().int().positive(),
});
export type ModelConfig = z.infer<typeof modelConfigSchema>;

/** Linear layers a LoRA adapter attaches to, as (input width, output width). */
export type LoraTarget = 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down';

function targetShape(config: ModelConfig, target: LoraTarget): readonly [number, number] {
  const h = config.hiddenSize;
  const kv = (h / config.numHeads) * config.numKvHeads;
  switch (target) {
    case 'q':
    case 'o':
      return [h, h];
    case 'k':
    case 'v':
      return [h, kv];
    case 'gate':
    case 'up':
      return [h, config.intermediateSize];
    case 'down':
      return [config.intermediateSize, h];
  }
}

/** Parameters of the frozen base model (embeddings, attention, SwiGLU MLP, norms). */
export function countBaseParams(config: ModelConfig): number {
  const h = config.hiddenSize;
  const kv = (h / config.numHeads) * config.numKvHeads;
  const perLayer = 2 * h * h + 2 * h * kv + 3 * h * config.intermediateSize + 2 * h;
  const embeddings = config.vocabSize * h * (config.tiedEmbeddings ? 1 : 2);
  return config.numLayers * perLayer + embeddings + h;
}

/** Trainable LoRA parameters: r·(d_in + d_out) per targeted linear layer per transformer layer. */
export function countLoraParams(config: ModelConfig, rank: number, targets: readonly LoraTarget[]): number {
  let perLayer = 0;
  for (const t of targets) {
    const [din, dout] = targetShape(config, t);
    perLayer += rank * (din + dout);
  }
  return perLayer * config.numLayers;
}
