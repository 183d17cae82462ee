// Row-major GEMM on cuBLAS, which is column-major: C = alpha op(A) op(B) + beta C is computed as
// C^T = alpha op(B)^T op(A)^T + beta C^T, which is the same memory read column-major (no copies).
// A and B share one type (F32 or BF16); C is F32, or BF16 when A and B are BF16. Accumulation is fp32.
#pragma once

#include <vector>

#include "backend/cuda/cuda_api.h"
#include "grove/backend.h"
#include "grove/dtype.h"

namespace grove::cuda {

struct GemmOperand {
  const void* p = nullptr;
  int ld = 0;
  bool trans = false;
};

void gemm_rowmajor(cublasHandle_t handle, int m, int n, int k, float alpha, DType ab_type, GemmOperand a,
                   GemmOperand b, float beta, void* c, DType c_type, int ldc);

// Appends the operand pointers one grouped call over `problems` reads, in gemm_grouped_rowmajor's order.
void append_grouped_pointers(const std::vector<GemmProblem>& problems, std::vector<const void*>& out);

// Every problem in one cublasGemmGroupedBatchedEx call (one cuBLAS group per problem), row-major as above. The
// problems share the transposes and the types: A and B `ab_type`, C `c_type`. `pointers` is a device copy of
// what append_grouped_pointers wrote for them. Returns cuBLAS's status instead of throwing, except for out of
// memory (std::bad_alloc), so the caller can run the problems one by one where this cuBLAS cannot group them.
cublasStatus_t gemm_grouped_rowmajor(cublasHandle_t handle, bool trans_a, bool trans_b, DType ab_type, DType c_type,
                                     const std::vector<GemmProblem>& problems, void* const* pointers);

}  // namespace grove::cuda
