// Co-training must not change any job's result: three different jobs trained fused in one engine give the same
// per-step losses, grad norms and final adapters as each job trained alone, and the same first-step LoRA
// gradients (engine dump). The only difference between the runs is the row count of the base GEMMs, which may
// change BLAS blocking and so the rounding of each dot product (~1e-7 relative). Tolerances (normalised error):
// kTol = 1e-5 for losses, grad norms and gradients (fp32 with ~100x room); kWeightTol = 1e-4 for trained adapter
// weights, because AdamW divides each gradient element by its running RMS: an element whose gradient is near zero
// turns a ~1e-7 absolute rounding difference into a much larger relative change of its update.
#include <gtest/gtest.h>

#include <fstream>

#include "grove/engine.h"
#include "grove/safetensors.h"
#include "test_util.h"

namespace grove {
namespace {

constexpr double kTol = 1e-5;
constexpr double kWeightTol = 1e-4;

std::vector<JobSpec> three_jobs(const test::TempDir& dir, const std::string& out) {
  std::vector<JobSpec> jobs;
  JobSpec a = test::job_spec("a", dir / "a.gtok", dir / (out + "/a"));
  a.steps = 4;
  a.schedule = {ScheduleType::kCosine, 1};
  JobSpec b = test::job_spec("b", dir / "b.gtok", dir / (out + "/b"));
  b.lora.r = 2;
  b.lora.target_modules = {"k_proj", "down_proj"};
  b.lora.dropout = 0.2;  // counter-based masks: the same in fused and alone runs
  b.lora.use_rslora = true;
  b.grad_accum = 2;
  b.micro_batch_size = 1;
  b.shuffle = true;
  b.seed = 7;
  b.steps = 3;
  b.schedule = {ScheduleType::kLinear, 1};
  JobSpec c = test::job_spec("c", dir / "c.gtok", dir / (out + "/c"));
  c.micro_batch_size = 3;
  c.steps = 2;
  c.optimizer.max_grad_norm = 0.0;
  c.optimizer.weight_decay = 0.1;
  return {a, b, c};
}

std::vector<nlohmann::json> read_metrics(const std::string& dir) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(dir + "/metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

void train_all(const test::TempDir& dir, const std::vector<JobSpec>& jobs) {
  auto backend = make_cpu_backend(2);
  auto model = load_model(dir / "model", *backend);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  Engine engine(*backend, model.value());
  for (const auto& j : jobs) ASSERT_TRUE(engine.add_job(j).ok());
  size_t finished = 0;
  while (engine.has_jobs()) {
    StepReport r = engine.step();
    EXPECT_TRUE(r.failed.empty());
    finished += r.finished.size();
  }
  EXPECT_EQ(finished, jobs.size());
}

void dump_all(const test::TempDir& dir, const std::vector<JobSpec>& jobs, const std::string& out) {
  auto backend = make_cpu_backend(2);
  auto model = load_model(dir / "model", *backend);
  ASSERT_TRUE(model.ok());
  Engine engine(*backend, model.value());
  for (auto j : jobs) {
    j.output_dir = dir / (out + "/" + j.id);
    j.checkpoint_dir = j.output_dir + "/checkpoint";
    ASSERT_TRUE(engine.add_job(j).ok());
  }
  ASSERT_TRUE(engine.dump(dir / out).ok());
}

TEST(FusedVsAlone, SameLossesGradientsAndAdapters) {
  test::TempDir dir;
  test::write_model(test::tiny_llama_config(), dir / "model");
  test::write_tokens(test::random_tokens(5, 4, 9, 40, 1), dir / "a.gtok");
  test::write_tokens(test::random_tokens(4, 3, 12, 40, 2), dir / "b.gtok");
  test::write_tokens(test::random_tokens(7, 5, 6, 40, 3), dir / "c.gtok");

  const auto fused = three_jobs(dir, "fused");
  train_all(dir, fused);
  dump_all(dir, fused, "fused-dump");
  const auto alone = three_jobs(dir, "alone");
  for (const auto& job : alone) {
    train_all(dir, {job});
    dump_all(dir, {job}, "alone-dump");
  }
  for (size_t j = 0; j < fused.size(); ++j) {
    const std::string id = fused[j].id;
    auto mf = read_metrics(fused[j].output_dir), ma = read_metrics(alone[j].output_dir);
    ASSERT_EQ(mf.size(), static_cast<size_t>(fused[j].steps)) << id;
    ASSERT_EQ(mf.size(), ma.size()) << id;
    for (size_t s = 0; s < mf.size(); ++s) {
      EXPECT_NEAR(mf[s]["loss"].get<double>(), ma[s]["loss"].get<double>(), kTol * ma[s]["loss"].get<double>()) << id;
      EXPECT_NEAR(mf[s]["grad_norm"].get<double>(), ma[s]["grad_norm"].get<double>(),
                  kTol * ma[s]["grad_norm"].get<double>()) << id;
      EXPECT_EQ(mf[s]["lr"], ma[s]["lr"]) << id;
    }
    auto af = SafetensorsFile::open(fused[j].output_dir + "/adapter_model.safetensors");
    ASSERT_TRUE(af.ok());
    size_t compared = 0;
    for (const auto& [name, info] : af.value().tensors()) {
      auto a = test::read_tensor(fused[j].output_dir + "/adapter_model.safetensors", name);
      auto b = test::read_tensor(alone[j].output_dir + "/adapter_model.safetensors", name);
      EXPECT_LT(test::normalised_error(a, b), kWeightTol) << id << " " << name;
      auto ga = test::read_tensor(dir / ("fused-dump/" + id + ".safetensors"), "grad." + name);
      auto gb = test::read_tensor(dir / ("alone-dump/" + id + ".safetensors"), "grad." + name);
      EXPECT_LT(test::normalised_error(ga, gb), kTol) << id << " grad." << name;
      ++compared;
    }
    EXPECT_EQ(compared, 2 * fused[j].lora.target_modules.size() * 2) << id;  // A and B, 2 layers
    auto lf = test::read_tensor(dir / ("fused-dump/" + id + ".safetensors"), "loss");
    auto la = test::read_tensor(dir / ("alone-dump/" + id + ".safetensors"), "loss");
    EXPECT_LT(test::normalised_error(lf, la), kTol) << id;
  }
}

}  // namespace
}  // namespace grove
