// One job of a training spec (docs/spec.md): data, LoRA shape, optimizer, schedule, batch sizes, outputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "grove/model.h"
#include "grove/recompute.h"
#include "grove/status.h"

namespace grove {

struct LoraConfig {
  int r = 8;
  double alpha = 8.0;
  double dropout = 0.0;
  std::vector<std::string> target_modules{"q_proj", "v_proj"};
  bool use_rslora = false;
  // alpha / r, or alpha / sqrt(r) with rsLoRA, as PEFT computes it.
  float scale() const;
};

struct OptimizerConfig {
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  // torch.optim.AdamW's default
  double max_grad_norm = 1.0;  // <= 0 disables clipping
};

enum class ScheduleType { kConstant, kLinear, kCosine };

struct ScheduleConfig {
  ScheduleType type = ScheduleType::kConstant;
  int64_t warmup_steps = 0;
};

// Early stopping on the validation loss (docs/spec.md, "validation"): the rule of the scheduler library's
// checkEarlyStopping. patience 0 = off.
struct EarlyStoppingRule {
  int64_t patience = 0;
  double min_delta = 0.0;
};

struct ValidationConfig {
  std::string tokens;      // the validation set's .gtok; empty = no validation
  int64_t eval_every = 0;  // optimizer steps between evaluations; resolved by parse_job_spec (never 0 when tokens set)
  EarlyStoppingRule early_stopping;
  bool enabled() const { return !tokens.empty(); }
  bool stops_early() const { return early_stopping.patience > 0; }
};

// The default evaluation interval: about 10 evaluations per job, max(1, round(steps / 10)).
int64_t default_eval_every(int64_t steps);

struct JobSpec {
  std::string id;
  std::string tokens;
  std::string init_adapter;  // empty: PEFT default init from the seed
  LoraConfig lora;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  int64_t steps = 0;
  int micro_batch_size = 1;
  int grad_accum = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  std::string output_dir;
  int64_t checkpoint_every = 0;  // optimizer steps between checkpoints; 0 = never
  std::string checkpoint_dir;    // default: <output_dir>/checkpoint
  ValidationConfig validation;
};

StatusOr<JobSpec> parse_job_spec(const nlohmann::json& j);

struct TrainSpec {
  std::string model;
  std::string backend = "cpu";  // "cpu" or "cuda"
  int device = 0;               // the GPU, for "cuda"
  Recompute recompute = Recompute::kNone;
  int threads = 1;
  size_t memory_limit = 0;  // bytes the engine may hold at once; 0 = no cap
  std::vector<JobSpec> jobs;
};

StatusOr<TrainSpec> parse_train_spec(const nlohmann::json& j);
StatusOr<TrainSpec> load_train_spec(const std::string& path);

// transformers' get_{constant,linear,cosine}_schedule_with_warmup multiplier at 0-based optimizer step k.
double lr_factor(const ScheduleConfig& schedule, int64_t total_steps, int64_t k);

}  // namespace grove
