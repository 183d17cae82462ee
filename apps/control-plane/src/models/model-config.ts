/** Architectures the engine implements, by HF `architectures[0]` → `model_type`. */
export const SUPPORTED_ARCHITECTURES: Record<string, string> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
};

export interface ModelSummary {
  architecture: string;
  modelType: string;
  layers: number;
  hiddenSize: number;
  intermediateSize: number;
  attentionHeads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  tiedEmbeddings: boolean;
  dtype: string;
  /** Parameters of the base model (embeddings, attention, MLP, norms, head). */
  parameters: number;
}

export class ModelConfigError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
  }
}

const REQUIRED_INTS = [
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'vocab_size',
  'max_position_embeddings',
] as const;

/** Checks an uploaded HF config.json describes a model the engine can train, and summarises its shape. */
export function summariseModelConfig(config: unknown): ModelSummary {
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw new ModelConfigError('config.json must be a JSON object', 'config');
  }
  const c = config as Record<string, unknown>;
  const architectures = c['architectures'];
  if (!Array.isArray(architectures) || typeof architectures[0] !== 'string') {
    throw new ModelConfigError('config.json needs "architectures", e.g. ["LlamaForCausalLM"]', 'config.architectures');
  }
  const architecture = architectures[0];
  const modelType = SUPPORTED_ARCHITECTURES[architecture];
  if (!modelType) {
    const supported = Object.keys(SUPPORTED_ARCHITECTURES).join(', ');
    throw new ModelConfigError(`unsupported architecture ${architecture}; supported: ${supported}`, 'config.architectures');
  }
  if (c['model_type'] !== undefined && c['model_type'] !== modelType) {
    throw new ModelConfigError(`model_type "${String(c['model_type'])}" does not match ${architecture}`, 'config.model_type');
  }
  const ints = Object.fromEntries(REQUIRED_INTS.map((k) => [k, positiveInt(c, k)])) as Record<(typeof REQUIRED_INTS)[number], number>;
  const heads = ints.num_attention_heads;
  const kvHeads = c['num_key_value_heads'] === undefined ? heads : positiveInt(c, 'num_key_value_heads');
  if (heads % kvHeads !== 0) {
    throw new ModelConfigError(`num_attention_heads (${heads}) must be a multiple of num_key_value_heads (${kvHeads})`, 'config.num_key_value_heads');
  }
  const headDim = c['head_dim'] === undefined || c['head_dim'] === null ? ints.hidden_size / heads : positiveInt(c, 'head_dim');
  if (!Number.isInteger(headDim)) {
    throw new ModelConfigError(`hidden_size (${ints.hidden_size}) must divide into ${heads} heads`, 'config.hidden_size');
  }
  checkRopeScaling(c['rope_scaling']);
  const tied = c['tie_word_embeddings'] === true;
  const summary = {
    architecture,
    modelType,
    layers: ints.num_hidden_layers,
    hiddenSize: ints.hidden_size,
    intermediateSize: ints.intermediate_size,
    attentionHeads: heads,
    kvHeads,
    headDim,
    vocabSize: ints.vocab_size,
    maxPositionEmbeddings: ints.max_position_embeddings,
    tiedEmbeddings: tied,
    dtype: typeof c['torch_dtype'] === 'string' ? c['torch_dtype'] : typeof c['dtype'] === 'string' ? c['dtype'] : 'float32',
  };
  return { ...summary, parameters: countParameters(summary, modelType === 'qwen2') };
}

function positiveInt(c: Record<string, unknown>, key: string): number {
  const value = c[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ModelConfigError(`config.json "${key}" must be a positive integer`, `config.${key}`);
  }
  return value;
}

function checkRopeScaling(scaling: unknown): void {
  if (scaling === undefined || scaling === null) return;
  const type = (scaling as Record<string, unknown>)['rope_type'] ?? (scaling as Record<string, unknown>)['type'];
  if (type !== 'llama3' && type !== 'default') {
    throw new ModelConfigError(`rope_scaling type "${String(type)}" is not supported (supported: llama3)`, 'config.rope_scaling');
  }
}

function countParameters(s: Omit<ModelSummary, 'parameters'>, qkvBias: boolean): number {
  const attention =
    s.hiddenSize * s.attentionHeads * s.headDim * 2 + s.hiddenSize * s.kvHeads * s.headDim * 2 +
    (qkvBias ? (s.attentionHeads + 2 * s.kvHeads) * s.headDim : 0);
  const mlp = 3 * s.hiddenSize * s.intermediateSize;
  const norms = 2 * s.hiddenSize;
  const embeddings = s.vocabSize * s.hiddenSize * (s.tiedEmbeddings ? 1 : 2);
  return s.layers * (attention + mlp + norms) + embeddings + s.hiddenSize;
}

/** Ids a tokenizer.json can produce: one past its largest vocabulary or added-token id. */
export function tokenizerVocabularySize(tokenizerJson: unknown): number {
  const t = tokenizerJson as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] };
  const vocab = t.model?.vocab;
  let maxId = -1;
  if (Array.isArray(vocab)) maxId = vocab.length - 1;
  else if (vocab && typeof vocab === 'object') {
    for (const id of Object.values(vocab)) if (typeof id === 'number' && id > maxId) maxId = id;
  }
  for (const added of t.added_tokens ?? []) if (typeof added.id === 'number' && added.id > maxId) maxId = added.id;
  return maxId + 1;
}
