// Reads a Hugging Face model folder into backend memory. Files are memory-mapped and each tensor is converted to
// fp32 on its way into a backend buffer; the mappings are dropped once loading ends, so only the fp32 copy stays.
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "grove/file_util.h"
#include "grove/model.h"
#include "grove/safetensors.h"
#include "model/model_builder.h"

namespace grove {

namespace {

class WeightSource {
 public:
  Status open(const std::string& dir) {
    const std::string index_path = dir + "/model.safetensors.index.json";
    const std::string single_path = dir + "/model.safetensors";
    if (std::filesystem::exists(index_path)) {
      std::string text;
      GROVE_ASSIGN_OR_RETURN(text, read_text_file(index_path));
      auto index = nlohmann::json::parse(text, nullptr, false);
      if (index.is_discarded() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
        return make_error(ErrorCode::kCorruptFile, index_path + ": missing or malformed 'weight_map'");
      }
      std::set<std::string> shards;
      for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
        if (!it.value().is_string()) return make_error(ErrorCode::kCorruptFile, index_path + ": bad weight_map entry");
        shard_of_[it.key()] = it.value().get<std::string>();
        shards.insert(it.value().get<std::string>());
      }
      for (const auto& shard : shards) {
        auto file = SafetensorsFile::open(dir + "/" + shard);
        if (!file.ok()) return file.status();
        files_.emplace(shard, std::make_unique<SafetensorsFile>(std::move(file).value()));
      }
      return Status();
    }
    if (!std::filesystem::exists(single_path)) {
      return make_error(ErrorCode::kNotFound, dir + ": no model.safetensors or model.safetensors.index.json");
    }
    auto file = SafetensorsFile::open(single_path);
    if (!file.ok()) return file.status();
    files_.emplace("", std::make_unique<SafetensorsFile>(std::move(file).value()));
    return Status();
  }

  const TensorInfo* find(const std::string& name) const {
    const SafetensorsFile* file = file_of(name);
    return file == nullptr ? nullptr : file->find(name);
  }

  void release(const TensorInfo& tensor) const { file_of(tensor.name)->release(tensor); }

 private:
  const SafetensorsFile* file_of(const std::string& name) const {
    if (shard_of_.empty()) return files_.begin()->second.get();
    auto it = shard_of_.find(name);
    return it == shard_of_.end() ? nullptr : files_.at(it->second).get();
  }

  std::map<std::string, std::string> shard_of_;
  std::map<std::string, std::unique_ptr<SafetensorsFile>> files_;
};

// Tensors from the folder's safetensors files, converted to fp32 on the host.
class FileTensors final : public TensorSource {
 public:
  explicit FileTensors(const WeightSource& source) : source_(source) {}

  bool has(const std::string& name) const override { return source_.find(name) != nullptr; }

  Status read(const std::string& name, const std::vector<int64_t>& expected, std::vector<float>* out) override {
    const TensorInfo* info = source_.find(name);
    if (info == nullptr) return make_error(ErrorCode::kNotFound, "missing tensor '" + name + "'");
    if (info->shape != expected) {
      return make_error(ErrorCode::kInvalidArgument, "tensor '" + name + "' has shape " +
                                                         shape_to_string(info->shape) + ", expected " +
                                                         shape_to_string(expected));
    }
    out->resize(static_cast<size_t>(info->numel()));
    convert_to_f32(*info, out->data());
    source_.release(*info);
    return Status();
  }

 private:
  const WeightSource& source_;
};

}  // namespace

StatusOr<Model> load_model(const std::string& dir, Backend& backend) {
  ModelConfig config;
  GROVE_ASSIGN_OR_RETURN(config, load_model_config(dir));
  WeightSource source;
  GROVE_RETURN_IF_ERROR(source.open(dir).with_context("loading model " + dir));
  FileTensors tensors(source);
  auto model = build_model(config, tensors, backend);
  if (!model.ok()) return model.status().with_context("loading model " + dir);
  model.value().path = dir;
  return model;
}

StatusOr<Model> build_model(const ModelConfig& config, TensorSource& source, Backend& backend) {
  GROVE_RETURN_IF_ERROR(backend.check_model(config));
  Model model;
  model.config = config;
  const ModelConfig& c = model.config;
  std::vector<float> staging;
  auto load = [&](const std::string& name, std::vector<int64_t> shape) -> StatusOr<Buffer> {
    GROVE_RETURN_IF_ERROR(source.read(name, shape, &staging));
    Buffer buf = backend.alloc(staging.size(), MemoryCategory::kBaseWeights, backend.weight_dtype());
    backend.copy_from_host(buf.ptr(), staging.data(), staging.size());
    return buf;
  };
  const int64_t H = c.hidden_size, V = c.vocab_size;
  GROVE_ASSIGN_OR_RETURN(model.embed, load("model.embed_tokens.weight", {V, H}));
  model.layers.resize(c.num_layers);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string prefix = "model.layers." + std::to_string(l) + ".";
    LayerWeights& lw = model.layers[l];
    GROVE_ASSIGN_OR_RETURN(lw.input_norm, load(prefix + "input_layernorm.weight", {H}));
    GROVE_ASSIGN_OR_RETURN(lw.post_norm, load(prefix + "post_attention_layernorm.weight", {H}));
    for (int p = 0; p < kNumProj; ++p) {
      const Proj proj = static_cast<Proj>(p);
      Linear& lin = lw.proj[p];
      lin.in = model.proj_in(proj);
      lin.out = model.proj_out(proj);
      const std::string name = prefix + proj_parent(proj) + "." + proj_name(proj);
      GROVE_ASSIGN_OR_RETURN(lin.weight, load(name + ".weight", {lin.out, lin.in}));
      const bool has_bias = (p <= static_cast<int>(Proj::kV) && c.qkv_bias) || (proj == Proj::kO && c.o_bias) ||
                            (p >= static_cast<int>(Proj::kGate) && c.mlp_bias);
      if (has_bias) {
        GROVE_ASSIGN_OR_RETURN(lin.bias, load(name + ".bias", {lin.out}));
      }
    }
  }
  GROVE_ASSIGN_OR_RETURN(model.final_norm, load("model.norm.weight", {H}));
  if (c.tie_word_embeddings && !source.has("lm_head.weight")) {
    model.lm_head = model.embed.ptr();
  } else {
    GROVE_ASSIGN_OR_RETURN(model.lm_head_storage, load("lm_head.weight", {V, H}));
    model.lm_head = model.lm_head_storage.ptr();
  }
  model.inv_freq = rope_inv_freq(c);
  return model;
}

}  // namespace grove
