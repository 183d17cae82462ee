import { unixSeconds } from '../common/presenters';
import type { BaseModelRecord } from './models.repository';

export function presentModel(m: BaseModelRecord) {
  const s = m.summary;
  return {
    id: m.id,
    object: 'model',
    name: m.name,
    architecture: m.architecture,
    model_type: m.modelType,
    layers: s.layers,
    hidden_size: s.hiddenSize,
    attention_heads: s.attentionHeads,
    kv_heads: s.kvHeads,
    vocab_size: s.vocabSize,
    max_position_embeddings: s.maxPositionEmbeddings,
    parameters: s.parameters,
    dtype: s.dtype,
    created_at: unixSeconds(m.createdAt),
  };
}
