// Inputs the GPU benchmark and the calibration runs share: Llama-shaped model configs for random-weight models
// and fixed-length token sequences (loss on all but the first eighth of each), both deterministic.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "grove/rng.h"
#include "grove/token_file.h"

namespace grove::bench {

// LoRA on every projection of every layer, as the benchmarks train it.
inline const std::vector<std::string> kAllProjections = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                         "gate_proj", "up_proj", "down_proj"};

inline nlohmann::json llama_config(int hidden, int inter, int layers, int heads, int kv, int vocab,
                                   double rope_theta = 10000.0) {
  return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", hidden},
          {"intermediate_size", inter}, {"num_hidden_layers", layers}, {"num_attention_heads", heads},
          {"num_key_value_heads", kv}, {"vocab_size", vocab}, {"rms_norm_eps", 1e-5}, {"rope_theta", rope_theta},
          {"hidden_act", "silu"}, {"tie_word_embeddings", false}};
}

inline TokenData fixed_length_sequences(int count, int len, int vocab, uint64_t seed) {
  TokenData d;
  d.offsets.push_back(0);
  for (int e = 0; e < count; ++e) {
    for (int t = 0; t < len; ++t) {
      d.tokens.push_back(static_cast<uint32_t>(hash_combine(seed * 7919 + e, t) % static_cast<uint64_t>(vocab)));
      d.mask.push_back(t >= len / 8);
    }
    d.offsets.push_back(d.tokens.size());
  }
  return d;
}

}  // namespace grove::bench
