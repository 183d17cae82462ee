// The executable's helper commands, run as real processes: make-tokens (JSONL -> .gtok) and make-model
// (random-weight model folder), plus the error exit of a bad spec.
#include <gtest/gtest.h>

#include <fstream>

#include "grove/model.h"
#include "grove/token_file.h"
#include "test_util.h"

namespace grove {
namespace {

const std::string kEngine = GROVE_ENGINE_PATH;

TEST(CliTools, MakeTokensBothLineForms) {
  test::TempDir dir;
  std::ofstream(dir / "in.jsonl") << R"({"tokens": [5, 6, 7], "mask": [0, 1, 1]})" "\n\n"
                                  << R"({"prompt": [1, 2], "completion": [3, 4, 9]})" "\n";
  ASSERT_EQ(test::run_command(kEngine + " make-tokens " + dir / "in.jsonl" + " " + dir / "out.gtok"), 0);
  auto data = read_token_file(dir / "out.gtok");
  ASSERT_TRUE(data.ok()) << data.status().to_string();
  const TokenView& v = data.value().view();
  ASSERT_EQ(v.n_examples, 2u);
  ASSERT_EQ(v.n_tokens, 8u);
  EXPECT_EQ(std::vector<uint64_t>(v.offsets, v.offsets + 3), (std::vector<uint64_t>{0, 3, 8}));
  EXPECT_EQ(std::vector<uint32_t>(v.tokens, v.tokens + 8), (std::vector<uint32_t>{5, 6, 7, 1, 2, 3, 4, 9}));
  EXPECT_EQ(std::vector<uint8_t>(v.mask, v.mask + 8), (std::vector<uint8_t>{0, 1, 1, 0, 0, 1, 1, 1}));
}

TEST(CliTools, MakeTokensRejectsBadLinesWithTheLineNumber) {
  test::TempDir dir;
  std::ofstream(dir / "in.jsonl") << R"({"tokens": [5, 6], "mask": [0, 1]})" "\n"
                                  << R"({"tokens": [5], "mask": [1]})" "\n";
  const std::string cmd = kEngine + " make-tokens " + dir / "in.jsonl" + " " + dir / "out.gtok" + " 2>" + dir / "err";
  EXPECT_EQ(test::run_command(cmd), 1);
  EXPECT_NE(test::read_bytes(dir / "err").find("in.jsonl:2: an example needs at least 2 tokens"), std::string::npos)
      << test::read_bytes(dir / "err");
  EXPECT_FALSE(std::ifstream(dir / "out.gtok").good()) << "nothing half-written";
}

// On a machine without a GPU (CI), asking for the CUDA backend fails at start with a message naming CUDA, whether
// or not this engine was built with it; it never falls back to the CPU silently.
TEST(CliTools, CudaBackendWithoutAGpuIsAClearFatalError) {
  if (std::ifstream("/dev/nvidia0").good()) GTEST_SKIP() << "a GPU is present";
  test::TempDir dir;
  std::ofstream(dir / "config.json") << test::tiny_llama_config().dump();
  ASSERT_EQ(test::run_command(kEngine + " make-model " + dir / "config.json" + " " + dir / "model"), 0);
  const std::string cmd = kEngine + " serve --model " + dir / "model" + " --backend cuda </dev/null >" + dir / "out";
  EXPECT_EQ(test::run_command(cmd), 1);
  const std::string out = test::read_bytes(dir / "out");
  EXPECT_NE(out.find("\"event\":\"fatal\""), std::string::npos) << out;
  EXPECT_NE(out.find("CUDA"), std::string::npos) << out;
  const std::string bad = kEngine + " serve --model " + dir / "model" + " --backend tpu </dev/null >" + dir / "out";
  EXPECT_EQ(test::run_command(bad), 1);
  EXPECT_NE(test::read_bytes(dir / "out").find("unknown backend 'tpu'"), std::string::npos);
}

TEST(CliTools, MakeModelWritesALoadableModel) {
  test::TempDir dir;
  std::ofstream(dir / "config.json") << test::tiny_llama_config().dump();
  ASSERT_EQ(test::run_command(kEngine + " make-model " + dir / "config.json" + " " + dir / "model --seed 3"), 0);
  auto backend = make_cpu_backend(1);
  auto model = load_model(dir / "model", *backend);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  EXPECT_EQ(model.value().config.num_layers, 2);
}

TEST(CliTools, TrainWithBadSpecFailsWithTheField) {
  test::TempDir dir;
  std::ofstream(dir / "spec.json") << R"({"model": "/nowhere", "jobs": [{"id": "a", "tokens": "t.gtok", "steps": -1}]})";
  EXPECT_EQ(test::run_command(kEngine + " train " + dir / "spec.json" + " 2>" + dir / "err"), 1);
  EXPECT_NE(test::read_bytes(dir / "err").find("'steps' must be positive"), std::string::npos)
      << test::read_bytes(dir / "err");
}

}  // namespace
}  // namespace grove
