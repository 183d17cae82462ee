// A job's validation set, its evaluation schedule and early stopping. With early stopping the job keeps a copy of
// its LoRA weights (A and B only: a few MB) at every improving evaluation, and its output adapter is that copy.
// The record (best loss, best step, stale count, stopped) and the copy travel in checkpoints (job_checkpoint.cpp).
#include <nlohmann/json.hpp>

#include "engine/validation_loss.h"
#include "grove/job.h"
#include "grove/peft_io.h"
#include "grove/safetensors.h"

namespace grove {

Status Job::load_validation_data(const Model& model) {
  const std::string& path = spec_.validation.tokens;
  auto file = read_token_file(path);
  if (!file.ok()) return make_error(ErrorCode::kDataError, "validation: " + file.status().message());
  const uint32_t max_id = max_token_id(file.value().view());
  if (max_id >= static_cast<uint32_t>(model.config.vocab_size)) {
    return make_error(ErrorCode::kDataError, path + ": token id " + std::to_string(max_id) +
                                                 " is outside the model's vocabulary (" +
                                                 std::to_string(model.config.vocab_size) + ")");
  }
  val_targets_ = count_targets(file.value().view());
  if (val_targets_ == 0) return make_error(ErrorCode::kDataError, path + ": the validation set has no target tokens");
  val_file_ = std::move(file).value();
  return Status();
}

void Job::allocate_best(Backend& backend) {
  for (const auto& m : adapter_->modules()) {
    for (const LoraParam* p : {&m.a, &m.b}) best_.push_back(backend.alloc(p->numel(), MemoryCategory::kAdapterOptimizer));
  }
}

bool Job::evaluation_due() const {
  if (!has_validation() || micro_ != 0 || step_ == 0) return false;
  return step_ % spec_.validation.eval_every == 0 || step_ >= spec_.steps;
}

void Job::record_validation(double loss, Backend& backend) {
  const bool improved = validation_.observe(step_, loss, spec_.validation.early_stopping);
  // The rule firing at the last step skips nothing: the job ran all its steps and is not "stopped early" (its adapter
  // is the best evaluation's all the same).
  if (step_ >= spec_.steps) validation_.stopped = false;
  if (!improved || best_.empty()) return;
  size_t i = 0;
  for (const auto& m : adapter_->modules()) {
    for (const LoraParam* p : {&m.a, &m.b}) backend.copy(best_[i++].data(), p->value.data(), p->numel());
  }
}

Status Job::write_output(Backend& backend, const std::string& model_path) {
  if (!best_.empty() && validation_.has_best()) {
    // The job is over: its live weights are no longer needed, so the best ones take their place.
    size_t i = 0;
    for (auto& m : adapter_->modules()) {
      for (LoraParam* p : {&m.a, &m.b}) backend.copy(p->value.data(), best_[i++].data(), p->numel());
    }
  }
  return write_peft_adapter(spec_.output_dir, backend, *adapter_, model_path);
}

nlohmann::ordered_json Job::validation_json() const {
  nlohmann::ordered_json v;
  v["best_step"] = validation_.best_step;
  v["best_val_loss"] = validation_.has_best() ? nlohmann::ordered_json(validation_.best_loss) : nullptr;
  v["stale"] = validation_.stale;
  v["stopped"] = validation_.stopped;
  return v;
}

Status Job::save_best(Backend& backend, const std::string& dir) const {
  if (best_.empty() || !validation_.has_best()) return Status();
  std::vector<std::vector<float>> host;
  std::vector<TensorToWrite> tensors;
  host.reserve(best_.size());
  size_t i = 0;
  for (const auto& m : adapter_->modules()) {
    for (char which : {'A', 'B'}) {
      host.emplace_back(best_[i].numel());
      backend.copy_to_host(host.back().data(), best_[i].data(), best_[i].numel());
      tensors.push_back({peft_key(m.layer, m.proj, which), m.shape(which, adapter_->config().r), host.back().data()});
      ++i;
    }
  }
  return write_safetensors(dir + "/best_adapter.safetensors", tensors);
}

Status Job::load_validation_checkpoint(const nlohmann::json& state, Backend& backend) {
  const std::string dir = spec_.checkpoint_dir;
  if (!has_validation() || !state.contains("validation")) return Status();
  const auto& v = state["validation"];
  if (!v.is_object() || !v.contains("best_step") || !v.contains("stale") || !v.contains("stopped")) {
    return make_error(ErrorCode::kCorruptFile, dir + "/state.json: bad 'validation' record");
  }
  validation_.best_step = v["best_step"].get<int64_t>();
  validation_.stale = v["stale"].get<int64_t>();
  validation_.stopped = v["stopped"].get<bool>();
  if (validation_.has_best()) {
    if (!v.contains("best_val_loss") || !v["best_val_loss"].is_number()) {
      return make_error(ErrorCode::kCorruptFile, dir + "/state.json: 'validation' has a best step but no loss");
    }
    validation_.best_loss = v["best_val_loss"].get<double>();
  }
  if (best_.empty() || !validation_.has_best()) return Status();
  SafetensorsFile file;
  GROVE_ASSIGN_OR_RETURN(file, SafetensorsFile::open(dir + "/best_adapter.safetensors"));
  std::vector<float> host;
  size_t i = 0;
  for (const auto& m : adapter_->modules()) {
    for (char which : {'A', 'B'}) {
      const std::string key = peft_key(m.layer, m.proj, which);
      const TensorInfo* info = file.find(key);
      if (info == nullptr || info->numel() != static_cast<int64_t>(best_[i].numel()) || info->dtype != DType::kF32) {
        return make_error(ErrorCode::kCorruptFile, dir + "/best_adapter.safetensors: missing or bad '" + key + "'");
      }
      host.resize(best_[i].numel());
      convert_to_f32(*info, host.data());
      backend.copy_from_host(best_[i].data(), host.data(), host.size());
      ++i;
    }
  }
  return Status();
}

}  // namespace grove
