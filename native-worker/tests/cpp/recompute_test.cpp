// Selective recomputation (grove/recompute.h) changes memory, not results: with norms, or norms and the MLP's
// inputs, dropped in forward and recomputed in backward, three co-trained jobs (one with LoRA dropout, whose
// counter-based masks are drawn again identically) give the same logits, losses and LoRA gradients as keeping
// everything, and a training step's peak activation memory goes down at each level.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "grove/engine.h"
#include "grove/safetensors.h"
#include "test_util.h"

namespace grove {
namespace {

std::vector<JobSpec> jobs(const test::TempDir& dir) {
  JobSpec a = test::job_spec("a", dir / "a.gtok", dir / "out/a");
  JobSpec b = test::job_spec("b", dir / "b.gtok", dir / "out/b");
  b.lora.dropout = 0.3;
  b.lora.target_modules = {"gate_proj", "up_proj", "down_proj", "q_proj"};
  b.micro_batch_size = 3;
  return {a, b};
}

struct StepRun {
  size_t peak_activation_bytes = 0;
};

StepRun dump_and_step(const test::TempDir& dir, Recompute r, const std::string& out) {
  auto backend = make_cpu_backend(1);
  auto model = load_model(dir / "model", *backend);
  EXPECT_TRUE(model.ok());
  Engine engine(*backend, model.value());
  engine.set_recompute(r);
  for (const auto& j : jobs(dir)) EXPECT_TRUE(engine.add_job(j).ok());
  std::filesystem::create_directories(dir / out);
  const Status dumped = engine.dump(dir / out);
  EXPECT_TRUE(dumped.ok()) << dumped.to_string();
  backend->reset_peak_memory();
  const size_t before = backend->memory_stats().current[static_cast<int>(MemoryCategory::kActivations)];
  StepReport report = engine.step();
  EXPECT_TRUE(report.failed.empty());
  return {backend->memory_stats().peak[static_cast<int>(MemoryCategory::kActivations)] - before};
}

TEST(Recompute, SameResultsLessMemory) {
  test::TempDir dir;
  nlohmann::json config = test::tiny_llama_config();
  config["intermediate_size"] = 64;  // the MLP's activations dominate, as in real models
  test::write_model(config, dir / "model");
  test::write_tokens(test::random_tokens(6, 8, 12, 40, 1), dir / "a.gtok");
  test::write_tokens(test::random_tokens(6, 8, 12, 40, 2), dir / "b.gtok");
  const StepRun none = dump_and_step(dir, Recompute::kNone, "none");
  const StepRun norms = dump_and_step(dir, Recompute::kNorms, "norms");
  const StepRun mlp = dump_and_step(dir, Recompute::kMlp, "mlp");
  std::printf("peak activation bytes of a step: none %zu, norms %zu, mlp %zu\n", none.peak_activation_bytes,
              norms.peak_activation_bytes, mlp.peak_activation_bytes);
  EXPECT_LT(norms.peak_activation_bytes, none.peak_activation_bytes);
  EXPECT_LT(mlp.peak_activation_bytes, norms.peak_activation_bytes);
  for (const std::string id : {"a", "b"}) {
    const std::string want = dir / ("none/" + id + ".safetensors");
    auto names = SafetensorsFile::open(want);
    ASSERT_TRUE(names.ok());
    size_t compared = 0;
    for (const std::string mode : {"norms", "mlp"}) {
      const std::string got = dir / (mode + "/" + id + ".safetensors");
      for (const auto& [name, info] : names.value().tensors()) {
        // The same ops on the same inputs in the same order: bitwise equal.
        EXPECT_EQ(test::read_tensor(got, name), test::read_tensor(want, name)) << mode << " " << id << " " << name;
        ++compared;
      }
    }
    EXPECT_GT(compared, 10u);
  }
}

TEST(Recompute, SpecAndFlagNames) {
  nlohmann::json job = {{"id", "a"}, {"tokens", "x.gtok"}, {"output_dir", "o"}, {"steps", 1}};
  nlohmann::json spec = {{"model", "m"}, {"jobs", {job}}, {"recompute", "mlp"}};
  EXPECT_EQ(parse_train_spec(spec).value().recompute, Recompute::kMlp);
  spec["recompute"] = "everything";
  auto bad = parse_train_spec(spec);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'recompute' must be \"none\", \"norms\" or \"mlp\""), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace grove
