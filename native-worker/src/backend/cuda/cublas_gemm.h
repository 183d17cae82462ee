// Row-major GEMM on cuBLAS, which is column-major: C = alpha op(A) op(B) + beta C is computed as
// C^T = alpha op(B)^T op(A)^T + beta C^T, which is the same memory read column-major (no copies).
// A and B share one type (F32 or BF16); C is F32, or BF16 when A and B are BF16. Accumulation is fp32.
#pragma once

#include "backend/cuda/cuda_api.h"
#include "grove/dtype.h"

namespace grove::cuda {

struct GemmOperand {
  const void* p = nullptr;
  int ld = 0;
  bool trans = false;
};

void gemm_rowmajor(cublasHandle_t handle, int m, int n, int k, float alpha, DType ab_type, GemmOperand a,
                   GemmOperand b, float beta, void* c, DType c_type, int ldc);

}  // namespace grove::cuda
