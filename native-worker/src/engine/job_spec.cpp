#include "grove/job_spec.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "grove/file_util.h"

namespace grove {

using nlohmann::json;

float LoraConfig::scale() const {
  return static_cast<float>(use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / r);
}

namespace {

Status bad(const std::string& field, const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument, "'" + field + "' " + why);
}

template <typename T>
Status read_number(const json& obj, const char* key, const std::string& path, T* out) {
  if (!obj.contains(key)) return Status();
  if (!obj[key].is_number()) return bad(path + key, "must be a number");
  *out = obj[key].get<T>();
  return Status();
}

Status read_string(const json& obj, const char* key, const std::string& path, std::string* out, bool required) {
  if (!obj.contains(key) || obj[key].is_null()) {
    return required ? bad(path + key, "is required") : Status();
  }
  if (!obj[key].is_string()) return bad(path + key, "must be a string");
  *out = obj[key].get<std::string>();
  return Status();
}

Status read_bool(const json& obj, const char* key, const std::string& path, bool* out) {
  if (!obj.contains(key)) return Status();
  if (!obj[key].is_boolean()) return bad(path + key, "must be true or false");
  *out = obj[key].get<bool>();
  return Status();
}

Status parse_lora(const json& j, LoraConfig* lora) {
  if (!j.is_object()) return bad("lora", "must be an object");
  GROVE_RETURN_IF_ERROR(read_number(j, "r", "lora.", &lora->r));
  lora->alpha = lora->r;  // PEFT's lora_alpha defaults to 8 with r 8; alpha = r keeps scale 1 for other ranks
  GROVE_RETURN_IF_ERROR(read_number(j, "alpha", "lora.", &lora->alpha));
  GROVE_RETURN_IF_ERROR(read_number(j, "dropout", "lora.", &lora->dropout));
  GROVE_RETURN_IF_ERROR(read_bool(j, "use_rslora", "lora.", &lora->use_rslora));
  if (lora->r <= 0) return bad("lora.r", "must be positive");
  if (lora->dropout < 0.0 || lora->dropout >= 1.0) return bad("lora.dropout", "must be in [0, 1)");
  if (j.contains("target_modules")) {
    if (!j["target_modules"].is_array() || j["target_modules"].empty()) {
      return bad("lora.target_modules", "must be a non-empty array of module names");
    }
    lora->target_modules.clear();
    std::set<std::string> seen;
    for (const auto& m : j["target_modules"]) {
      Proj p;
      if (!m.is_string() || !parse_proj(m.get<std::string>(), &p)) {
        return bad("lora.target_modules", "has unknown module " + m.dump() +
                                              " (allowed: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj)");
      }
      if (seen.insert(m.get<std::string>()).second) lora->target_modules.push_back(m.get<std::string>());
    }
  }
  return Status();
}

Status parse_optimizer(const json& j, OptimizerConfig* opt) {
  if (!j.is_object()) return bad("optimizer", "must be an object");
  GROVE_RETURN_IF_ERROR(read_number(j, "lr", "optimizer.", &opt->lr));
  GROVE_RETURN_IF_ERROR(read_number(j, "eps", "optimizer.", &opt->eps));
  GROVE_RETURN_IF_ERROR(read_number(j, "weight_decay", "optimizer.", &opt->weight_decay));
  GROVE_RETURN_IF_ERROR(read_number(j, "max_grad_norm", "optimizer.", &opt->max_grad_norm));
  if (j.contains("betas")) {
    if (!j["betas"].is_array() || j["betas"].size() != 2 || !j["betas"][0].is_number() || !j["betas"][1].is_number()) {
      return bad("optimizer.betas", "must be an array of two numbers");
    }
    opt->beta1 = j["betas"][0].get<double>();
    opt->beta2 = j["betas"][1].get<double>();
  }
  if (opt->lr < 0 || opt->beta1 < 0 || opt->beta1 >= 1 || opt->beta2 < 0 || opt->beta2 >= 1 || opt->eps <= 0) {
    return bad("optimizer", "needs lr >= 0, betas in [0, 1) and eps > 0");
  }
  return Status();
}

Status parse_schedule(const json& j, ScheduleConfig* schedule) {
  if (!j.is_object()) return bad("schedule", "must be an object");
  std::string type = "constant";
  GROVE_RETURN_IF_ERROR(read_string(j, "type", "schedule.", &type, false));
  if (type == "constant") schedule->type = ScheduleType::kConstant;
  else if (type == "linear") schedule->type = ScheduleType::kLinear;
  else if (type == "cosine") schedule->type = ScheduleType::kCosine;
  else return bad("schedule.type", "is '" + type + "' (allowed: constant, linear, cosine)");
  GROVE_RETURN_IF_ERROR(read_number(j, "warmup_steps", "schedule.", &schedule->warmup_steps));
  if (schedule->warmup_steps < 0) return bad("schedule.warmup_steps", "must be >= 0");
  return Status();
}

Status parse_early_stopping(const json& j, EarlyStoppingRule* rule) {
  if (!j.is_object()) return bad("validation.early_stopping", "must be an object");
  if (!j.contains("patience")) return bad("validation.early_stopping.patience", "is required");
  GROVE_RETURN_IF_ERROR(read_number(j, "patience", "validation.early_stopping.", &rule->patience));
  GROVE_RETURN_IF_ERROR(read_number(j, "min_delta", "validation.early_stopping.", &rule->min_delta));
  if (rule->patience < 1) return bad("validation.early_stopping.patience", "must be >= 1");
  if (!(rule->min_delta >= 0.0) || !std::isfinite(rule->min_delta)) {
    return bad("validation.early_stopping.min_delta", "must be a finite number >= 0");
  }
  return Status();
}

Status parse_validation(const json& j, int64_t steps, ValidationConfig* v) {
  if (!j.is_object()) return bad("validation", "must be an object");
  GROVE_RETURN_IF_ERROR(read_string(j, "tokens", "validation.", &v->tokens, true));
  if (v->tokens.empty()) return bad("validation.tokens", "must not be empty");
  GROVE_RETURN_IF_ERROR(read_number(j, "eval_every", "validation.", &v->eval_every));
  if (j.contains("eval_every") && v->eval_every < 1) return bad("validation.eval_every", "must be >= 1");
  if (!j.contains("eval_every")) v->eval_every = default_eval_every(steps);
  if (j.contains("early_stopping") && !j["early_stopping"].is_null()) {
    GROVE_RETURN_IF_ERROR(parse_early_stopping(j["early_stopping"], &v->early_stopping));
  }
  return Status();
}

}  // namespace

int64_t default_eval_every(int64_t steps) { return std::max<int64_t>(1, std::llround(static_cast<double>(steps) / 10.0)); }

StatusOr<JobSpec> parse_job_spec(const json& j) {
  if (!j.is_object()) return bad("job", "must be an object");
  JobSpec s;
  GROVE_RETURN_IF_ERROR(read_string(j, "id", "", &s.id, true));
  auto ctx = [&](const Status& st) { return st.with_context("job '" + s.id + "'"); };
  if (s.id.empty()) return bad("id", "must not be empty");
  Status st;
  if (!(st = read_string(j, "tokens", "", &s.tokens, true)).ok()) return ctx(st);
  if (!(st = read_string(j, "init_adapter", "", &s.init_adapter, false)).ok()) return ctx(st);
  if (!(st = read_string(j, "output_dir", "", &s.output_dir, false)).ok()) return ctx(st);
  if (!(st = read_string(j, "checkpoint_dir", "", &s.checkpoint_dir, false)).ok()) return ctx(st);
  if (s.checkpoint_dir.empty() && !s.output_dir.empty()) s.checkpoint_dir = s.output_dir + "/checkpoint";
  if (j.contains("lora") && !(st = parse_lora(j["lora"], &s.lora)).ok()) return ctx(st);
  if (j.contains("optimizer") && !(st = parse_optimizer(j["optimizer"], &s.optimizer)).ok()) return ctx(st);
  if (j.contains("schedule") && !(st = parse_schedule(j["schedule"], &s.schedule)).ok()) return ctx(st);
  if (!(st = read_number(j, "steps", "", &s.steps)).ok()) return ctx(st);
  if (!(st = read_number(j, "micro_batch_size", "", &s.micro_batch_size)).ok()) return ctx(st);
  if (!(st = read_number(j, "grad_accum", "", &s.grad_accum)).ok()) return ctx(st);
  if (!(st = read_number(j, "seed", "", &s.seed)).ok()) return ctx(st);
  if (!(st = read_number(j, "checkpoint_every", "", &s.checkpoint_every)).ok()) return ctx(st);
  if (!(st = read_bool(j, "shuffle", "", &s.shuffle)).ok()) return ctx(st);
  if (!j.contains("steps")) return ctx(bad("steps", "is required"));
  if (s.steps <= 0) return ctx(bad("steps", "must be positive"));
  if (s.micro_batch_size <= 0) return ctx(bad("micro_batch_size", "must be positive"));
  if (s.grad_accum <= 0) return ctx(bad("grad_accum", "must be positive"));
  if (s.checkpoint_every < 0) return ctx(bad("checkpoint_every", "must be >= 0"));
  if (j.contains("validation") && !j["validation"].is_null() &&
      !(st = parse_validation(j["validation"], s.steps, &s.validation)).ok()) {
    return ctx(st);
  }
  return s;
}

StatusOr<TrainSpec> parse_train_spec(const json& j) {
  if (!j.is_object()) return bad("spec", "must be a JSON object");
  TrainSpec spec;
  GROVE_RETURN_IF_ERROR(read_string(j, "model", "", &spec.model, true));
  GROVE_RETURN_IF_ERROR(read_string(j, "backend", "", &spec.backend, false));
  if (spec.backend != "cpu" && spec.backend != "cuda") return bad("backend", "must be \"cpu\" or \"cuda\"");
  GROVE_RETURN_IF_ERROR(read_number(j, "device", "", &spec.device));
  std::string recompute = "none";
  GROVE_RETURN_IF_ERROR(read_string(j, "recompute", "", &recompute, false));
  if (!parse_recompute(recompute, &spec.recompute)) return bad("recompute", "must be \"none\", \"norms\" or \"mlp\"");
  if (spec.device < 0) return bad("device", "must be >= 0");
  GROVE_RETURN_IF_ERROR(read_number(j, "threads", "", &spec.threads));
  if (spec.threads <= 0) return bad("threads", "must be positive");
  GROVE_RETURN_IF_ERROR(read_number(j, "memory_limit", "", &spec.memory_limit));
  if (!j.contains("jobs") || !j["jobs"].is_array() || j["jobs"].empty()) return bad("jobs", "must be a non-empty array");
  std::set<std::string> ids;
  for (const auto& jj : j["jobs"]) {
    JobSpec job;
    GROVE_ASSIGN_OR_RETURN(job, parse_job_spec(jj));
    if (!ids.insert(job.id).second) return bad("jobs", "has the id '" + job.id + "' twice");
    spec.jobs.push_back(std::move(job));
  }
  return spec;
}

StatusOr<TrainSpec> load_train_spec(const std::string& path) {
  std::string text;
  GROVE_ASSIGN_OR_RETURN(text, read_text_file(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::kInvalidArgument, path + ": not valid JSON");
  auto spec = parse_train_spec(j);
  if (!spec.ok()) return spec.status().with_context(path);
  return spec;
}

double lr_factor(const ScheduleConfig& schedule, int64_t total_steps, int64_t k) {
  const double warmup = static_cast<double>(schedule.warmup_steps);
  if (k < schedule.warmup_steps) return static_cast<double>(k) / std::max(1.0, warmup);
  switch (schedule.type) {
    case ScheduleType::kConstant:
      return 1.0;
    case ScheduleType::kLinear:
      return std::max(0.0, static_cast<double>(total_steps - k) / std::max(1.0, static_cast<double>(total_steps) - warmup));
    case ScheduleType::kCosine: {
      const double progress = (static_cast<double>(k) - warmup) / std::max(1.0, static_cast<double>(total_steps) - warmup);
      return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * 0.5 * 2.0 * progress)));
    }
  }
  return 1.0;
}

}  // namespace grove
