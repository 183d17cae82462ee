// A whole training step on the CUDA backend against the CPU backend (fp32 reference), through the real engine:
// three co-trained jobs (different ranks, targets, dropout, rsLoRA, micro-batch sizes) starting from trained,
// non-zero adapters, so every LoRA A and B has a gradient. Engine::dump gives each job's loss, logits and LoRA
// gradients; the CUDA run must match the CPU run within bf16 tolerances, fused must equal alone on the CUDA
// backend, and nothing may be NaN/Inf. A few optimizer steps then show training follows the CPU's losses.
//
// Tolerances (normalised error max|a-b| / max|b|), all set by bf16: base weights and activations carry 8-bit
// mantissas, so each op rounds at ~2^-9 relative and the two layers' ~40 ops in forward and backward compound.
// Measured under the emulator: loss 4e-5, logits 5e-3, LoRA gradients 1.6e-2 (printed by the first test).
// - kLossTol 2e-3: a job's mean token loss averages the rows' errors out.
// - kTrainLossTol 1e-2: per-step losses after AdamW steps, whose updates carry the gradients' error forward.
// - kLogitsTol 3e-2 and kGradTol 6e-2: single elements see the compounded rounding.
// - kFusedTol 2e-2: fused and alone differ only in the base GEMMs' row count, which may change cuBLAS's algorithm
//   and so the bf16 rounding of some outputs (the emulator gives 0).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "grove/cuda_backend.h"
#include "grove/engine.h"
#include "grove/safetensors.h"
#include "test_util.h"

namespace grove {
namespace {

constexpr double kLossTol = 2e-3;
constexpr double kTrainLossTol = 1e-2;
constexpr double kLogitsTol = 3e-2;
constexpr double kGradTol = 6e-2;
constexpr double kFusedTol = 2e-2;

std::unique_ptr<Backend> backend_named(const std::string& name) {
  if (name == "cpu") return make_cpu_backend(2);
  auto made = make_cuda_backend(0);
  if (!made.ok()) throw std::runtime_error(made.status().to_string());
  return std::move(made).value();
}

std::vector<JobSpec> three_jobs(const test::TempDir& dir, const std::string& out) {
  JobSpec a = test::job_spec("a", dir / "a.gtok", dir / (out + "/a"));
  JobSpec b = test::job_spec("b", dir / "b.gtok", dir / (out + "/b"));
  b.lora.r = 2;
  b.lora.target_modules = {"k_proj", "down_proj"};
  b.lora.dropout = 0.2;
  b.lora.use_rslora = true;
  b.micro_batch_size = 1;
  b.seed = 7;
  JobSpec c = test::job_spec("c", dir / "c.gtok", dir / (out + "/c"));
  c.micro_batch_size = 3;
  return {a, b, c};
}

// Trains the jobs on `backend_name` to completion; returns every job's per-step losses.
std::vector<std::vector<double>> train(const test::TempDir& dir, const std::string& backend_name,
                                       const std::vector<JobSpec>& jobs) {
  auto backend = backend_named(backend_name);
  auto model = load_model(dir / "model", *backend);
  if (!model.ok()) throw std::runtime_error(model.status().to_string());
  Engine engine(*backend, model.value());
  for (const auto& j : jobs) EXPECT_TRUE(engine.add_job(j).ok());
  std::vector<std::vector<double>> losses(jobs.size());
  while (engine.has_jobs()) {
    StepReport r = engine.step();
    EXPECT_TRUE(r.failed.empty()) << (r.failed.empty() ? "" : r.failed[0].message);
    for (const auto& e : r.steps) {
      for (size_t j = 0; j < jobs.size(); ++j)
        if (jobs[j].id == e.job_id) losses[j].push_back(e.metrics.loss);
    }
  }
  return losses;
}

void dump(const test::TempDir& dir, const std::string& backend_name, std::vector<JobSpec> jobs, const std::string& out) {
  auto backend = backend_named(backend_name);
  auto model = load_model(dir / "model", *backend);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  Engine engine(*backend, model.value());
  for (auto& j : jobs) {
    j.init_adapter = dir / ("init/" + j.id);
    j.output_dir = dir / (out + "/" + j.id);
    j.checkpoint_dir = j.output_dir + "/checkpoint";
    ASSERT_TRUE(engine.add_job(j).ok());
  }
  ASSERT_TRUE(engine.dump(dir / out).ok());
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// The engine tests' tiny Llama widened to head_dim 16, the smallest the attention kernels take.
nlohmann::json model_config() {
  nlohmann::json c = test::tiny_llama_config();
  c["hidden_size"] = 64;
  c["intermediate_size"] = 96;
  return c;
}

class CudaTrainingStep : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_model(model_config(), dir / "model");
    test::write_tokens(test::random_tokens(5, 4, 9, 40, 1), dir / "a.gtok");
    test::write_tokens(test::random_tokens(4, 3, 12, 40, 2), dir / "b.gtok");
    test::write_tokens(test::random_tokens(7, 5, 6, 40, 3), dir / "c.gtok");
    // Trained adapters to start from: B != 0, so A has gradients too.
    train(dir, "cpu", three_jobs(dir, "init"));
  }
  test::TempDir dir;
};

TEST_F(CudaTrainingStep, LossLogitsAndGradientsMatchTheCpuBackend) {
  const auto jobs = three_jobs(dir, "unused");
  dump(dir, "cpu", jobs, "cpu");
  dump(dir, "cuda", jobs, "cuda");
  double worst_loss = 0, worst_logits = 0, worst_grad = 0;
  for (const auto& job : jobs) {
    const std::string cpu = dir / ("cpu/" + job.id + ".safetensors"), gpu = dir / ("cuda/" + job.id + ".safetensors");
    const auto loss_cpu = test::read_tensor(cpu, "loss"), loss_gpu = test::read_tensor(gpu, "loss");
    EXPECT_NEAR(loss_gpu[0], loss_cpu[0], kLossTol * loss_cpu[0]) << job.id;
    worst_loss = std::max(worst_loss, static_cast<double>(std::fabs(loss_gpu[0] - loss_cpu[0]) / loss_cpu[0]));
    const auto logits_gpu = test::read_tensor(gpu, "logits");
    EXPECT_TRUE(all_finite(logits_gpu)) << job.id;
    const double logits_err = test::normalised_error(logits_gpu, test::read_tensor(cpu, "logits"));
    EXPECT_LT(logits_err, kLogitsTol) << job.id;
    worst_logits = std::max(worst_logits, logits_err);
    auto names = SafetensorsFile::open(cpu);
    ASSERT_TRUE(names.ok());
    size_t grads = 0;
    for (const auto& [name, info] : names.value().tensors()) {
      if (name.rfind("grad.", 0) != 0) continue;
      const auto g = test::read_tensor(gpu, name);
      EXPECT_TRUE(all_finite(g)) << job.id << " " << name;
      const double err = test::normalised_error(g, test::read_tensor(cpu, name));
      EXPECT_LT(err, kGradTol) << job.id << " " << name;
      worst_grad = std::max(worst_grad, err);
      ++grads;
    }
    EXPECT_EQ(grads, 2 * job.lora.target_modules.size() * 2) << job.id;  // A and B, 2 layers
  }
  std::printf("worst normalised error vs CPU: loss %.2e, logits %.2e, LoRA gradients %.2e\n", worst_loss,
              worst_logits, worst_grad);
}

TEST_F(CudaTrainingStep, FusedEqualsAloneOnTheCudaBackend) {
  const auto jobs = three_jobs(dir, "unused");
  dump(dir, "cuda", jobs, "fused");
  for (const auto& job : jobs) dump(dir, "cuda", {job}, "alone");
  for (const auto& job : jobs) {
    const std::string f = dir / ("fused/" + job.id + ".safetensors"), a = dir / ("alone/" + job.id + ".safetensors");
    EXPECT_LT(test::normalised_error(test::read_tensor(f, "logits"), test::read_tensor(a, "logits")), kFusedTol);
    auto names = SafetensorsFile::open(f);
    ASSERT_TRUE(names.ok());
    for (const auto& [name, info] : names.value().tensors()) {
      if (name.rfind("grad.", 0) != 0) continue;
      EXPECT_LT(test::normalised_error(test::read_tensor(f, name), test::read_tensor(a, name)), kFusedTol)
          << job.id << " " << name;
    }
  }
}

TEST_F(CudaTrainingStep, TrainingFollowsTheCpuLosses) {
  const auto cpu = train(dir, "cpu", three_jobs(dir, "train-cpu"));
  const auto gpu = train(dir, "cuda", three_jobs(dir, "train-cuda"));
  ASSERT_EQ(cpu.size(), gpu.size());
  for (size_t j = 0; j < cpu.size(); ++j) {
    ASSERT_EQ(gpu[j].size(), cpu[j].size());
    for (size_t s = 0; s < cpu[j].size(); ++s) {
      EXPECT_TRUE(std::isfinite(gpu[j][s]));
      EXPECT_NEAR(gpu[j][s], cpu[j][s], kTrainLossTol * cpu[j][s]) << "job " << j << " step " << s;
    }
  }
}

}  // namespace
}  // namespace grove
