#include "grove/random_model.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "grove/file_util.h"
#include "grove/model.h"
#include "grove/rng.h"
#include "grove/safetensors.h"

namespace grove {

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
    for (int64_t e = 0; e < n; ++e) {
      // Box-Muller from two counter-based uniforms.
      const float u1 = std::max(uniform01(hash_combine(key, 2 * e)), 1e-7f);
      const float u2 = uniform01(hash_combine(key, 2 * e + 1));
      const float normal = std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
      data.back()[e] = is_norm ? 1.0f + 0.1f * normal : weight_std * normal;
    }
    tensors.push_back({name, shape, data.back().data()});
  }
  GROVE_RETURN_IF_ERROR(write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}}));
  return write_file_atomic(dir + "/config.json", config.dump(2) + "\n");
}

}  // namespace grove
