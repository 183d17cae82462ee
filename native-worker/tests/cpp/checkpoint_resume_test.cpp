// Crash + resume is exact: a `grove-engine train` process is SIGKILLed mid-run (after a few checkpoints), the same
// command is run again, and it resumes from the checkpoint and ends with an adapter byte-identical to a run that
// never crashed. The job shuffles, uses dropout and gradient accumulation, so data cursor, RNG counters, AdamW
// moments and step must all be restored for the bytes to match.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "test_util.h"

namespace grove {
namespace {

nlohmann::json spec_for(const test::TempDir& dir, const std::string& out) {
  nlohmann::json job = {
      {"id", "resumable"},
      {"tokens", dir / "data.gtok"},
      {"lora", {{"r", 4}, {"alpha", 8}, {"dropout", 0.1},
                {"target_modules", {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}}}},
      {"optimizer", {{"lr", 0.01}, {"weight_decay", 0.01}, {"max_grad_norm", 1.0}}},
      {"schedule", {{"type", "cosine"}, {"warmup_steps", 3}}},
      {"steps", 120},
      {"micro_batch_size", 3},
      {"grad_accum", 2},
      {"shuffle", true},
      {"seed", 11},
      {"checkpoint_every", 1},
      {"output_dir", dir / out}};
  return {{"model", dir / "model"}, {"threads", 1}, {"jobs", {job}}};
}

void write_json(const nlohmann::json& j, const std::string& path) { std::ofstream(path) << j.dump(2); }

int checkpoint_step(const std::string& state_path) {
  std::ifstream in(state_path);
  if (!in) return -1;
  auto j = nlohmann::json::parse(in, nullptr, false);
  return j.is_discarded() ? -1 : j.value("step", -1);
}

TEST(CheckpointResume, KilledRunResumesToIdenticalAdapter) {
  test::TempDir dir;
  auto config = test::tiny_llama_config();
  config["hidden_size"] = 32;
  config["intermediate_size"] = 64;
  config["num_hidden_layers"] = 3;
  test::write_model(config, dir / "model");
  test::write_tokens(test::random_tokens(11, 8, 24, 40, 9), dir / "data.gtok");
  write_json(spec_for(dir, "clean"), dir / "clean.json");
  write_json(spec_for(dir, "crash"), dir / "crash.json");
  const std::string engine = GROVE_ENGINE_PATH;

  ASSERT_EQ(test::run_command(engine + " train " + dir / "clean.json" + " 2>/dev/null"), 0);

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    execl(engine.c_str(), engine.c_str(), "train", (dir / "crash.json").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int seen = -1;
  while ((seen = checkpoint_step(dir / "crash/checkpoint/state.json")) < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed; make it longer";
  ASSERT_GE(seen, 5);
  ASSERT_FALSE(std::filesystem::exists(dir / "crash/adapter_model.safetensors"));
  const int at_kill = checkpoint_step(dir / "crash/checkpoint/state.json");
  ASSERT_LT(at_kill, 120);

  ASSERT_EQ(test::run_command(engine + " train " + dir / "crash.json" + " 2>/dev/null"), 0);
  const std::string clean = test::read_bytes(dir / "clean/adapter_model.safetensors");
  ASSERT_FALSE(clean.empty());
  EXPECT_TRUE(clean == test::read_bytes(dir / "crash/adapter_model.safetensors"))
      << "resumed adapter differs from the uninterrupted run (killed at checkpoint step " << at_kill << ")";
  EXPECT_EQ(test::read_bytes(dir / "clean/metrics.jsonl"), test::read_bytes(dir / "crash/metrics.jsonl"));
}

}  // namespace
}  // namespace grove
