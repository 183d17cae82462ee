// Bad inputs get a clear error that names the problem: truncated or malformed safetensors, unsupported dtypes,
// missing config keys, unknown architectures, missing tensors or wrong shapes, empty/corrupt token files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "grove/file_util.h"
#include "grove/model.h"
#include "grove/safetensors.h"
#include "grove/token_file.h"
#include "test_util.h"

namespace grove {
namespace {

namespace fs = std::filesystem;

void expect_error(const Status& st, ErrorCode code, const std::string& needle) {
  ASSERT_FALSE(st.ok()) << "expected an error mentioning '" << needle << "'";
  EXPECT_EQ(st.code(), code) << st.to_string();
  EXPECT_NE(st.message().find(needle), std::string::npos) << "message: " << st.message();
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

class BadInputs : public ::testing::Test {
 protected:
  void SetUp() override { test::write_model(test::tiny_llama_config(), dir / "model"); }
  Status load(const std::string& model_dir) { return load_model(model_dir, *backend).status(); }
  void copy_model_to(const std::string& to) { fs::copy(dir / "model", to, fs::copy_options::recursive); }

  test::TempDir dir;
  std::unique_ptr<Backend> backend = make_cpu_backend(1);
};

TEST_F(BadInputs, ValidModelLoads) { EXPECT_TRUE(load(dir / "model").ok()); }

TEST_F(BadInputs, TruncatedSafetensors) {
  copy_model_to(dir / "m");
  const std::string bytes = test::read_bytes(dir / "m/model.safetensors");
  write_raw(dir / "m/model.safetensors", bytes.substr(0, bytes.size() - 100));
  expect_error(load(dir / "m"), ErrorCode::kCorruptFile, "truncated safetensors file");
  write_raw(dir / "m/model.safetensors", bytes.substr(0, 5));
  expect_error(load(dir / "m"), ErrorCode::kCorruptFile, "truncated safetensors file");
}

TEST_F(BadInputs, UnsupportedDtypeNamesTheTensor) {
  copy_model_to(dir / "m");
  std::string bytes = test::read_bytes(dir / "m/model.safetensors");
  // Same-length swap of the first "F32" dtype (the embedding's, written first) for "I32".
  bytes.replace(bytes.find("\"F32\""), 5, "\"I32\"");
  write_raw(dir / "m/model.safetensors", bytes);
  expect_error(load(dir / "m"), ErrorCode::kUnsupported, "has dtype I32");
}

TEST_F(BadInputs, Bf16AndF16WeightsLoadAsF32) {
  const float values[4] = {1.0f, -2.5f, 0.15625f, 65504.0f};
  // bf16 = the top 16 bits of the fp32 pattern; f16 written by hand for these exactly representable values.
  const uint16_t bf16[4] = {0x3f80, 0xc020, 0x3e20, 0x477f};
  const uint16_t f16[4] = {0x3c00, 0xc100, 0x3100, 0x7bff};
  for (auto [dtype, data] : {std::pair{"BF16", bf16}, std::pair{"F16", f16}}) {
    std::string header = std::string("{\"t\":{\"dtype\":\"") + dtype + "\",\"shape\":[4],\"data_offsets\":[0,8]}}";
    uint64_t len = header.size();
    std::string bytes(reinterpret_cast<const char*>(&len), 8);
    bytes += header;
    bytes.append(reinterpret_cast<const char*>(data), 8);
    write_raw(dir / "h.safetensors", bytes);
    auto file = SafetensorsFile::open(dir / "h.safetensors");
    ASSERT_TRUE(file.ok()) << file.status().to_string();
    float out[4];
    convert_to_f32(*file.value().find("t"), out);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], dtype == std::string("BF16") && i == 3 ? 65280.0f : values[i]) << dtype;
  }
}

TEST_F(BadInputs, MissingConfigKey) {
  copy_model_to(dir / "m");
  auto config = test::tiny_llama_config();
  config.erase("hidden_size");
  write_raw(dir / "m/config.json", config.dump());
  expect_error(load(dir / "m"), ErrorCode::kInvalidArgument, "config.json is missing 'hidden_size'");
}

TEST_F(BadInputs, UnknownArchitecture) {
  copy_model_to(dir / "m");
  auto config = test::tiny_llama_config();
  config["model_type"] = "gpt2";
  config["architectures"] = {"GPT2LMHeadModel"};
  write_raw(dir / "m/config.json", config.dump());
  expect_error(load(dir / "m"), ErrorCode::kUnsupported, "unknown architecture 'gpt2'");
}

TEST_F(BadInputs, MissingTensorAndBadShapeAreNamed) {
  auto config = test::tiny_llama_config();
  config["num_hidden_layers"] = 3;  // the weights only have layers 0 and 1
  copy_model_to(dir / "m");
  write_raw(dir / "m/config.json", config.dump());
  expect_error(load(dir / "m"), ErrorCode::kNotFound, "missing tensor 'model.layers.2.input_layernorm.weight'");
  config = test::tiny_llama_config();
  config["intermediate_size"] = 32;
  write_raw(dir / "m/config.json", config.dump());
  expect_error(load(dir / "m"), ErrorCode::kInvalidArgument,
               "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [24, 16], expected [32, 16]");
}

TEST_F(BadInputs, ShardedModelLoads) {
  // Split the single file into two shards plus an index, as transformers does for large models.
  auto file = SafetensorsFile::open(dir / "model/model.safetensors");
  ASSERT_TRUE(file.ok());
  fs::create_directories(dir / "sharded");
  fs::copy(dir / "model/config.json", dir / "sharded/config.json");
  std::vector<std::vector<float>> data;
  data.reserve(file.value().tensors().size());
  std::vector<TensorToWrite> shard[2];
  nlohmann::json index = {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
  int i = 0;
  for (const auto& [name, info] : file.value().tensors()) {
    data.emplace_back(info.numel());
    convert_to_f32(info, data.back().data());
    shard[i % 2].push_back({name, info.shape, data.back().data()});
    index["weight_map"][name] = "model-0000" + std::to_string(i % 2 + 1) + "-of-00002.safetensors";
    ++i;
  }
  ASSERT_TRUE(write_safetensors(dir / "sharded/model-00001-of-00002.safetensors", shard[0]).ok());
  ASSERT_TRUE(write_safetensors(dir / "sharded/model-00002-of-00002.safetensors", shard[1]).ok());
  write_raw(dir / "sharded/model.safetensors.index.json", index.dump());
  EXPECT_TRUE(load(dir / "sharded").ok());
  fs::remove(dir / "sharded/model-00002-of-00002.safetensors");
  expect_error(load(dir / "sharded"), ErrorCode::kNotFound, "model-00002-of-00002.safetensors");
}

TEST_F(BadInputs, EmptyAndCorruptTokenFiles) {
  write_raw(dir / "empty.gtok", "");
  expect_error(read_token_file(dir / "empty.gtok").status(), ErrorCode::kCorruptFile, "empty token file");
  test::write_tokens(test::random_tokens(3, 4, 6, 40, 1), dir / "ok.gtok");
  const std::string bytes = test::read_bytes(dir / "ok.gtok");
  EXPECT_TRUE(read_token_file(dir / "ok.gtok").ok());
  write_raw(dir / "short.gtok", bytes.substr(0, bytes.size() - 1));
  expect_error(read_token_file(dir / "short.gtok").status(), ErrorCode::kCorruptFile, "!= expected");
  std::string magic = bytes;
  magic[0] = 'X';
  write_raw(dir / "magic.gtok", magic);
  expect_error(read_token_file(dir / "magic.gtok").status(), ErrorCode::kCorruptFile, "magic");
  std::string mask = bytes;
  mask.back() = 7;
  write_raw(dir / "mask.gtok", mask);
  expect_error(read_token_file(dir / "mask.gtok").status(), ErrorCode::kCorruptFile, "must be 0 or 1");
  expect_error(read_token_file(dir / "missing.gtok").status(), ErrorCode::kNotFound, "missing.gtok");
}

TEST_F(BadInputs, SpecErrorsNameTheField) {
  nlohmann::json job = {{"id", "a"}, {"tokens", "x.gtok"}, {"output_dir", "o"}, {"steps", 1},
                        {"lora", {{"target_modules", {"q_proj", "attn"}}}}};
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "unknown module \"attn\"");
  job["lora"] = {{"r", 0}};
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "'lora.r' must be positive");
  job.erase("lora");
  job["schedule"] = {{"type", "exponential"}};
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "'schedule.type' is 'exponential'");
  job.erase("schedule");
  job.erase("steps");
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "'steps' is required");
}

TEST_F(BadInputs, BackendChoiceIsValidated) {
  nlohmann::json job = {{"id", "a"}, {"tokens", "x.gtok"}, {"output_dir", "o"}, {"steps", 1}};
  nlohmann::json spec = {{"model", "m"}, {"jobs", {job}}};
  EXPECT_EQ(parse_train_spec(spec).value().backend, "cpu");
  spec["backend"] = "tpu";
  expect_error(parse_train_spec(spec).status(), ErrorCode::kInvalidArgument, "'backend' must be \"cpu\" or \"cuda\"");
  spec["backend"] = "cuda";
  spec["device"] = -1;
  expect_error(parse_train_spec(spec).status(), ErrorCode::kInvalidArgument, "'device' must be >= 0");
  spec["device"] = 1;
  EXPECT_EQ(parse_train_spec(spec).value().device, 1);
}

TEST_F(BadInputs, ValidationSpecErrorsNameTheField) {
  nlohmann::json job = {{"id", "a"}, {"tokens", "x.gtok"}, {"output_dir", "o"}, {"steps", 25},
                        {"validation", {{"tokens", "v.gtok"}}}};
  auto parsed = parse_job_spec(job);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().validation.eval_every, 3);  // max(1, round(25 / 10))
  EXPECT_FALSE(parsed.value().validation.stops_early());
  job["steps"] = 4;
  EXPECT_EQ(parse_job_spec(job).value().validation.eval_every, 1);
  job["validation"] = {{"tokens", "v.gtok"}, {"eval_every", 0}};
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "'validation.eval_every' must be >= 1");
  job["validation"] = {{"eval_every", 2}};
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "'validation.tokens' is required");
  job["validation"] = {{"tokens", "v.gtok"}, {"early_stopping", {{"min_delta", 0.1}}}};
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "'validation.early_stopping.patience' is required");
  job["validation"]["early_stopping"] = {{"patience", 0}};
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "'validation.early_stopping.patience' must be >= 1");
  job["validation"]["early_stopping"] = {{"patience", 2}, {"min_delta", -1}};
  expect_error(parse_job_spec(job).status(), ErrorCode::kInvalidArgument, "'validation.early_stopping.min_delta'");
  job["validation"]["early_stopping"] = {{"patience", 2}, {"min_delta", 0.01}};
  parsed = parse_job_spec(job);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().validation.early_stopping.patience, 2);
  EXPECT_DOUBLE_EQ(parsed.value().validation.early_stopping.min_delta, 0.01);
}

TEST(Schedule, MatchesTransformers) {
  // Values of transformers' get_*_schedule_with_warmup(num_warmup_steps=2, num_training_steps=10) at k = 0..4, 10.
  ScheduleConfig s{ScheduleType::kCosine, 2};
  EXPECT_DOUBLE_EQ(lr_factor(s, 10, 0), 0.0);
  EXPECT_DOUBLE_EQ(lr_factor(s, 10, 1), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(s, 10, 2), 1.0);
  EXPECT_NEAR(lr_factor(s, 10, 4), 0.5 * (1 + std::cos(M_PI * 2.0 / 8.0)), 1e-15);
  EXPECT_NEAR(lr_factor(s, 10, 10), 0.0, 1e-15);
  s.type = ScheduleType::kLinear;
  EXPECT_DOUBLE_EQ(lr_factor(s, 10, 4), 6.0 / 8.0);
  s.type = ScheduleType::kConstant;
  EXPECT_DOUBLE_EQ(lr_factor(s, 10, 1), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(s, 10, 7), 1.0);
}

}  // namespace
}  // namespace grove
