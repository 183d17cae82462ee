// The backend an engine command runs on: "cpu" (threads) or "cuda" (device), as the spec or flags say.
#pragma once

#include <memory>
#include <string>

#include "grove/backend.h"
#include "grove/status.h"

namespace grove::cli {

StatusOr<std::unique_ptr<Backend>> make_backend(const std::string& name, int threads, int device);

}  // namespace grove::cli
