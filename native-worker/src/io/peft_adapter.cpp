#include <nlohmann/json.hpp>
#include <set>

#include "grove/file_util.h"
#include "grove/peft_io.h"
#include "grove/safetensors.h"

namespace grove {

namespace {

std::string adapter_config_json(const Adapter& adapter, const std::string& base_model_path) {
  const LoraConfig& c = adapter.config();
  nlohmann::ordered_json j;
  j["peft_type"] = "LORA";
  j["task_type"] = "CAUSAL_LM";
  j["base_model_name_or_path"] = base_model_path;
  j["r"] = c.r;
  j["lora_alpha"] = c.alpha;
  j["lora_dropout"] = c.dropout;
  j["target_modules"] = c.target_modules;
  j["use_rslora"] = c.use_rslora;
  j["bias"] = "none";
  j["fan_in_fan_out"] = false;
  j["inference_mode"] = true;
  j["init_lora_weights"] = true;
  j["modules_to_save"] = nullptr;
  j["layers_to_transform"] = nullptr;
  j["layers_pattern"] = nullptr;
  j["rank_pattern"] = nlohmann::ordered_json::object();
  j["alpha_pattern"] = nlohmann::ordered_json::object();
  j["use_dora"] = false;
  j["revision"] = nullptr;
  return j.dump(2) + "\n";
}

}  // namespace

Status write_peft_adapter(const std::string& dir, Backend& backend, const Adapter& adapter,
                          const std::string& base_model_path) {
  GROVE_RETURN_IF_ERROR(make_dirs(dir));
  std::vector<std::vector<float>> host;
  host.reserve(2 * adapter.modules().size());
  std::vector<TensorToWrite> tensors;
  const int64_t r = adapter.config().r;
  for (const auto& m : adapter.modules()) {
    for (char which : {'A', 'B'}) {
      const LoraParam& p = m.param(which);
      host.emplace_back(p.numel());
      backend.copy_to_host(host.back().data(), p.value.data(), p.numel());
      tensors.push_back({peft_key(m.layer, m.proj, which), m.shape(which, r), host.back().data()});
    }
  }
  GROVE_RETURN_IF_ERROR(write_safetensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}}));
  return write_file_atomic(dir + "/adapter_config.json", adapter_config_json(adapter, base_model_path));
}

Status load_peft_adapter(const std::string& dir, Backend& backend, Adapter& adapter) {
  const std::string path = dir + "/adapter_model.safetensors";
  SafetensorsFile file;
  GROVE_ASSIGN_OR_RETURN(file, SafetensorsFile::open(path));
  std::set<std::string> used;
  std::vector<float> host;
  const int64_t r = adapter.config().r;
  for (auto& m : adapter.modules()) {
    for (char which : {'A', 'B'}) {
      const std::string key = peft_key(m.layer, m.proj, which);
      const TensorInfo* info = file.find(key);
      if (info == nullptr) return make_error(ErrorCode::kNotFound, path + ": missing tensor '" + key + "'");
      const std::vector<int64_t> expected = m.shape(which, r);
      if (info->shape != expected) {
        return make_error(ErrorCode::kInvalidArgument, path + ": tensor '" + key + "' has shape " +
                                                           shape_to_string(info->shape) + ", expected " +
                                                           shape_to_string(expected) + " (lora.r = " +
                                                           std::to_string(r) + ")");
      }
      host.resize(static_cast<size_t>(info->numel()));
      convert_to_f32(*info, host.data());
      LoraParam& p = m.param(which);
      backend.copy_from_host(p.value.data(), host.data(), host.size());
      used.insert(key);
    }
  }
  for (const auto& [name, info] : file.tensors()) {
    if (!used.count(name)) {
      return make_error(ErrorCode::kInvalidArgument,
                        path + ": tensor '" + name + "' is not a LoRA weight of this job's target_modules");
    }
  }
  return Status();
}

}  // namespace grove
