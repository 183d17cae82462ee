#include "test_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "grove/random_model.h"
#include "grove/rng.h"
#include "grove/safetensors.h"

namespace grove::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "grove-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

nlohmann::json tiny_llama_config() {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_size", 16},
          {"intermediate_size", 24},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 2},
          {"vocab_size", 40},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0},
          {"hidden_act", "silu"},
          {"tie_word_embeddings", false}};
}

void write_model(const nlohmann::json& config, const std::string& dir, uint64_t seed, float weight_std) {
  Status st = write_random_model(config, dir, seed, weight_std);
  ASSERT_TRUE(st.ok()) << st.to_string();
}

TokenData random_tokens(int examples, int min_len, int max_len, int vocab, uint64_t seed) {
  TokenData d;
  d.offsets.push_back(0);
  for (int e = 0; e < examples; ++e) {
    const uint64_t key = hash_combine(seed, e);
    const int len = min_len + static_cast<int>(mix64(key) % static_cast<uint64_t>(max_len - min_len + 1));
    for (int t = 0; t < len; ++t) {
      d.tokens.push_back(static_cast<uint32_t>(hash_combine(key, t + 1) % static_cast<uint64_t>(vocab)));
      d.mask.push_back(t >= len / 3 ? 1 : 0);
    }
    d.offsets.push_back(d.tokens.size());
  }
  return d;
}

void write_tokens(const TokenData& data, const std::string& path) {
  Status st = write_token_file(path, data);
  ASSERT_TRUE(st.ok()) << st.to_string();
}

JobSpec job_spec(const std::string& id, const std::string& tokens, const std::string& output_dir) {
  JobSpec s;
  s.id = id;
  s.tokens = tokens;
  s.output_dir = output_dir;
  s.checkpoint_dir = output_dir + "/checkpoint";
  s.lora.r = 4;
  s.lora.alpha = 8;
  s.lora.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  s.optimizer.lr = 1e-2;
  s.steps = 3;
  s.micro_batch_size = 2;
  return s;
}

std::vector<float> read_f32(Backend& backend, const Buffer& buffer) {
  std::vector<float> host(buffer.numel());
  backend.copy_to_host(host.data(), buffer.data(), host.size());
  return host;
}

std::vector<float> read_tensor(const std::string& path, const std::string& name) {
  auto file = SafetensorsFile::open(path);
  if (!file.ok()) {
    ADD_FAILURE() << file.status().to_string();
    return {};
  }
  const TensorInfo* info = file.value().find(name);
  if (info == nullptr) {
    ADD_FAILURE() << path << " has no tensor " << name;
    return {};
  }
  std::vector<float> out(static_cast<size_t>(info->numel()));
  convert_to_f32(*info, out.data());
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double normalised_error(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double diff = 0.0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

int run_command(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace grove::test
