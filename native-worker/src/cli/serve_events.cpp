#include "cli/serve_events.h"

namespace grove::cli {

namespace {
nlohmann::ordered_json by_category(const std::array<size_t, kMemoryCategoryCount>& bytes, size_t total) {
  nlohmann::ordered_json j;
  j["base_weights"] = bytes[static_cast<int>(MemoryCategory::kBaseWeights)];
  j["activations"] = bytes[static_cast<int>(MemoryCategory::kActivations)];
  j["adapter_optimizer"] = bytes[static_cast<int>(MemoryCategory::kAdapterOptimizer)];
  j["total"] = total;
  return j;
}
}  // namespace

nlohmann::ordered_json memory_json(const Backend& backend) {
  const MemoryStats stats = backend.memory_stats();
  nlohmann::ordered_json j;
  j["current"] = by_category(stats.current, stats.current_total);
  j["peak"] = by_category(stats.peak, stats.peak_total);
  if (const auto device = backend.device_used_bytes()) j["device_used_bytes"] = *device;
  return j;
}

nlohmann::ordered_json step_event(const StepEvent& e, const nlohmann::ordered_json& memory) {
  nlohmann::ordered_json j;
  j["event"] = "step";
  j["id"] = e.job_id;
  j["step"] = e.metrics.step;
  j["loss"] = e.metrics.loss;
  j["lr"] = e.metrics.lr;
  j["tokens"] = e.metrics.tokens;
  j["tokens_per_s"] = e.metrics.tokens_per_s;
  j["grad_norm"] = e.metrics.grad_norm;
  if (e.metrics.val_loss) j["val_loss"] = *e.metrics.val_loss;  // non-finite: null
  j["memory"] = memory;
  return j;
}

nlohmann::ordered_json job_finished_event(const JobFinished& f) {
  nlohmann::ordered_json j{{"event", "job_finished"}, {"id", f.job_id}, {"output_dir", f.output_dir}};
  j["early_stopped"] = f.early_stopped;
  j["best_step"] = f.best_step ? nlohmann::ordered_json(*f.best_step) : nullptr;
  j["best_val_loss"] = f.best_val_loss ? nlohmann::ordered_json(*f.best_val_loss) : nullptr;
  return j;
}

nlohmann::ordered_json job_failed_event(const std::string& id, FailureReason reason, const std::string& message) {
  return {{"event", "job_failed"}, {"id", id}, {"reason", failure_reason_name(reason)}, {"message", message}};
}

nlohmann::ordered_json checkpointed_event(const Checkpointed& c) {
  return {{"event", "checkpointed"}, {"id", c.job_id}, {"step", c.step}, {"dir", c.dir}};
}

nlohmann::ordered_json error_event(const std::string& cmd, const std::string& message) {
  return {{"event", "error"}, {"cmd", cmd}, {"message", message}};
}

}  // namespace grove::cli
