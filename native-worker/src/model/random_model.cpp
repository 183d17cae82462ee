#include "grove/random_model.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "grove/file_util.h"
#include "grove/model.h"
#include "grove/rng.h"
#include "grove/safetensors.h"
#include "model/model_builder.h"

namespace grove {

namespace {

// Weights ~ N(0, std), norms ~ 1 + N(0, 0.1), from counter-based uniforms (Box-Muller).
float random_weight(uint64_t key, int64_t e, bool is_norm, float weight_std) {
  const float u1 = std::max(uniform01(hash_combine(key, 2 * e)), 1e-7f);
  const float u2 = uniform01(hash_combine(key, 2 * e + 1));
  const float normal = std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
  return is_norm ? 1.0f + 0.1f * normal : weight_std * normal;
}

// Random tensors for any name; `period` > 0 repeats the first `period` values of each tensor, which makes
// multi-billion-parameter benchmark models quick to generate (their values only need to be sane).
class RandomTensors final : public TensorSource {
 public:
  RandomTensors(uint64_t seed, float weight_std, int64_t period) : seed_(seed), std_(weight_std), period_(period) {}
  bool has(const std::string& name) const override { return true; }
  Status read(const std::string& name, const std::vector<int64_t>& shape, std::vector<float>* out) override {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    out->resize(static_cast<size_t>(n));
    const bool is_norm = name.find("norm") != std::string::npos;
    const uint64_t key = hash_combine(seed_, std::hash<std::string>{}(name));
    const int64_t distinct = period_ > 0 ? std::min(period_, n) : n;
    for (int64_t e = 0; e < distinct; ++e) (*out)[e] = random_weight(key, e, is_norm, std_);
    for (int64_t e = distinct; e < n; ++e) (*out)[e] = (*out)[e % distinct];
    return Status();
  }

 private:
  uint64_t seed_;
  float std_;
  int64_t period_;
};

}  // namespace

StatusOr<Model> random_model(const nlohmann::json& config, Backend& backend, uint64_t seed, float weight_std,
                             int64_t period) {
  ModelConfig c;
  GROVE_ASSIGN_OR_RETURN(c, parse_model_config(config));
  RandomTensors source(seed, weight_std, period);
  return build_model(c, source, backend);
}

Status write_random_model(const nlohmann::json& config, const std::string& dir, uint64_t seed, float weight_std) {
  ModelConfig c;
  GROVE_ASSIGN_OR_RETURN(c, parse_model_config(config));
  GROVE_RETURN_IF_ERROR(make_dirs(dir));
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size, D = c.head_dim;
  const int64_t qd = c.num_heads * D, kvd = c.num_kv_heads * D;
  shapes.push_back({"model.embed_tokens.weight", {V, H}});
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    shapes.push_back({p + "input_layernorm.weight", {H}});
    shapes.push_back({p + "post_attention_layernorm.weight", {H}});
    shapes.push_back({p + "self_attn.q_proj.weight", {qd, H}});
    shapes.push_back({p + "self_attn.k_proj.weight", {kvd, H}});
    shapes.push_back({p + "self_attn.v_proj.weight", {kvd, H}});
    shapes.push_back({p + "self_attn.o_proj.weight", {H, qd}});
    if (c.qkv_bias) {
      shapes.push_back({p + "self_attn.q_proj.bias", {qd}});
      shapes.push_back({p + "self_attn.k_proj.bias", {kvd}});
      shapes.push_back({p + "self_attn.v_proj.bias", {kvd}});
    }
    if (c.o_bias) shapes.push_back({p + "self_attn.o_proj.bias", {H}});
    shapes.push_back({p + "mlp.gate_proj.weight", {I, H}});
    shapes.push_back({p + "mlp.up_proj.weight", {I, H}});
    shapes.push_back({p + "mlp.down_proj.weight", {H, I}});
  }
  shapes.push_back({"model.norm.weight", {H}});
  if (!c.tie_word_embeddings) shapes.push_back({"lm_head.weight", {V, H}});
  std::vector<std::vector<float>> data;
  std::vector<TensorToWrite> tensors;
  data.reserve(shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto& [name, shape] = shapes[i];
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    data.emplace_back(static_cast<size_t>(n));
    const bool is_norm = name.find("norm") != std::string::npos;
    const uint64_t key = hash_combine(seed, i);
    for (int64_t e = 0; e < n; ++e) data.back()[e] = random_weight(key, e, is_norm, weight_std);
    tensors.push_back({name, shape, data.back().data()});
  }
  GROVE_RETURN_IF_ERROR(write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}}));
  return write_file_atomic(dir + "/config.json", config.dump(2) + "\n");
}

}  // namespace grove
