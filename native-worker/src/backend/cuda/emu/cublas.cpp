// Emulated cuBLAS GEMMs. op(A) and op(B) are widened to fp32 once, multiplied by OpenBLAS's sgemm (fp32
// accumulation, like CUBLAS_COMPUTE_32F), then C = alpha * AB + beta * C is rounded to C's type. With beta == 0,
// C is not read (so NaN there does not propagate), as cuBLAS documents.
#include <cblas.h>

#include <atomic>
#include <cstdio>
#include <vector>

#include "backend/cuda/emu/bf16.h"
#include "backend/cuda/emu/cublas.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
};

namespace {

size_t type_size(cudaDataType t) { return t == CUDA_R_32F ? 4 : 2; }

float load(const void* base, cudaDataType t, size_t i) {
  return t == CUDA_R_32F ? static_cast<const float*>(base)[i] : static_cast<float>(static_cast<const __nv_bfloat16*>(base)[i]);
}

void store(void* base, cudaDataType t, size_t i, float v) {
  if (t == CUDA_R_32F) static_cast<float*>(base)[i] = v;
  else static_cast<__nv_bfloat16*>(base)[i] = __nv_bfloat16(v);
}

// The combinations cuBLAS runs with CUBLAS_COMPUTE_32F among fp32 and bf16.
bool supported(cudaDataType a, cudaDataType b, cudaDataType c, cublasComputeType_t compute) {
  if (compute != CUBLAS_COMPUTE_32F || a != b) return false;
  if (a == CUDA_R_32F) return c == CUDA_R_32F;
  return a == CUDA_R_16BF && (c == CUDA_R_16BF || c == CUDA_R_32F);
}

cublasStatus_t report(cublasStatus_t s, const char* what) {
  std::fprintf(stderr, "grove cuda emu: cublasGemmEx: %s\n", what);
  return s;
}

// Elements a column-major rows x cols matrix with leading dimension ld spans.
size_t extent(int rows, int cols, int ld) {
  return rows == 0 || cols == 0 ? 0 : static_cast<size_t>(ld) * (cols - 1) + rows;
}

struct Gemm {
  cublasOperation_t transa, transb;
  int m, n, k;
  float alpha, beta;
  cudaDataType at, bt, ct;
  int lda, ldb, ldc;
};

// One GEMM; operands already validated.
void run(const Gemm& g, const void* A, const void* B, void* C) {
  const int m = g.m, n = g.n, k = g.k;
  std::vector<float> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(n) * k), ab(static_cast<size_t>(m) * n);
  // a: op(A) row-major m x k; b: op(B) transposed, row-major n x k.
  for (int i = 0; i < m; ++i)
    for (int p = 0; p < k; ++p)
      a[static_cast<size_t>(i) * k + p] =
          load(A, g.at, g.transa == CUBLAS_OP_N ? static_cast<size_t>(p) * g.lda + i : static_cast<size_t>(i) * g.lda + p);
  for (int j = 0; j < n; ++j)
    for (int p = 0; p < k; ++p)
      b[static_cast<size_t>(j) * k + p] =
          load(B, g.bt, g.transb == CUBLAS_OP_N ? static_cast<size_t>(j) * g.ldb + p : static_cast<size_t>(p) * g.ldb + j);
  if (k > 0)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, ab.data(), n);
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      const size_t ci = static_cast<size_t>(j) * g.ldc + i;
      float v = g.alpha * ab[static_cast<size_t>(i) * n + j];
      if (g.beta != 0.0f) v += g.beta * load(C, g.ct, ci);
      store(C, g.ct, ci, v);
    }
  }
}

cublasStatus_t gemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                    const void* alpha, const void* A, cudaDataType Atype, int lda, long long strideA, const void* B,
                    cudaDataType Btype, int ldb, long long strideB, const void* beta, void* C, cudaDataType Ctype,
                    int ldc, long long strideC, int batch, cublasComputeType_t compute) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!supported(Atype, Btype, Ctype, compute))
    return report(CUBLAS_STATUS_NOT_SUPPORTED, "type combination not supported with this compute type");
  const auto valid_op = [](cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; };
  const int a_rows = transa == CUBLAS_OP_N ? m : k, a_cols = transa == CUBLAS_OP_N ? k : m;
  const int b_rows = transb == CUBLAS_OP_N ? k : n, b_cols = transb == CUBLAS_OP_N ? n : k;
  if (!valid_op(transa) || !valid_op(transb) || m < 0 || n < 0 || k < 0 || batch < 0 ||
      lda < (a_rows > 1 ? a_rows : 1) || ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1) ||
      alpha == nullptr || beta == nullptr)
    return report(CUBLAS_STATUS_INVALID_VALUE, "invalid size, leading dimension, operation or scalar");
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  Gemm g{transa, transb, m, n, k, *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
         Atype, Btype, Ctype, lda, ldb, ldc};
  for (int i = 0; i < batch; ++i) {
    const void* a = static_cast<const char*>(A) + i * strideA * static_cast<long long>(type_size(Atype));
    const void* b = static_cast<const char*>(B) + i * strideB * static_cast<long long>(type_size(Btype));
    void* c = static_cast<char*>(C) + i * strideC * static_cast<long long>(type_size(Ctype));
    if (!grove::cuda::emu::is_device_range(a, extent(a_rows, a_cols, lda) * type_size(Atype)) ||
        !grove::cuda::emu::is_device_range(b, extent(b_rows, b_cols, ldb) * type_size(Btype)) ||
        !grove::cuda::emu::is_device_range(c, extent(m, n, ldc) * type_size(Ctype)))
      return report(CUBLAS_STATUS_EXECUTION_FAILED, "an operand is not inside a device allocation (a GPU would fault)");
    run(g, a, b, c);
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!grove::cuda::emu::is_valid_stream(stream)) return CUBLAS_STATUS_INVALID_VALUE;
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (stream == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode(cublasHandle_t handle, cublasPointerMode_t mode) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void* workspace, size_t bytes) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  return bytes == 0 || grove::cuda::emu::is_device_range(workspace, bytes) ? CUBLAS_STATUS_SUCCESS
                                                                           : CUBLAS_STATUS_INVALID_VALUE;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) { return cublasGetStatusName(status); }

cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                            int k, const void* alpha, const void* A, cudaDataType Atype, int lda, const void* B,
                            cudaDataType Btype, int ldb, const void* beta, void* C, cudaDataType Ctype, int ldc,
                            cublasComputeType_t computeType, cublasGemmAlgo_t algo) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, Atype, lda, 0, B, Btype, ldb, 0, beta, C, Ctype, ldc, 0, 1,
              computeType);
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                          int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                                          int lda, long long strideA, const void* B, cudaDataType Btype, int ldb,
                                          long long strideB, const void* beta, void* C, cudaDataType Ctype, int ldc,
                                          long long strideC, int batchCount, cublasComputeType_t computeType,
                                          cublasGemmAlgo_t algo) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB, beta, C, Ctype,
              ldc, strideC, batchCount, computeType);
}

namespace {
std::atomic<bool> grouped_unsupported{false};
}  // namespace

void grove::cuda::emu::set_grouped_gemm_unsupported(bool unsupported) { grouped_unsupported = unsupported; }

cublasStatus_t cublasGemmGroupedBatchedEx(cublasHandle_t handle, const cublasOperation_t transa_array[],
                                          const cublasOperation_t transb_array[], const int m_array[],
                                          const int n_array[], const int k_array[], const void* alpha_array,
                                          const void* const Aarray[], cudaDataType_t Atype, const int lda_array[],
                                          const void* const Barray[], cudaDataType_t Btype, const int ldb_array[],
                                          const void* beta_array, void* const Carray[], cudaDataType_t Ctype,
                                          const int ldc_array[], int group_count, const int group_size[],
                                          cublasComputeType_t computeType) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (grouped_unsupported) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (group_count < 0) return report(CUBLAS_STATUS_INVALID_VALUE, "negative group count");
  if (group_count == 0) return CUBLAS_STATUS_SUCCESS;
  if (transa_array == nullptr || transb_array == nullptr || m_array == nullptr || n_array == nullptr ||
      k_array == nullptr || alpha_array == nullptr || lda_array == nullptr || ldb_array == nullptr ||
      beta_array == nullptr || ldc_array == nullptr || group_size == nullptr)
    return report(CUBLAS_STATUS_INVALID_VALUE, "a per-group array is null");
  size_t total = 0;
  for (int g = 0; g < group_count; ++g) {
    if (group_size[g] < 0) return report(CUBLAS_STATUS_INVALID_VALUE, "negative group size");
    total += static_cast<size_t>(group_size[g]);
  }
  const size_t list_bytes = total * sizeof(void*);
  if (!grove::cuda::emu::is_device_range(Aarray, list_bytes) || !grove::cuda::emu::is_device_range(Barray, list_bytes) ||
      !grove::cuda::emu::is_device_range(Carray, list_bytes))
    return report(CUBLAS_STATUS_EXECUTION_FAILED, "a pointer array is not in device memory (a GPU would fault)");
  size_t p = 0;
  for (int g = 0; g < group_count; ++g) {
    const float* alpha = static_cast<const float*>(alpha_array) + g;
    const float* beta = static_cast<const float*>(beta_array) + g;
    for (int i = 0; i < group_size[g]; ++i, ++p) {
      const cublasStatus_t s = gemm(handle, transa_array[g], transb_array[g], m_array[g], n_array[g], k_array[g], alpha,
                                    Aarray[p], Atype, lda_array[g], 0, Barray[p], Btype, ldb_array[g], 0, beta,
                                    Carray[p], Ctype, ldc_array[g], 0, 1, computeType);
      if (s != CUBLAS_STATUS_SUCCESS) return s;
    }
  }
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, CUDA_R_32F, lda, 0, B, CUDA_R_32F, ldb, 0, beta, C,
              CUDA_R_32F, ldc, 0, 1, CUBLAS_COMPUTE_32F);
}
