// One training job inside the engine: its data and data cursor, its adapter and AdamW state, its progress,
// metrics file and checkpoints. The engine packs jobs' micro-batches together; everything per job lives here.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "grove/adapter.h"
#include "grove/early_stopping.h"
#include "grove/fused_batch.h"
#include "grove/job_spec.h"
#include "grove/token_file.h"

namespace grove {

struct StepMetrics {
  int64_t step = 0;  // 1-based number of the optimizer step just taken
  double loss = 0.0;
  double lr = 0.0;
  int64_t tokens = 0;
  int64_t targets = 0;
  double grad_norm = 0.0;
  double tokens_per_s = 0.0;
  std::optional<double> val_loss;  // set when the job evaluated its validation set after this step
};

// Where the next example comes from: example `index` of epoch `epoch`'s order.
struct DataCursor {
  uint64_t epoch = 0;
  uint64_t index = 0;
};

class Job {
 public:
  // Reads and validates the data (DATA_ERROR on a bad token file or a token id outside the vocabulary), builds the
  // adapter (init_adapter or PEFT default init) and, if <checkpoint_dir> holds a checkpoint, resumes from it.
  static StatusOr<std::unique_ptr<Job>> create(const JobSpec& spec, const Model& model, Backend& backend);
  Job(const Job&) = delete;  // data_ refers into file_: a Job stays where it was built
  Job& operator=(const Job&) = delete;

  const JobSpec& spec() const { return spec_; }
  const std::string& id() const { return spec_.id; }
  Adapter& adapter() { return *adapter_; }
  int64_t step() const { return step_; }
  // All steps taken, or early stopping fired.
  bool done() const { return step_ >= spec_.steps || validation_.stopped; }

  // Appends this job's current micro-batch to `batch` as one segment (planning the optimizer step first if it
  // is the step's first micro-batch).
  void add_micro_batch(FusedBatch& batch);
  // Target count of the whole current optimizer step (the loss denominator).
  int64_t step_targets() const { return step_targets_; }
  // Records the forward/backward of the current micro-batch; true when the optimizer step is complete.
  bool finish_micro_batch(double loss_sum, int64_t tokens, double seconds);
  // Clips, steps AdamW with the scheduled lr, zeroes grads. DIVERGED if the gradient is not finite.
  StatusOr<StepMetrics> optimizer_step(Backend& backend);
  // Drops the current optimizer step's partial progress (grads, data position) so it can be redone.
  void restart_step();

  bool at_step_boundary() const { return micro_ == 0; }
  void request_checkpoint() { checkpoint_requested_ = true; }
  bool checkpoint_due() const;
  Status save_checkpoint(Backend& backend, const std::string& model_path);
  Status append_metrics(const StepMetrics& m);
  // The PEFT adapter into output_dir: with early stopping, the weights of the best evaluation (job_validation.cpp).
  Status write_output(Backend& backend, const std::string& model_path);

  // Validation (job_validation.cpp). An evaluation is due after every eval_every-th optimizer step and the last.
  bool has_validation() const { return val_file_.has_value(); }
  bool evaluation_due() const;
  const TokenView& validation_data() const { return val_file_->view(); }
  int64_t validation_targets() const { return val_targets_; }
  // Records the evaluation of the adapter as it is after the current step; keeps its weights if it is the best.
  void record_validation(double loss, Backend& backend);
  const ValidationState& validation() const { return validation_; }

 private:
  Job(const JobSpec& spec, TokenFile data, std::unique_ptr<Adapter> adapter)
      : spec_(spec), file_(std::move(data)), adapter_(std::move(adapter)) {}
  size_t next_example();
  void plan_step();
  int64_t example_targets(size_t example) const;
  Status load_checkpoint(Backend& backend);
  Status reset_metrics_file();
  Status load_validation_data(const Model& model);
  void allocate_best(Backend& backend);
  nlohmann::ordered_json validation_json() const;
  Status save_best(Backend& backend, const std::string& dir) const;
  Status load_validation_checkpoint(const nlohmann::json& state, Backend& backend);

  JobSpec spec_;
  TokenFile file_;
  const TokenView& data_ = file_.view();
  std::unique_ptr<Adapter> adapter_;
  int64_t step_ = 0;
  DataCursor cursor_;
  DataCursor cursor_at_step_start_;
  std::vector<size_t> order_;  // epoch order when shuffling
  uint64_t order_epoch_ = UINT64_MAX;
  std::vector<std::vector<size_t>> planned_;  // the current optimizer step's micro-batches
  int micro_ = 0;
  int64_t step_targets_ = 0;
  double loss_sum_ = 0.0;
  int64_t step_tokens_ = 0;
  double step_seconds_ = 0.0;
  bool checkpoint_requested_ = false;
  std::optional<TokenFile> val_file_;
  int64_t val_targets_ = 0;
  ValidationState validation_;
  std::vector<Buffer> best_;  // early stopping: A and B of every module at the best evaluation, in module order
};

}  // namespace grove
