import { describe, expect, it } from 'vitest';
import { tinyLlamaConfig } from '../testing/tiny-model';
import { ModelConfigError, summariseModelConfig, tokenizerVocabularySize } from './model-config';

describe(summariseModelConfig.name, () => {
  it('summarises a Llama config with GQA and tied embeddings', () => {
    const sut = summariseModelConfig(tinyLlamaConfig());
    expect(sut).toMatchObject({ modelType: 'llama', layers: 2, attentionHeads: 4, kvHeads: 2, headDim: 16, tiedEmbeddings: true });
  });

  it('counts Qwen2 q/k/v biases and untied heads', () => {
    const qwen = summariseModelConfig(tinyLlamaConfig({ architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', tie_word_embeddings: false }));
    const llama = summariseModelConfig(tinyLlamaConfig({ tie_word_embeddings: false }));
    expect(qwen.parameters - llama.parameters).toBe(2 * (4 + 2 * 2) * 16);
  });

  it('defaults kv heads to attention heads (Llama 1/2 configs)', () => {
    expect(summariseModelConfig(tinyLlamaConfig({ num_key_value_heads: undefined })).kvHeads).toBe(4);
  });

  it.each([
    [null, 'config'],
    [tinyLlamaConfig({ architectures: undefined }), 'config.architectures'],
    [tinyLlamaConfig({ model_type: 'mistral' }), 'config.model_type'],
    [tinyLlamaConfig({ num_hidden_layers: 0 }), 'config.num_hidden_layers'],
    [tinyLlamaConfig({ hidden_size: 66 }), 'config.hidden_size'],
  ])('names the field of a bad config (%#)', (config, field) => {
    expect(() => summariseModelConfig(config)).toThrow(ModelConfigError);
    try {
      summariseModelConfig(config);
    } catch (error) {
      expect((error as ModelConfigError).field).toBe(field);
    }
  });
});

describe(tokenizerVocabularySize.name, () => {
  it('is one past the largest vocabulary or added-token id', () => {
    expect(tokenizerVocabularySize({ model: { vocab: { a: 0, b: 7 } }, added_tokens: [{ id: 9 }] })).toBe(10);
    expect(tokenizerVocabularySize({ model: { vocab: { a: 0, b: 7 } } })).toBe(8);
    expect(tokenizerVocabularySize({})).toBe(0);
  });
});
