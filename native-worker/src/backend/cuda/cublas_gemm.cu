#include "backend/cuda/cublas_gemm.h"

#include <new>
#include <string>

namespace grove::cuda {

namespace {
cudaDataType_t cuda_type(DType t) { return t == DType::kBF16 ? CUDA_R_16BF : CUDA_R_32F; }
}  // namespace

void gemm_rowmajor(cublasHandle_t handle, int m, int n, int k, float alpha, DType ab_type, GemmOperand a,
                   GemmOperand b, float beta, void* c, DType c_type, int ldc) {
  if (ab_type == DType::kF32 && c_type != DType::kF32) {
    throw CudaError("gemm: F32 operands need an F32 result, got " + std::string(dtype_name(c_type)));
  }
  const cublasStatus_t s = cublasGemmEx(handle, b.trans ? CUBLAS_OP_T : CUBLAS_OP_N, a.trans ? CUBLAS_OP_T : CUBLAS_OP_N,
                                        n, m, k, &alpha, b.p, cuda_type(ab_type), b.ld, a.p, cuda_type(ab_type), a.ld,
                                        &beta, c, cuda_type(c_type), ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  // Out of device memory for cuBLAS's workspace is an OOM like any other allocation: the engine fails or requeues
  // the job that caused it instead of treating it as a device fault.
  if (s == CUBLAS_STATUS_ALLOC_FAILED) throw std::bad_alloc();
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw CudaError("gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + " (" +
                    dtype_name(ab_type) + " -> " + dtype_name(c_type) + "): cuBLAS status " +
                    std::to_string(static_cast<int>(s)));
  }
}

}  // namespace grove::cuda
