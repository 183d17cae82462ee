#include "backend/cuda/cublas_gemm.h"

#include <new>
#include <string>
#include <vector>

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

// Column-major view, as gemm_rowmajor: cuBLAS's A is our B and its B our A, with m and n swapped.
void append_grouped_pointers(const std::vector<GemmProblem>& problems, std::vector<const void*>& out) {
  for (const GemmProblem& g : problems) out.push_back(g.b.p);
  for (const GemmProblem& g : problems) out.push_back(g.a.p);
  for (const GemmProblem& g : problems) out.push_back(g.c.p);
}

cublasStatus_t gemm_grouped_rowmajor(cublasHandle_t handle, bool trans_a, bool trans_b, DType ab_type, DType c_type,
                                     const std::vector<GemmProblem>& problems, void* const* pointers) {
  const int count = static_cast<int>(problems.size());
  const std::vector<cublasOperation_t> op_a(count, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N);
  const std::vector<cublasOperation_t> op_b(count, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N);
  std::vector<int> m(count), n(count), k(count), lda(count), ldb(count), ldc(count);
  const std::vector<int> group_size(count, 1);
  std::vector<float> alpha(count), beta(count);
  for (int i = 0; i < count; ++i) {
    const GemmProblem& g = problems[i];
    m[i] = g.n;
    n[i] = g.m;
    k[i] = g.k;
    lda[i] = g.ldb;
    ldb[i] = g.lda;
    ldc[i] = g.ldc;
    alpha[i] = g.alpha;
    beta[i] = g.beta;
  }
  const cublasStatus_t s = cublasGemmGroupedBatchedEx(
      handle, op_a.data(), op_b.data(), m.data(), n.data(), k.data(), alpha.data(), pointers, cuda_type(ab_type),
      lda.data(), pointers + count, cuda_type(ab_type), ldb.data(), beta.data(), pointers + 2 * count,
      cuda_type(c_type), ldc.data(), count, group_size.data(), CUBLAS_COMPUTE_32F);
  if (s == CUBLAS_STATUS_ALLOC_FAILED) throw std::bad_alloc();
  return s;
}

}  // namespace grove::cuda
