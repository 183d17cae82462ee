// The parts of a Hugging Face config.json the engine needs, parsed and validated (Llama 1/2/3, Mistral, Qwen2).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "grove/status.h"

namespace grove {

enum class Architecture { kLlama, kMistral, kQwen2 };

struct RopeConfig {
  double theta = 10000.0;
  std::string type = "default";  // "default" or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_position_embeddings = 8192.0;
};

struct ModelConfig {
  Architecture arch = Architecture::kLlama;
  std::string model_type;  // as written in config.json, for messages and adapter_config.json
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int vocab_size = 0;
  double rms_norm_eps = 1e-6;
  RopeConfig rope;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // Qwen2, or Llama with attention_bias
  bool o_bias = false;    // Llama with attention_bias
  bool mlp_bias = false;  // Llama with mlp_bias
  // Per layer: keys further back than this are masked (0 = full causal attention).
  std::vector<int> sliding_window;
};

StatusOr<ModelConfig> parse_model_config(const nlohmann::json& config);
StatusOr<ModelConfig> load_model_config(const std::string& model_dir);

// Inverse RoPE frequencies (head_dim / 2 of them), computed in fp32 exactly as transformers does.
std::vector<float> rope_inv_freq(const ModelConfig& config);

}  // namespace grove
