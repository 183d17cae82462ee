// The multi-LoRA training engine: one frozen base model, any number of jobs. Each step() packs every active job's
// current micro-batch into one fused batch, runs forward/backward once over it, and steps each job's optimizer
// when its gradient accumulation completes. Jobs can be added and removed between steps; a job that fails
// (bad data, NaN/Inf, out of memory) is dropped alone and reported, the others go on untouched. Jobs with a
// validation set evaluate it after their due steps (together, sharing the frozen GEMMs) and may stop early.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grove/backend.h"
#include "grove/job.h"
#include "grove/model.h"
#include "grove/recompute.h"

namespace grove {

enum class FailureReason { kDataError, kDiverged, kOom, kEngineError };
const char* failure_reason_name(FailureReason reason);
FailureReason classify_failure(const Status& status);

struct StepEvent {
  std::string job_id;
  StepMetrics metrics;
};

struct JobFinished {
  std::string job_id;
  std::string output_dir;
  bool early_stopped = false;
  std::optional<int64_t> best_step;  // with a validation set and a finite evaluation
  std::optional<double> best_val_loss;
};

struct JobFailed {
  std::string job_id;
  FailureReason reason;
  std::string message;
};

struct Checkpointed {
  std::string job_id;
  int64_t step = 0;
  std::string dir;
};

struct StepReport {
  std::vector<StepEvent> steps;
  std::vector<Checkpointed> checkpoints;
  std::vector<JobFinished> finished;
  std::vector<JobFailed> failed;
  int tokens = 0;
  double seconds = 0.0;
};

struct JobStatus {
  std::string job_id;
  int64_t step = 0;
  int64_t steps = 0;
};

class Engine {
 public:
  Engine(Backend& backend, const Model& model) : backend_(backend), model_(model) {}

  // Activations dropped in forward and recomputed in backward (engine/model_step.h); results do not change.
  void set_recompute(Recompute r) { recompute_ = r; }

  // Creates the job (see Job::create). Fails with the job's error; the engine is unchanged then.
  Status add_job(const JobSpec& spec);
  Status remove_job(const std::string& id);
  // Checkpoints the job at its next optimizer-step boundary: at once if it is at one (returns true), else after
  // the step that completes its current optimizer step (reported in that StepReport's checkpoints).
  StatusOr<bool> checkpoint_job(const std::string& id);
  bool has_jobs() const { return !jobs_.empty(); }
  std::vector<JobStatus> status() const;

  // One fused micro-step over all jobs.
  StepReport step();
  // One fused forward+backward of every job's first micro-batch, no update; writes <out_dir>/<id>.safetensors
  // (with `val_loss` for a job with a validation set: the loss of its adapter as loaded, before any step).
  Status dump(const std::string& out_dir);

  Backend& backend() { return backend_; }
  const Model& model() const { return model_; }

 private:
  Job* find(const std::string& id);
  void fail(const std::string& id, const Status& status, StepReport& report);
  // Evaluates the validation set of every job in `stepped` that is due, filling in their val_loss.
  void evaluate(std::vector<StepEvent>& stepped, StepReport& report);
  // Metrics, checkpoint, output and finish of a job that completed an optimizer step.
  void after_optimizer_step(const StepEvent& e, StepReport& report);
  void finish(Job& job, StepReport& report);

  Backend& backend_;
  const Model& model_;
  Recompute recompute_ = Recompute::kNone;
  std::vector<std::unique_ptr<Job>> jobs_;  // in the order they were added: the fused batch's segment order
};

}  // namespace grove
