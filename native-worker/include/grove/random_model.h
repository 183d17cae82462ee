// Writes a random-weight model folder (config.json + model.safetensors) for a config, so tests and benchmarks
// need neither downloads nor Python. Weights ~ N(0, weight_std) (0.02 is transformers' init), norms ~ 1.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "grove/status.h"

namespace grove {

Status write_random_model(const nlohmann::json& config, const std::string& dir, uint64_t seed,
                          float weight_std = 0.02f);

}  // namespace grove
