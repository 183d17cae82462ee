// Linked into grove-engine instead of the CUDA backend when the build found no nvcc or cuBLAS.
#include "grove/cuda_backend.h"

namespace grove {

bool cuda_backend_built() { return false; }

StatusOr<std::unique_ptr<Backend>> make_cuda_backend(int device) {
  return make_error(ErrorCode::kUnsupported, "this grove-engine was built without the CUDA backend");
}

}  // namespace grove
