#include "grove/job.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "grove/file_util.h"
#include "grove/peft_io.h"
#include "grove/rng.h"

namespace grove {

StatusOr<std::unique_ptr<Job>> Job::create(const JobSpec& spec, const Model& model, Backend& backend) {
  if (spec.output_dir.empty()) return make_error(ErrorCode::kInvalidArgument, "job '" + spec.id + "': 'output_dir' is required");
  auto data = read_token_file(spec.tokens);
  if (!data.ok()) return make_error(ErrorCode::kDataError, data.status().message());
  const uint32_t max_id = max_token_id(data.value().view());
  if (max_id >= static_cast<uint32_t>(model.config.vocab_size)) {
    return make_error(ErrorCode::kDataError, spec.tokens + ": token id " + std::to_string(max_id) +
                                                 " is outside the model's vocabulary (" +
                                                 std::to_string(model.config.vocab_size) + ")");
  }
  auto adapter = std::make_unique<Adapter>(backend, model, spec.lora);
  if (spec.init_adapter.empty()) {
    adapter->init_default(spec.seed);
  } else {
    GROVE_RETURN_IF_ERROR(load_peft_adapter(spec.init_adapter, backend, *adapter).with_context("init_adapter"));
  }
  std::unique_ptr<Job> job(new Job(spec, std::move(data).value(), std::move(adapter)));
  if (spec.validation.enabled()) {
    GROVE_RETURN_IF_ERROR(job->load_validation_data(model));
    if (spec.validation.stops_early()) job->allocate_best(backend);
  }
  // A crash between the two renames of a checkpoint swap leaves only <dir>.old; use it then.
  if (!std::filesystem::exists(spec.checkpoint_dir + "/state.json") &&
      std::filesystem::exists(spec.checkpoint_dir + ".old/state.json")) {
    std::error_code ec;
    std::filesystem::rename(spec.checkpoint_dir + ".old", spec.checkpoint_dir, ec);
  }
  if (std::filesystem::exists(spec.checkpoint_dir + "/state.json")) {
    GROVE_RETURN_IF_ERROR(job->load_checkpoint(backend).with_context("resuming from " + spec.checkpoint_dir));
  } else {
    GROVE_RETURN_IF_ERROR(job->reset_metrics_file());
  }
  return job;
}

size_t Job::next_example() {
  const size_t n = data_.num_examples();
  size_t example = static_cast<size_t>(cursor_.index);
  if (spec_.shuffle) {
    if (order_epoch_ != cursor_.epoch) {
      // Fisher-Yates with counter-based draws keyed by (seed, epoch): the order is reproducible after a resume.
      order_.resize(n);
      for (size_t i = 0; i < n; ++i) order_[i] = i;
      const uint64_t key = hash_combine(stream_key(spec_.seed, RngStream::kShuffle), cursor_.epoch);
      for (size_t i = n - 1; i > 0; --i) std::swap(order_[i], order_[hash_combine(key, i) % (i + 1)]);
      order_epoch_ = cursor_.epoch;
    }
    example = order_[example];
  }
  if (++cursor_.index == n) {
    cursor_.index = 0;
    ++cursor_.epoch;
  }
  return example;
}

int64_t Job::example_targets(size_t example) const {
  int64_t n = 0;
  for (uint64_t t = data_.offsets[example] + 1; t < data_.offsets[example + 1]; ++t) n += data_.mask[t];
  return n;
}

void Job::plan_step() {
  cursor_at_step_start_ = cursor_;
  planned_.assign(spec_.grad_accum, {});
  step_targets_ = 0;
  for (auto& micro : planned_) {
    for (int i = 0; i < spec_.micro_batch_size; ++i) {
      micro.push_back(next_example());
      step_targets_ += example_targets(micro.back());
    }
  }
}

void Job::add_micro_batch(FusedBatch& batch) {
  if (micro_ == 0 && planned_.empty()) plan_step();
  const uint64_t key = hash_combine(hash_combine(stream_key(spec_.seed, RngStream::kDropout), step_), micro_);
  batch.begin_segment(adapter_.get(), key);
  for (size_t example : planned_[micro_]) batch.add_example(data_, example);
  batch.end_segment();
}

bool Job::finish_micro_batch(double loss_sum, int64_t tokens, double seconds) {
  loss_sum_ += loss_sum;
  step_tokens_ += tokens;
  step_seconds_ += seconds;
  ++micro_;
  return micro_ == spec_.grad_accum;
}

void Job::restart_step() {
  adapter_->zero_grads();
  cursor_ = cursor_at_step_start_;
  planned_.clear();
  micro_ = 0;
  loss_sum_ = 0.0;
  step_tokens_ = 0;
  step_seconds_ = 0.0;
}

StatusOr<StepMetrics> Job::optimizer_step(Backend& backend) {
  StepMetrics m;
  m.step = step_ + 1;
  m.tokens = step_tokens_;
  m.targets = step_targets_;
  m.loss = step_targets_ > 0 ? loss_sum_ / static_cast<double>(step_targets_) : 0.0;
  m.tokens_per_s = step_seconds_ > 0 ? static_cast<double>(step_tokens_) / step_seconds_ : 0.0;
  m.lr = spec_.optimizer.lr * lr_factor(spec_.schedule, spec_.steps, step_);
  std::vector<ConstTensor> grads;
  for (auto& mod : adapter_->modules()) {
    grads.push_back({mod.a.grad.data(), mod.a.numel()});
    grads.push_back({mod.b.grad.data(), mod.b.numel()});
  }
  m.grad_norm = std::sqrt(backend.sum_squares(grads));  // one device readback for the whole adapter
  if (!std::isfinite(m.grad_norm) || !std::isfinite(m.loss)) {
    return make_error(ErrorCode::kDiverged, "step " + std::to_string(m.step) + ": loss " + std::to_string(m.loss) +
                                                ", gradient norm " + std::to_string(m.grad_norm));
  }
  const double max_norm = spec_.optimizer.max_grad_norm;
  // torch clip_grad_norm_: coefficient max_norm / (norm + 1e-6), clamped to 1.
  const float clip = max_norm > 0 ? static_cast<float>(std::min(1.0, max_norm / (m.grad_norm + 1e-6))) : 1.0f;
  AdamWParams p;
  p.lr = static_cast<float>(m.lr);
  p.beta1 = static_cast<float>(spec_.optimizer.beta1);
  p.beta2 = static_cast<float>(spec_.optimizer.beta2);
  p.eps = static_cast<float>(spec_.optimizer.eps);
  p.weight_decay = static_cast<float>(spec_.optimizer.weight_decay);
  p.step = step_ + 1;
  std::vector<AdamWTensor> params;
  for (auto& mod : adapter_->modules()) {
    for (LoraParam* param : {&mod.a, &mod.b}) {
      params.push_back({param->value.data(), param->grad.data(), param->m.data(), param->v.data(), param->numel()});
    }
  }
  backend.adamw_step(params, p, clip);  // also zeroes the gradients
  ++step_;
  planned_.clear();
  micro_ = 0;
  loss_sum_ = 0.0;
  step_tokens_ = 0;
  step_seconds_ = 0.0;
  return m;
}

bool Job::checkpoint_due() const {
  if (micro_ != 0) return false;
  if (checkpoint_requested_) return true;
  return spec_.checkpoint_every > 0 && step_ > 0 && step_ % spec_.checkpoint_every == 0 && !done();
}

Status Job::reset_metrics_file() {
  GROVE_RETURN_IF_ERROR(make_dirs(spec_.output_dir));
  return write_file_atomic(spec_.output_dir + "/metrics.jsonl", "");
}

Status Job::append_metrics(const StepMetrics& m) {
  nlohmann::ordered_json j;
  j["step"] = m.step;
  j["loss"] = m.loss;
  j["lr"] = m.lr;
  j["tokens"] = m.tokens;
  j["grad_norm"] = m.grad_norm;
  if (m.val_loss) j["val_loss"] = *m.val_loss;  // nlohmann writes a non-finite value as null
  std::ofstream out(spec_.output_dir + "/metrics.jsonl", std::ios::app);
  out << j.dump() << "\n";
  if (!out) return make_error(ErrorCode::kIoError, spec_.output_dir + "/metrics.jsonl: write failed");
  return Status();
}

}  // namespace grove
