#include "grove/model_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "grove/file_util.h"

namespace grove {

namespace {

using nlohmann::json;

Status require_int(const json& c, const char* key, int* out) {
  if (!c.contains(key)) return make_error(ErrorCode::kInvalidArgument, std::string("config.json is missing '") + key + "'");
  if (!c[key].is_number_integer() || c[key].get<int64_t>() <= 0) {
    return make_error(ErrorCode::kInvalidArgument, std::string("config.json '") + key + "' must be a positive integer");
  }
  *out = c[key].get<int>();
  return Status();
}

bool flag(const json& c, const char* key, bool fallback) {
  return c.contains(key) && c[key].is_boolean() ? c[key].get<bool>() : fallback;
}

double number(const json& c, const char* key, double fallback) {
  return c.contains(key) && c[key].is_number() ? c[key].get<double>() : fallback;
}

StatusOr<Architecture> parse_architecture(const json& c, std::string* model_type) {
  std::string name;
  if (c.contains("model_type") && c["model_type"].is_string()) name = c["model_type"].get<std::string>();
  std::string arch_name;
  if (c.contains("architectures") && c["architectures"].is_array() && !c["architectures"].empty() &&
      c["architectures"][0].is_string()) {
    arch_name = c["architectures"][0].get<std::string>();
  }
  if (name.empty() && arch_name.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "config.json is missing 'model_type' (and 'architectures')");
  }
  *model_type = name;
  if (name == "llama" || arch_name == "LlamaForCausalLM") return Architecture::kLlama;
  if (name == "mistral" || arch_name == "MistralForCausalLM") return Architecture::kMistral;
  if (name == "qwen2" || arch_name == "Qwen2ForCausalLM") return Architecture::kQwen2;
  return make_error(ErrorCode::kUnsupported, "unknown architecture '" + (name.empty() ? arch_name : name) +
                                                 "' (supported: llama, mistral, qwen2)");
}

// transformers 5 writes `rope_parameters` {rope_type, rope_theta, ...}; older configs write `rope_theta` plus an
// optional `rope_scaling` {type|rope_type, ...}. Both are read.
Status parse_rope(const json& c, RopeConfig* rope) {
  json params = json::object();
  if (c.contains("rope_parameters") && c["rope_parameters"].is_object()) {
    params = c["rope_parameters"];
  } else if (c.contains("rope_scaling") && c["rope_scaling"].is_object()) {
    params = c["rope_scaling"];
  }
  rope->theta = number(params, "rope_theta", number(c, "rope_theta", 10000.0));
  std::string type = "default";
  if (params.contains("rope_type") && params["rope_type"].is_string()) type = params["rope_type"].get<std::string>();
  else if (params.contains("type") && params["type"].is_string()) type = params["type"].get<std::string>();
  if (type != "default" && type != "llama3") {
    return make_error(ErrorCode::kUnsupported, "rope scaling type '" + type + "' (supported: default, llama3)");
  }
  rope->type = type;
  if (type == "llama3") {
    for (const char* key : {"factor", "low_freq_factor", "high_freq_factor"}) {
      if (!params.contains(key) || !params[key].is_number()) {
        return make_error(ErrorCode::kInvalidArgument, std::string("llama3 rope scaling is missing '") + key + "'");
      }
    }
    rope->factor = params["factor"].get<double>();
    rope->low_freq_factor = params["low_freq_factor"].get<double>();
    rope->high_freq_factor = params["high_freq_factor"].get<double>();
    rope->original_max_position_embeddings =
        number(params, "original_max_position_embeddings", number(c, "max_position_embeddings", 8192.0));
  }
  return Status();
}

}  // namespace

StatusOr<ModelConfig> parse_model_config(const json& c) {
  if (!c.is_object()) return make_error(ErrorCode::kInvalidArgument, "config.json is not a JSON object");
  ModelConfig m;
  GROVE_ASSIGN_OR_RETURN(m.arch, parse_architecture(c, &m.model_type));
  GROVE_RETURN_IF_ERROR(require_int(c, "hidden_size", &m.hidden_size));
  GROVE_RETURN_IF_ERROR(require_int(c, "intermediate_size", &m.intermediate_size));
  GROVE_RETURN_IF_ERROR(require_int(c, "num_hidden_layers", &m.num_layers));
  GROVE_RETURN_IF_ERROR(require_int(c, "num_attention_heads", &m.num_heads));
  GROVE_RETURN_IF_ERROR(require_int(c, "vocab_size", &m.vocab_size));
  m.num_kv_heads = m.num_heads;
  if (c.contains("num_key_value_heads") && !c["num_key_value_heads"].is_null()) {
    GROVE_RETURN_IF_ERROR(require_int(c, "num_key_value_heads", &m.num_kv_heads));
  }
  if (m.num_heads % m.num_kv_heads != 0) {
    return make_error(ErrorCode::kInvalidArgument, "num_attention_heads (" + std::to_string(m.num_heads) +
                                                       ") is not a multiple of num_key_value_heads (" +
                                                       std::to_string(m.num_kv_heads) + ")");
  }
  m.head_dim = m.hidden_size / m.num_heads;
  if (c.contains("head_dim") && !c["head_dim"].is_null()) GROVE_RETURN_IF_ERROR(require_int(c, "head_dim", &m.head_dim));
  if (m.head_dim % 2 != 0) return make_error(ErrorCode::kInvalidArgument, "head_dim must be even for RoPE");
  m.rms_norm_eps = number(c, "rms_norm_eps", 1e-6);
  if (c.contains("hidden_act") && c["hidden_act"] != "silu") {
    return make_error(ErrorCode::kUnsupported, "hidden_act '" + c["hidden_act"].dump() + "' (supported: silu)");
  }
  GROVE_RETURN_IF_ERROR(parse_rope(c, &m.rope));
  m.tie_word_embeddings = flag(c, "tie_word_embeddings", false);
  if (m.arch == Architecture::kQwen2) {
    m.qkv_bias = true;
  } else if (m.arch == Architecture::kLlama) {
    m.qkv_bias = m.o_bias = flag(c, "attention_bias", false);
    m.mlp_bias = flag(c, "mlp_bias", false);
  }
  m.sliding_window.assign(m.num_layers, 0);
  int window = c.contains("sliding_window") && c["sliding_window"].is_number_integer() ? c["sliding_window"].get<int>() : 0;
  if (m.arch == Architecture::kMistral) {
    m.sliding_window.assign(m.num_layers, window);
  } else if (m.arch == Architecture::kQwen2 && flag(c, "use_sliding_window", false)) {
    // Qwen2 uses the window only from layer max_window_layers on.
    int first = c.contains("max_window_layers") && c["max_window_layers"].is_number_integer()
                    ? c["max_window_layers"].get<int>() : 0;
    for (int l = first; l < m.num_layers; ++l) m.sliding_window[l] = window;
  }
  return m;
}

StatusOr<ModelConfig> load_model_config(const std::string& model_dir) {
  std::string text;
  GROVE_ASSIGN_OR_RETURN(text, read_text_file(model_dir + "/config.json"));
  json c = json::parse(text, nullptr, false);
  if (c.is_discarded()) return make_error(ErrorCode::kInvalidArgument, model_dir + "/config.json is not valid JSON");
  auto parsed = parse_model_config(c);
  if (!parsed.ok()) return parsed.status().with_context(model_dir + "/config.json");
  return parsed;
}

std::vector<float> rope_inv_freq(const ModelConfig& config) {
  const int dim = config.head_dim;
  const float base = static_cast<float>(config.rope.theta);
  std::vector<float> inv(dim / 2);
  for (int i = 0; i < dim / 2; ++i) {
    inv[i] = 1.0f / std::pow(base, static_cast<float>(2 * i) / static_cast<float>(dim));
  }
  if (config.rope.type != "llama3") return inv;
  // transformers' _compute_llama3_parameters, in fp32 like its tensors.
  const float factor = static_cast<float>(config.rope.factor);
  const float low = static_cast<float>(config.rope.low_freq_factor);
  const float high = static_cast<float>(config.rope.high_freq_factor);
  const float old_len = static_cast<float>(config.rope.original_max_position_embeddings);
  const float low_wavelen = old_len / low, high_wavelen = old_len / high;
  for (float& f : inv) {
    float wavelen = 2.0f * static_cast<float>(M_PI) / f;
    float scaled = wavelen > low_wavelen ? f / factor : f;
    if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
      float smooth = (old_len / wavelen - low) / (high - low);
      scaled = (1.0f - smooth) * scaled / factor + smooth * scaled;
    }
    f = scaled;
  }
  return inv;
}

}  // namespace grove
