// A job that fails (NaN/Inf loss, bad data) is stopped and reported alone; the other jobs finish with the same
// adapters they get without it (tolerance 1e-4 for trained weights, as in fused_vs_alone_test).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "grove/engine.h"
#include "grove/file_util.h"
#include "grove/safetensors.h"
#include "test_util.h"

namespace grove {
namespace {

std::map<std::string, JobFailed> run(const test::TempDir& dir, const std::vector<JobSpec>& jobs,
                                     std::vector<Status>* add_status) {
  auto backend = make_cpu_backend(2);
  auto model = load_model(dir / "model", *backend);
  EXPECT_TRUE(model.ok());
  Engine engine(*backend, model.value());
  for (const auto& j : jobs) add_status->push_back(engine.add_job(j));
  std::map<std::string, JobFailed> failed;
  while (engine.has_jobs()) {
    for (auto& f : engine.step().failed) failed.emplace(f.job_id, f);
  }
  return failed;
}

TEST(FailureIsolation, DivergedAndBadDataJobsFailAloneOthersUntouched) {
  test::TempDir dir;
  test::write_model(test::tiny_llama_config(), dir / "model");
  test::write_tokens(test::random_tokens(5, 4, 9, 40, 1), dir / "good.gtok");
  test::write_tokens(test::random_tokens(5, 4, 9, 1000, 2), dir / "bad_ids.gtok");  // ids beyond vocab 40

  JobSpec good = test::job_spec("good", dir / "good.gtok", dir / "with/good");
  good.steps = 4;
  JobSpec diverging = test::job_spec("boom", dir / "good.gtok", dir / "with/boom");
  diverging.optimizer.lr = 1e30;  // the first update makes A ~1e30, so step 2's logits overflow to Inf/NaN
  diverging.optimizer.max_grad_norm = 0.0;
  diverging.optimizer.weight_decay = 0.0;
  diverging.steps = 4;
  JobSpec bad_data = test::job_spec("bad", dir / "bad_ids.gtok", dir / "with/bad");

  std::vector<Status> added;
  auto failed = run(dir, {good, diverging, bad_data}, &added);
  EXPECT_TRUE(added[0].ok());
  EXPECT_TRUE(added[1].ok());
  ASSERT_FALSE(added[2].ok());
  EXPECT_EQ(classify_failure(added[2]), FailureReason::kDataError);
  EXPECT_NE(added[2].message().find("outside the model's vocabulary"), std::string::npos) << added[2].message();
  ASSERT_EQ(failed.count("boom"), 1u);
  EXPECT_EQ(failed.at("boom").reason, FailureReason::kDiverged) << failed.at("boom").message;
  EXPECT_EQ(failed.count("good"), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir / "with/boom/adapter_model.safetensors"));

  JobSpec good_alone = good;
  good_alone.output_dir = dir / "alone/good";
  good_alone.checkpoint_dir = good_alone.output_dir + "/checkpoint";
  std::vector<Status> added_alone;
  EXPECT_TRUE(run(dir, {good_alone}, &added_alone).empty());
  auto st = SafetensorsFile::open(dir / "with/good/adapter_model.safetensors");
  ASSERT_TRUE(st.ok());
  for (const auto& [name, info] : st.value().tensors()) {
    auto a = test::read_tensor(dir / "with/good/adapter_model.safetensors", name);
    auto b = test::read_tensor(dir / "alone/good/adapter_model.safetensors", name);
    EXPECT_LT(test::normalised_error(a, b), 1e-4) << name;
    for (float f : a) ASSERT_TRUE(std::isfinite(f)) << name;
  }
}

TEST(FailureIsolation, NanInitAdapterDivergesAtFirstStep) {
  test::TempDir dir;
  test::write_model(test::tiny_llama_config(), dir / "model");
  test::write_tokens(test::random_tokens(3, 4, 6, 40, 1), dir / "d.gtok");
  JobSpec first = test::job_spec("first", dir / "d.gtok", dir / "first");
  first.steps = 1;
  std::vector<Status> added;
  ASSERT_TRUE(run(dir, {first}, &added).empty());
  // Poison one B value of the trained adapter and start a job from it.
  auto file = SafetensorsFile::open(dir / "first/adapter_model.safetensors");
  ASSERT_TRUE(file.ok());
  std::vector<std::vector<float>> data;
  data.reserve(file.value().tensors().size());  // tensors point into data: no reallocation
  std::vector<TensorToWrite> tensors;
  for (const auto& [name, info] : file.value().tensors()) {
    data.push_back(test::read_tensor(dir / "first/adapter_model.safetensors", name));
    if (name.find("lora_B") != std::string::npos) data.back()[0] = NAN;
    tensors.push_back({name, info.shape, data.back().data()});
  }
  ASSERT_TRUE(make_dirs(dir / "nan").ok());
  ASSERT_TRUE(write_safetensors(dir / "nan/adapter_model.safetensors", tensors).ok());
  JobSpec poisoned = test::job_spec("poisoned", dir / "d.gtok", dir / "poisoned");
  poisoned.init_adapter = dir / "nan";
  JobSpec fine = test::job_spec("fine", dir / "d.gtok", dir / "fine");
  std::vector<Status> added2;
  auto failed = run(dir, {poisoned, fine}, &added2);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed.at("poisoned").reason, FailureReason::kDiverged);
  EXPECT_TRUE(std::filesystem::exists(dir / "fine/adapter_model.safetensors"));
}

}  // namespace
}  // namespace grove

namespace grove {
namespace {

TEST(FailureIsolation, OutOfMemoryDropsTheBiggestJobOthersRedoTheirStep) {
  test::TempDir dir;
  test::write_model(test::tiny_llama_config(), dir / "model");
  test::write_tokens(test::random_tokens(40, 8, 12, 40, 1), dir / "d.gtok");
  JobSpec small = test::job_spec("small", dir / "d.gtok", dir / "capped/small");
  small.grad_accum = 2;  // the OOM hits mid-accumulation: the redo must start the step over
  JobSpec big = test::job_spec("big", dir / "d.gtok", dir / "capped/big");
  big.micro_batch_size = 30;

  // Measure what the small job needs alone, then cap the engine a little above that plus the big job's adapter.
  size_t small_peak = 0, big_adapter = 0;
  {
    auto backend = make_cpu_backend(1);
    auto model = load_model(dir / "model", *backend);
    ASSERT_TRUE(model.ok());
    Engine engine(*backend, model.value());
    JobSpec probe = small;
    probe.output_dir = dir / "probe";
    probe.checkpoint_dir = probe.output_dir + "/checkpoint";
    const size_t before = backend->memory_stats().current_total;
    ASSERT_TRUE(engine.add_job(probe).ok());
    big_adapter = backend->memory_stats().current_total - before;  // same rank and targets as the big job
    while (engine.has_jobs()) engine.step();
    small_peak = backend->memory_stats().peak_total;
  }
  auto backend = make_cpu_backend(1);
  auto model = load_model(dir / "model", *backend);
  ASSERT_TRUE(model.ok());
  backend->set_memory_limit(small_peak + big_adapter + small_peak / 10);
  Engine engine(*backend, model.value());
  ASSERT_TRUE(engine.add_job(small).ok());
  std::vector<JobFailed> failed;
  int finished = 0;
  ASSERT_TRUE(engine.step().steps.empty());  // the small job's first micro-batch of its first step
  ASSERT_TRUE(engine.add_job(big).ok());
  while (engine.has_jobs()) {
    StepReport r = engine.step();
    failed.insert(failed.end(), r.failed.begin(), r.failed.end());
    finished += static_cast<int>(r.finished.size());
  }
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].job_id, "big");
  EXPECT_EQ(failed[0].reason, FailureReason::kOom) << failed[0].message;
  EXPECT_EQ(finished, 1);
  // The small job redid its interrupted step from its start, so it ends exactly as when trained alone.
  auto st = SafetensorsFile::open(dir / "capped/small/adapter_model.safetensors");
  ASSERT_TRUE(st.ok());
  for (const auto& [name, info] : st.value().tensors()) {
    auto a = test::read_tensor(dir / "capped/small/adapter_model.safetensors", name);
    auto b = test::read_tensor(dir / "probe/adapter_model.safetensors", name);
    EXPECT_LT(test::normalised_error(a, b), 1e-4) << name;
  }
}

}  // namespace
}  // namespace grove
