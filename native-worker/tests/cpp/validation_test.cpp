// Validation loss and early stopping. The loss the engine evaluates equals a direct computation (a `dump` of the
// same adapter with the validation set as its one micro-batch, dropout off); co-trained jobs evaluate as they do
// alone; evaluations fall on every eval_every-th step and the last. With a validation set unlike the training set and
// a high learning rate the validation curve rises: early stopping fires at the evaluation checkEarlyStopping's rule
// names, and the adapter written is the one of the best evaluation (byte-identical to a run stopped at that step).
// A checkpoint taken between the best evaluation and the stop resumes to exactly the uninterrupted result.
// Tolerance kTol = 1e-5 (normalised): the same sums batched differently differ by fp32 GEMM rounding (~1e-7).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "grove/engine.h"
#include "test_util.h"

namespace grove {
namespace {

constexpr double kTol = 1e-5;

struct TrainResult {
  std::vector<nlohmann::json> metrics;
  std::vector<JobFinished> finished;
};

std::vector<nlohmann::json> read_metrics(const std::string& dir) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

class Validation : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = test::tiny_llama_config();
    config["hidden_size"] = 32;
    config["intermediate_size"] = 64;
    test::write_model(config, dir_ / "model");
    test::write_tokens(test::random_tokens(8, 8, 20, 40, 1), dir_ / "train.gtok");
    test::write_tokens(test::random_tokens(6, 8, 20, 40, 2), dir_ / "val.gtok");
    test::write_tokens(test::random_tokens(5, 6, 16, 40, 3), dir_ / "val2.gtok");
  }

  JobSpec job(const std::string& id, const std::string& out) const {
    JobSpec s = test::job_spec(id, dir_ / "train.gtok", dir_ / out);
    s.validation.tokens = dir_ / "val.gtok";
    s.validation.eval_every = 1;
    return s;
  }

  // An early-stopping job whose validation curve rises: lr 1e-2 overfits 8 random examples within ~10 steps.
  JobSpec stopping_job(const std::string& out) const {
    JobSpec s = job("es", out);
    s.steps = 40;
    s.validation.eval_every = 2;
    s.validation.early_stopping = {2, 0.0};
    return s;
  }

  TrainResult train(const std::vector<JobSpec>& jobs) const {
    auto backend = make_cpu_backend(2);
    auto model = load_model(dir_ / "model", *backend);
    EXPECT_TRUE(model.ok()) << model.status().to_string();
    Engine engine(*backend, model.value());
    for (const auto& j : jobs) EXPECT_TRUE(engine.add_job(j).ok());
    TrainResult run;
    while (engine.has_jobs()) {
      StepReport r = engine.step();
      EXPECT_TRUE(r.failed.empty()) << r.failed[0].message;
      for (auto& f : r.finished) run.finished.push_back(f);
    }
    if (jobs.size() == 1) run.metrics = read_metrics(jobs[0].output_dir);
    return run;
  }

  // `loss` of a dump: the job's first micro-batch is the whole validation set, dropout off.
  double direct_loss(const JobSpec& evaluated, const std::string& init_adapter) const {
    JobSpec d = test::job_spec("direct", evaluated.validation.tokens, dir_ / "direct");
    d.lora = evaluated.lora;
    d.lora.dropout = 0.0;
    d.seed = evaluated.seed;
    d.init_adapter = init_adapter;
    d.micro_batch_size = 6;  // all of val.gtok
    return dump_value(d, "loss");
  }

  double dump_value(const JobSpec& spec, const std::string& tensor) const {
    auto backend = make_cpu_backend(2);
    auto model = load_model(dir_ / "model", *backend);
    Engine engine(*backend, model.value());
    EXPECT_TRUE(engine.add_job(spec).ok());
    const std::string out = dir_ / ("dump-" + spec.id);
    std::filesystem::create_directories(out);
    EXPECT_TRUE(engine.dump(out).ok());
    auto values = test::read_tensor(out + "/" + spec.id + ".safetensors", tensor);
    return values.empty() ? NAN : values[0];
  }

  test::TempDir dir_;
};

double rel(double a, double b) { return std::fabs(a - b) / std::max(std::fabs(b), 1e-30); }

std::vector<int64_t> evaluated_steps(const std::vector<nlohmann::json>& metrics) {
  std::vector<int64_t> steps;
  for (const auto& m : metrics) if (m.contains("val_loss")) steps.push_back(m["step"].get<int64_t>());
  return steps;
}

TEST_F(Validation, LossEqualsADirectComputationWithoutDropout) {
  JobSpec a = job("a", "a");
  a.lora.dropout = 0.1;  // training uses it; evaluation must not
  a.steps = 2;
  TrainResult run = train({a});
  ASSERT_EQ(run.metrics.size(), 2u);
  EXPECT_NEAR(rel(run.metrics[1]["val_loss"].get<double>(), direct_loss(a, a.output_dir)), 0.0, kTol);

  // Before any step: dump reports the validation loss of the initial adapter (PEFT default init from the seed).
  JobSpec fresh = job("fresh", "fresh");
  fresh.lora.dropout = 0.1;
  JobSpec init = fresh;
  init.validation = ValidationConfig();
  init.tokens = fresh.validation.tokens;
  init.micro_batch_size = 6;
  init.lora.dropout = 0.0;
  EXPECT_NEAR(rel(dump_value(fresh, "val_loss"), dump_value(init, "loss")), 0.0, kTol);
}

TEST_F(Validation, EvaluatesEveryEvalEveryStepsAndAfterTheLast) {
  JobSpec a = job("a", "a");
  a.steps = 5;
  a.validation.eval_every = 2;
  TrainResult run = train({a});
  EXPECT_EQ(evaluated_steps(run.metrics), (std::vector<int64_t>{2, 4, 5}));
  ASSERT_EQ(run.finished.size(), 1u);
  EXPECT_FALSE(run.finished[0].early_stopped);
  ASSERT_TRUE(run.finished[0].best_step.has_value());
  // The best is the lowest of the three (min_delta 0), and without early stopping the adapter is the last one.
  double best = INFINITY;
  int64_t best_step = 0;
  for (const auto& m : run.metrics) {
    if (m.contains("val_loss") && m["val_loss"].get<double>() < best) {
      best = m["val_loss"].get<double>();
      best_step = m["step"].get<int64_t>();
    }
  }
  EXPECT_EQ(*run.finished[0].best_step, best_step);
  EXPECT_EQ(*run.finished[0].best_val_loss, best);
  EXPECT_NEAR(rel(run.metrics[4]["val_loss"].get<double>(), direct_loss(a, a.output_dir)), 0.0, kTol);
}

TEST_F(Validation, CoTrainedJobsEvaluateAsTheyDoAlone) {
  JobSpec a = job("a", "fused/a");
  a.steps = 4;
  JobSpec b = job("b", "fused/b");
  b.lora.r = 2;
  b.lora.target_modules = {"v_proj", "down_proj"};
  b.micro_batch_size = 3;
  b.steps = 3;
  b.validation.tokens = dir_ / "val2.gtok";
  train({a, b});
  for (JobSpec alone : {a, b}) {
    const auto fused = read_metrics(alone.output_dir);
    alone.output_dir = dir_ / ("alone/" + alone.id);
    alone.checkpoint_dir = alone.output_dir + "/checkpoint";
    const auto solo = train({alone}).metrics;
    ASSERT_EQ(fused.size(), solo.size());
    for (size_t i = 0; i < fused.size(); ++i) {
      EXPECT_NEAR(rel(fused[i]["val_loss"].get<double>(), solo[i]["val_loss"].get<double>()), 0.0, kTol)
          << alone.id << " step " << i + 1;
    }
  }
}

// checkEarlyStopping (libs/scheduler/src/training/early-stopping.ts) over a whole curve: the index of the
// evaluation that stops, or -1.
int stop_index(const std::vector<double>& losses, const EarlyStoppingRule& rule, int* best_index) {
  double best = INFINITY;
  int stale = 0;
  *best_index = -1;
  for (size_t i = 0; i < losses.size(); ++i) {
    if (std::isfinite(losses[i]) && losses[i] < best - rule.min_delta) {
      best = losses[i];
      *best_index = static_cast<int>(i);
      stale = 0;
    } else if (++stale >= rule.patience) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

TEST_F(Validation, EarlyStoppingFiresAtTheRuleAndKeepsTheBestAdapter) {
  JobSpec es = stopping_job("es");
  TrainResult run = train({es});
  ASSERT_EQ(run.finished.size(), 1u);
  const JobFinished& f = run.finished[0];
  EXPECT_TRUE(f.early_stopped);
  ASSERT_LT(run.metrics.size(), static_cast<size_t>(es.steps)) << "the validation curve never rose; make it overfit";

  std::vector<double> losses;
  std::vector<int64_t> steps = evaluated_steps(run.metrics);
  for (const auto& m : run.metrics) if (m.contains("val_loss")) losses.push_back(m["val_loss"].get<double>());
  int best = -1;
  const int stop = stop_index(losses, es.validation.early_stopping, &best);
  ASSERT_EQ(stop, static_cast<int>(losses.size()) - 1) << "the engine stopped at another evaluation than the rule";
  EXPECT_GT(losses.back(), losses[best]) << "a rising curve";
  EXPECT_EQ(run.metrics.back()["step"].get<int64_t>(), steps.back());
  EXPECT_EQ(*f.best_step, steps[best]);
  EXPECT_EQ(*f.best_val_loss, losses[best]);

  // The adapter written is the best evaluation's: the same job stopped by `steps` at that step writes the same bytes
  // (constant lr, so the schedule does not depend on `steps`).
  JobSpec cut = es;
  cut.output_dir = dir_ / "cut";
  cut.checkpoint_dir = cut.output_dir + "/checkpoint";
  cut.validation = ValidationConfig();
  cut.steps = *f.best_step;
  train({cut});
  const std::string best_bytes = test::read_bytes(cut.output_dir + "/adapter_model.safetensors");
  ASSERT_FALSE(best_bytes.empty());
  EXPECT_TRUE(best_bytes == test::read_bytes(es.output_dir + "/adapter_model.safetensors"));
}

TEST_F(Validation, ResumeKeepsTheEarlyStoppingState) {
  JobSpec clean = stopping_job("clean");
  TrainResult reference = train({clean});
  ASSERT_TRUE(reference.finished.at(0).early_stopped);
  // Checkpoint at the evaluation before the stop: past the best, one stale evaluation counted.
  const int64_t at = reference.metrics.back()["step"].get<int64_t>() - clean.validation.eval_every;
  ASSERT_GT(at, *reference.finished[0].best_step);

  JobSpec resumed = stopping_job("resumed");
  {
    auto backend = make_cpu_backend(2);
    auto model = load_model(dir_ / "model", *backend);
    Engine engine(*backend, model.value());
    ASSERT_TRUE(engine.add_job(resumed).ok());
    while (engine.status().at(0).step < at) engine.step();
    auto saved = engine.checkpoint_job("es");
    ASSERT_TRUE(saved.ok() && saved.value());
  }  // the engine and its job are gone: only the checkpoint remains
  std::ifstream in(resumed.checkpoint_dir + "/state.json");
  const auto state = nlohmann::json::parse(in);
  EXPECT_EQ(state["validation"]["stale"], 1);
  EXPECT_EQ(state["validation"]["best_step"], *reference.finished[0].best_step);

  TrainResult run = train({resumed});
  ASSERT_EQ(run.finished.size(), 1u);
  EXPECT_TRUE(run.finished[0].early_stopped);
  EXPECT_EQ(run.finished[0].best_step, reference.finished[0].best_step);
  EXPECT_EQ(run.finished[0].best_val_loss, reference.finished[0].best_val_loss);
  EXPECT_TRUE(test::read_bytes(clean.output_dir + "/adapter_model.safetensors") ==
              test::read_bytes(resumed.output_dir + "/adapter_model.safetensors"));
  EXPECT_EQ(test::read_bytes(clean.output_dir + "/metrics.jsonl"), test::read_bytes(resumed.output_dir + "/metrics.jsonl"));
}

TEST_F(Validation, BadValidationDataFailsTheJobAsADataError) {
  TokenData no_targets;
  no_targets.offsets = {0, 3};
  no_targets.tokens = {1, 2, 3};
  no_targets.mask = {0, 0, 0};
  test::write_tokens(no_targets, dir_ / "empty.gtok");
  auto backend = make_cpu_backend(1);
  auto model = load_model(dir_ / "model", *backend);
  Engine engine(*backend, model.value());
  JobSpec a = job("a", "a");
  a.validation.tokens = dir_ / "empty.gtok";
  Status st = engine.add_job(a);
  EXPECT_EQ(st.code(), ErrorCode::kDataError);
  EXPECT_NE(st.message().find("no target tokens"), std::string::npos) << st.message();
  a.validation.tokens = dir_ / "missing.gtok";
  EXPECT_EQ(engine.add_job(a).code(), ErrorCode::kDataError);
}

}  // namespace
}  // namespace grove
