// Helpers for the engine's C++ tests: temporary folders, tiny random models and token files written in C++.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "grove/backend.h"
#include "grove/job_spec.h"
#include "grove/model.h"
#include "grove/token_file.h"

namespace grove::test {

// A fresh folder under the system temp dir, removed with its contents when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A Llama-shaped config small enough for finite differences; fields can be overridden by the caller.
nlohmann::json tiny_llama_config();
// Writes a random-weight model for `config` into `dir` (aborts the test on failure).
void write_model(const nlohmann::json& config, const std::string& dir, uint64_t seed = 1, float weight_std = 0.02f);
// Random examples of lengths in [min_len, max_len], token ids < vocab, mask 0 on the first ~third (the prompt).
TokenData random_tokens(int examples, int min_len, int max_len, int vocab, uint64_t seed);
void write_tokens(const TokenData& data, const std::string& path);

// A job spec with all seven targets, rank 4, B initialised non-zero when `nonzero_b` (so A gets gradients).
JobSpec job_spec(const std::string& id, const std::string& tokens, const std::string& output_dir);

std::vector<float> read_f32(Backend& backend, const Buffer& buffer);
std::vector<float> read_tensor(const std::string& safetensors_path, const std::string& name);
std::string read_bytes(const std::string& path);

// max |a - b| / max(max |b|, tiny): the normalised error used by every comparison in the tests.
double normalised_error(const std::vector<float>& a, const std::vector<float>& b);

// Runs a command, returns its exit code.
int run_command(const std::string& command);

}  // namespace grove::test
