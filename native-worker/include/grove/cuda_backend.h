// The CUDA backend (src/backend/cuda, docs/cuda-backend.md): bf16 base weights and activations, fp32 LoRA state,
// cuBLAS GEMMs and Grove's own kernels on one stream of one GPU.
#pragma once

#include <memory>

#include "grove/backend.h"
#include "grove/status.h"

namespace grove {

// Whether this engine was built with the CUDA backend (nvcc and cuBLAS found at build time).
bool cuda_backend_built();
// Opens GPU `device`. Errors: not built with CUDA, no such device, or the CUDA runtime failing to start.
StatusOr<std::unique_ptr<Backend>> make_cuda_backend(int device);

}  // namespace grove
