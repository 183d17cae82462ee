#include "grove/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <new>

#include "engine/model_step.h"
#include "engine/validation_loss.h"
#include "grove/safetensors.h"

namespace grove {

const char* failure_reason_name(FailureReason reason) {
  switch (reason) {
    case FailureReason::kDataError: return "data_error";
    case FailureReason::kDiverged: return "diverged";
    case FailureReason::kOom: return "oom";
    case FailureReason::kEngineError: return "engine_error";
  }
  return "engine_error";
}

FailureReason classify_failure(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kDataError: return FailureReason::kDataError;
    case ErrorCode::kDiverged: return FailureReason::kDiverged;
    case ErrorCode::kOutOfMemory: return FailureReason::kOom;
    default: return FailureReason::kEngineError;
  }
}

Status Engine::add_job(const JobSpec& spec) {
  for (const auto& j : jobs_) {
    if (j->id() == spec.id) return make_error(ErrorCode::kInvalidArgument, "a job with id '" + spec.id + "' is already running");
  }
  try {
    std::unique_ptr<Job> job;
    GROVE_ASSIGN_OR_RETURN(job, Job::create(spec, model_, backend_));
    jobs_.push_back(std::move(job));
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::kOutOfMemory, "job '" + spec.id + "': out of memory allocating its adapter");
  }
  return Status();
}

Status Engine::remove_job(const std::string& id) {
  auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const auto& j) { return j->id() == id; });
  if (it == jobs_.end()) return make_error(ErrorCode::kNotFound, "no job '" + id + "'");
  jobs_.erase(it);
  return Status();
}

StatusOr<bool> Engine::checkpoint_job(const std::string& id) {
  for (auto& j : jobs_) {
    if (j->id() != id) continue;
    j->request_checkpoint();
    if (!j->checkpoint_due()) return false;
    GROVE_RETURN_IF_ERROR(j->save_checkpoint(backend_, model_.path));
    return true;
  }
  return make_error(ErrorCode::kNotFound, "no job '" + id + "'");
}

std::vector<JobStatus> Engine::status() const {
  std::vector<JobStatus> out;
  for (const auto& j : jobs_) out.push_back({j->id(), j->step(), j->spec().steps});
  return out;
}

void Engine::fail(const std::string& id, const Status& status, StepReport& report) {
  report.failed.push_back({id, classify_failure(status), status.message()});
  (void)remove_job(id);
}

Job* Engine::find(const std::string& id) {
  auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const auto& j) { return j->id() == id; });
  return it == jobs_.end() ? nullptr : it->get();
}

void Engine::evaluate(std::vector<StepEvent>& stepped, StepReport& report) {
  std::vector<StepEvent*> due;
  std::vector<ValidationInput> inputs;
  for (auto& e : stepped) {
    Job* job = find(e.job_id);
    if (job == nullptr || !job->evaluation_due()) continue;
    due.push_back(&e);
    inputs.push_back({&job->adapter(), &job->validation_data(), job->spec().micro_batch_size, job->validation_targets()});
  }
  if (due.empty()) return;
  std::vector<double> losses;
  try {
    losses = validation_losses(backend_, model_, inputs);
  } catch (const std::bad_alloc&) {
    for (StepEvent* e : due) fail(e->job_id, make_error(ErrorCode::kOutOfMemory, "out of memory evaluating the validation set"), report);
    return;
  }
  for (size_t i = 0; i < due.size(); ++i) {
    due[i]->metrics.val_loss = losses[i];
    find(due[i]->job_id)->record_validation(losses[i], backend_);
  }
}

void Engine::after_optimizer_step(const StepEvent& e, StepReport& report) {
  Job* job = find(e.job_id);
  if (job == nullptr) return;  // failed while evaluating
  Status st = job->append_metrics(e.metrics);
  if (st.ok() && job->checkpoint_due()) {
    st = job->save_checkpoint(backend_, model_.path);
    if (st.ok()) report.checkpoints.push_back({e.job_id, job->step(), job->spec().checkpoint_dir});
  }
  if (st.ok() && job->done()) st = job->write_output(backend_, model_.path);
  if (!st.ok()) return fail(e.job_id, st, report);
  report.steps.push_back(e);
  if (job->done()) finish(*job, report);
}

void Engine::finish(Job& job, StepReport& report) {
  JobFinished f;
  f.job_id = job.id();
  f.output_dir = job.spec().output_dir;
  const ValidationState& v = job.validation();
  f.early_stopped = v.stopped;
  if (v.has_best()) {
    f.best_step = v.best_step;
    f.best_val_loss = v.best_loss;
  }
  report.finished.push_back(f);
  (void)remove_job(f.job_id);
}

StepReport Engine::step() {
  StepReport report;
  // A job resumed from a checkpoint of its last step (or of the step early stopping ended it at) has nothing left.
  for (size_t i = 0; i < jobs_.size();) {
    if (!jobs_[i]->done()) {
      ++i;
      continue;
    }
    Status st = jobs_[i]->write_output(backend_, model_.path);
    if (st.ok()) finish(*jobs_[i], report);
    else fail(jobs_[i]->id(), st, report);
  }
  if (jobs_.empty()) return report;
  const auto start = std::chrono::steady_clock::now();
  FusedBatch batch;
  for (auto& j : jobs_) j->add_micro_batch(batch);
  report.tokens = batch.tokens();
  std::vector<double> loss_sum(jobs_.size(), 0.0);
  std::vector<bool> alive(jobs_.size(), true);
  try {
    ModelStep ms(backend_, model_, batch, recompute_);
    ms.forward();
    std::vector<float> row_weight(batch.tokens(), 0.0f);
    for (size_t s = 0; s < jobs_.size(); ++s) {
      const JobSegment& seg = batch.segments[s];
      for (int t = seg.row_begin; t < seg.row_end; ++t) loss_sum[s] += ms.row_loss()[t];
      if (!std::isfinite(loss_sum[s])) {
        alive[s] = false;  // its rows get weight 0, so its NaNs never reach any gradient
        continue;
      }
      const int64_t n = jobs_[s]->step_targets();
      for (int t = seg.row_begin; t < seg.row_end; ++t) {
        if (batch.targets[t] >= 0 && n > 0) row_weight[t] = 1.0f / static_cast<float>(n);
      }
    }
    ms.backward(row_weight);
  } catch (const std::bad_alloc&) {
    // Drop the job with the largest micro-batch; the others redo their current optimizer step.
    size_t biggest = 0;
    for (size_t s = 1; s < jobs_.size(); ++s) {
      const auto& a = batch.segments[s];
      const auto& b = batch.segments[biggest];
      if (a.row_end - a.row_begin > b.row_end - b.row_begin) biggest = s;
    }
    const std::string id = jobs_[biggest]->id();
    for (auto& j : jobs_) j->restart_step();
    fail(id, make_error(ErrorCode::kOutOfMemory, "out of memory in a fused step of " + std::to_string(batch.tokens()) +
                                                     " tokens"), report);
    return report;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Collect ids first: finishing or failing a job removes it from jobs_.
  std::vector<std::pair<std::string, size_t>> order;
  for (size_t s = 0; s < jobs_.size(); ++s) order.emplace_back(jobs_[s]->id(), s);
  std::vector<StepEvent> stepped;  // jobs that completed an optimizer step
  for (const auto& [id, s] : order) {
    const JobSegment& seg = batch.segments[s];
    Job* job = find(id);
    if (!alive[s]) {
      fail(id, make_error(ErrorCode::kDiverged, "loss is not finite at step " + std::to_string(job->step() + 1)), report);
      continue;
    }
    if (!job->finish_micro_batch(loss_sum[s], seg.row_end - seg.row_begin, report.seconds)) continue;
    auto metrics = job->optimizer_step(backend_);
    if (!metrics.ok()) fail(id, metrics.status(), report);
    else stepped.push_back({id, metrics.value()});
  }
  evaluate(stepped, report);
  for (const auto& e : stepped) after_optimizer_step(e, report);
  return report;
}

Status Engine::dump(const std::string& out_dir) {
  std::vector<ValidationInput> inputs;
  for (auto& j : jobs_) {
    if (j->has_validation()) inputs.push_back({&j->adapter(), &j->validation_data(), j->spec().micro_batch_size, j->validation_targets()});
  }
  const std::vector<double> val_losses = validation_losses(backend_, model_, inputs);
  FusedBatch batch;
  for (auto& j : jobs_) j->add_micro_batch(batch);
  ModelStep ms(backend_, model_, batch, recompute_);
  ms.forward();
  std::vector<float> row_weight(batch.tokens(), 0.0f);
  std::vector<std::vector<float>> logits;
  std::vector<float> losses;
  for (size_t s = 0; s < jobs_.size(); ++s) {
    const JobSegment& seg = batch.segments[s];
    const int64_t n = jobs_[s]->step_targets();
    double sum = 0.0;
    for (int t = seg.row_begin; t < seg.row_end; ++t) {
      sum += ms.row_loss()[t];
      if (batch.targets[t] >= 0 && n > 0) row_weight[t] = 1.0f / static_cast<float>(n);
    }
    losses.push_back(n > 0 ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f);
    logits.push_back(ms.logits(seg.row_begin, seg.row_end));
  }
  ms.backward(row_weight);
  size_t evaluated = 0;
  for (size_t s = 0; s < jobs_.size(); ++s) {
    Job& job = *jobs_[s];
    const JobSegment& seg = batch.segments[s];
    std::vector<std::vector<float>> host;
    host.reserve(2 * job.adapter().modules().size());
    const float n_targets = static_cast<float>(job.step_targets());
    std::vector<TensorToWrite> tensors{
        {"loss", {1}, &losses[s]},
        {"logits", {seg.row_end - seg.row_begin, model_.config.vocab_size}, logits[s].data()},
        {"n_targets", {1}, &n_targets}};
    const float val_loss = job.has_validation() ? static_cast<float>(val_losses[evaluated++]) : 0.0f;
    if (job.has_validation()) tensors.push_back({"val_loss", {1}, &val_loss});
    const int64_t r = job.adapter().config().r;
    for (auto& m : job.adapter().modules()) {
      for (char which : {'A', 'B'}) {
        const LoraParam& p = m.param(which);
        host.emplace_back(p.numel());
        backend_.copy_to_host(host.back().data(), p.grad.data(), p.numel());
        tensors.push_back({"grad." + peft_key(m.layer, m.proj, which), m.shape(which, r), host.back().data()});
      }
    }
    GROVE_RETURN_IF_ERROR(write_safetensors(out_dir + "/" + job.id() + ".safetensors", tensors));
  }
  return Status();
}

}  // namespace grove
