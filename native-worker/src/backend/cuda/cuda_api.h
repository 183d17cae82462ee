// The one header every CUDA-backend source includes instead of the CUDA headers. Built by nvcc (or by the host
// compiler for host-only files) it is the real CUDA runtime, bf16, WMMA and cuBLAS. Built with GROVE_CUDA_EMU it is
// emu/cuda_emu.h: the same API subset run on the CPU (each CUDA thread a host thread), so the kernels' logic is
// tested in CI against the CPU reference without a GPU. Kernels use only the subset docs/cuda-backend.md lists.
#pragma once

#include <stdexcept>
#include <string>

#include "grove/backend.h"

#ifdef GROVE_CUDA_EMU
#include "backend/cuda/emu/cuda_emu.h"
#else
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#ifdef __CUDACC__
#include <mma.h>
#endif
// Launch: GROVE_LAUNCH(grid, block, smem_bytes, stream, kernel<T, 64>)(args...). The kernel goes last so template
// arguments with commas need no extra parentheses.
#define GROVE_LAUNCH(grid, block, smem, stream, ...) __VA_ARGS__<<<(grid), (block), (smem), (stream)>>>
// Dynamic shared memory of the launch, as `type* name`.
#define GROVE_DYNAMIC_SMEM(type, name)               \
  extern __shared__ __align__(16) char name##_raw[]; \
  type* name = reinterpret_cast<type*>(name##_raw)
#endif

namespace grove::cuda {

// A CUDA or cuBLAS failure, with what was being done when it happened.
class CudaError : public BackendError {
 public:
  using BackendError::BackendError;
};

[[noreturn]] inline void throw_cuda_error(const char* what, const char* detail) {
  throw CudaError(std::string(what) + ": " + detail);
}

inline void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw_cuda_error(what, cudaGetErrorString(e));
}

inline void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw_cuda_error(what, ("cuBLAS status " + std::to_string(static_cast<int>(s))).c_str());
}

}  // namespace grove::cuda

// After a launch: GROVE_CHECK_LAUNCH("rmsnorm_forward") turns a bad launch into CudaError naming the op.
#define GROVE_CHECK_LAUNCH(what) ::grove::cuda::check_cuda(cudaGetLastError(), what)
