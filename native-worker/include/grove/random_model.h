// Writes a random-weight model folder (config.json + model.safetensors) for a config, so tests and benchmarks
// need neither downloads nor Python. Weights ~ N(0, 0.02) like transformers' init, norms = 1.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "grove/status.h"

namespace grove {

Status write_random_model(const nlohmann::json& config, const std::string& dir, uint64_t seed);

}  // namespace grove
