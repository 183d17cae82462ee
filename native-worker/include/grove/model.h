// The frozen base model in backend memory (in the backend's weight_dtype()), loaded once and shared by every job.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "grove/backend.h"
#include "grove/model_config.h"
#include "grove/status.h"

namespace grove {

// The seven projections LoRA can target, in PEFT's module names.
enum class Proj { kQ = 0, kK, kV, kO, kGate, kUp, kDown };
constexpr int kNumProj = 7;
const char* proj_name(Proj p);         // "q_proj", ...
const char* proj_parent(Proj p);       // "self_attn" or "mlp"
bool parse_proj(const std::string& name, Proj* out);

struct Linear {
  Buffer weight;  // [out, in], as stored by transformers
  Buffer bias;    // [out] or empty
  int in = 0;
  int out = 0;
};

struct LayerWeights {
  Buffer input_norm;
  Buffer post_norm;
  std::array<Linear, kNumProj> proj;
};

struct Model {
  ModelConfig config;
  Buffer embed;  // [vocab, hidden]
  std::vector<LayerWeights> layers;
  Buffer final_norm;
  Buffer lm_head_storage;          // empty when tied to the embedding
  ConstTypedPtr lm_head;           // [vocab, hidden]
  std::vector<float> inv_freq;     // RoPE, head_dim / 2
  std::string path;

  int proj_in(Proj p) const;
  int proj_out(Proj p) const;
};

// Loads config.json and model.safetensors (or the shards listed in model.safetensors.index.json) from `dir`.
StatusOr<Model> load_model(const std::string& dir, Backend& backend);

}  // namespace grove
