// What `train` and `dump` both start with: the spec, the backend it names, and the model it names.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "grove/backend.h"
#include "grove/job_spec.h"
#include "grove/model.h"

namespace grove::cli {

struct LoadedSpec {
  TrainSpec spec;
  std::unique_ptr<Backend> backend;
  Model model;
};

// Prints "grove-engine: <error>" to stderr and returns nullopt when the spec or the model cannot be loaded.
std::optional<LoadedSpec> load_spec_and_model(const std::string& spec_path);

}  // namespace grove::cli
