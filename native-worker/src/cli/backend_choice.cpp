#include "cli/backend_choice.h"

#include "grove/cuda_backend.h"

namespace grove::cli {

StatusOr<std::unique_ptr<Backend>> make_backend(const std::string& name, int threads, int device) {
  if (name == "cpu") return make_cpu_backend(threads);
  if (name == "cuda") {
    if (!cuda_backend_built()) {
      return make_error(ErrorCode::kUnsupported,
                        "this grove-engine was built without the CUDA backend (nvcc and cuBLAS were not found)");
    }
    return make_cuda_backend(device);
  }
  return make_error(ErrorCode::kInvalidArgument, "unknown backend '" + name + "' (expected cpu or cuda)");
}

}  // namespace grove::cli
