// Writes a random-weight model folder (config.json + model.safetensors) for a config, so tests and benchmarks
// need neither downloads nor Python, or builds one in memory. Weights ~ N(0, weight_std) (0.02 is transformers' init), norms ~ 1.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "grove/model.h"
#include "grove/status.h"

namespace grove {

Status write_random_model(const nlohmann::json& config, const std::string& dir, uint64_t seed,
                          float weight_std = 0.02f);

// The same kind of model built straight into backend memory (no files), for benchmarks of large shapes.
// period > 0: each tensor repeats its first `period` random values (fast to generate; fine for speed runs).
StatusOr<Model> random_model(const nlohmann::json& config, Backend& backend, uint64_t seed, float weight_std = 0.02f,
                             int64_t period = 0);

}  // namespace grove
