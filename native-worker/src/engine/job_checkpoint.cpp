// Job checkpoints: <checkpoint_dir>/ holds a PEFT adapter (adapter_model.safetensors + adapter_config.json),
// optimizer.safetensors (AdamW moments, "<peft key>.exp_avg" / ".exp_avg_sq"), state.json (step, data cursor and,
// with a validation set, the validation record) and, with early stopping, best_adapter.safetensors (job_validation.cpp).
// Randomness is counter-based (rng.h), so step and cursor are the whole RNG state. Taken only at optimizer-step
// boundaries. Written into <dir>.tmp and swapped in by renames, so a crash leaves the old or the new checkpoint.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "grove/file_util.h"
#include "grove/job.h"
#include "grove/peft_io.h"
#include "grove/safetensors.h"

namespace grove {

namespace fs = std::filesystem;

Status Job::save_checkpoint(Backend& backend, const std::string& model_path) {
  const std::string dir = spec_.checkpoint_dir, tmp = dir + ".tmp", old = dir + ".old";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  GROVE_RETURN_IF_ERROR(write_peft_adapter(tmp, backend, *adapter_, model_path));
  std::vector<std::vector<float>> host;
  std::vector<TensorToWrite> tensors;
  host.reserve(4 * adapter_->modules().size());
  for (const auto& m : adapter_->modules()) {
    for (char which : {'A', 'B'}) {
      const LoraParam& p = m.param(which);
      const std::string key = peft_key(m.layer, m.proj, which);
      for (const Buffer* moment : {&p.m, &p.v}) {
        host.emplace_back(p.numel());
        backend.copy_to_host(host.back().data(), moment->data(), p.numel());
        tensors.push_back({key + (moment == &p.m ? ".exp_avg" : ".exp_avg_sq"),
                           {static_cast<int64_t>(p.numel())}, host.back().data()});
      }
    }
  }
  GROVE_RETURN_IF_ERROR(write_safetensors(tmp + "/optimizer.safetensors", tensors));
  nlohmann::ordered_json state;
  state["format"] = 1;
  state["job_id"] = spec_.id;
  state["step"] = step_;
  state["data_epoch"] = cursor_.epoch;
  state["data_index"] = cursor_.index;
  if (has_validation()) state["validation"] = validation_json();
  GROVE_RETURN_IF_ERROR(save_best(backend, tmp));
  GROVE_RETURN_IF_ERROR(write_file_atomic(tmp + "/state.json", state.dump(2) + "\n"));
  fs::remove_all(old, ec);
  if (fs::exists(dir)) {
    fs::rename(dir, old, ec);
    if (ec) return make_error(ErrorCode::kIoError, dir + ": cannot move the previous checkpoint: " + ec.message());
  }
  fs::rename(tmp, dir, ec);
  if (ec) return make_error(ErrorCode::kIoError, dir + ": cannot install the checkpoint: " + ec.message());
  fs::remove_all(old, ec);
  checkpoint_requested_ = false;
  return Status();
}

Status Job::load_checkpoint(Backend& backend) {
  const std::string dir = spec_.checkpoint_dir;
  std::string text;
  GROVE_ASSIGN_OR_RETURN(text, read_text_file(dir + "/state.json"));
  auto state = nlohmann::json::parse(text, nullptr, false);
  if (state.is_discarded() || !state.contains("step") || !state.contains("data_epoch") || !state.contains("data_index")) {
    return make_error(ErrorCode::kCorruptFile, dir + "/state.json: missing step or data cursor");
  }
  if (state.value("job_id", "") != spec_.id) {
    return make_error(ErrorCode::kInvalidArgument, dir + " is a checkpoint of job '" + state.value("job_id", "") + "'");
  }
  step_ = state["step"].get<int64_t>();
  cursor_.epoch = state["data_epoch"].get<uint64_t>();
  cursor_.index = state["data_index"].get<uint64_t>();
  if (cursor_.index >= data_.num_examples()) {
    return make_error(ErrorCode::kInvalidArgument, dir + ": data cursor is past the end of " + spec_.tokens);
  }
  GROVE_RETURN_IF_ERROR(load_peft_adapter(dir, backend, *adapter_));
  GROVE_RETURN_IF_ERROR(load_validation_checkpoint(state, backend));
  SafetensorsFile opt;
  GROVE_ASSIGN_OR_RETURN(opt, SafetensorsFile::open(dir + "/optimizer.safetensors"));
  std::vector<float> host;
  for (auto& m : adapter_->modules()) {
    for (char which : {'A', 'B'}) {
      LoraParam& p = m.param(which);
      for (Buffer* moment : {&p.m, &p.v}) {
        const std::string key = peft_key(m.layer, m.proj, which) + (moment == &p.m ? ".exp_avg" : ".exp_avg_sq");
        const TensorInfo* info = opt.find(key);
        if (info == nullptr || info->numel() != static_cast<int64_t>(p.numel()) || info->dtype != DType::kF32) {
          return make_error(ErrorCode::kCorruptFile, dir + "/optimizer.safetensors: missing or bad '" + key + "'");
        }
        host.resize(p.numel());
        convert_to_f32(*info, host.data());
        backend.copy_from_host(moment->data(), host.data(), host.size());
      }
    }
  }
  // Keep only the metrics of the steps the checkpoint covers; the resumed run appends the rest.
  std::ifstream in(spec_.output_dir + "/metrics.jsonl");
  std::ostringstream kept;
  std::string line;
  for (int64_t i = 0; i < step_ && std::getline(in, line); ++i) kept << line << "\n";
  GROVE_RETURN_IF_ERROR(make_dirs(spec_.output_dir));
  return write_file_atomic(spec_.output_dir + "/metrics.jsonl", kept.str());
}

}  // namespace grove
