// RMSNorm over the rows of x [rows, dim] (row-major): y = w * (x * rstd), rstd = 1 / sqrt(mean(x^2) + eps) saved
// as fp32 [rows]. Backward, accumulated into dx: dx += rstd * w * dy - x * rstd^3 / dim * sum(w * dy * x).
// One block per row (grid-stride over rows), threads walk the row in pairs (bf16x2 when dim is even and the
// pointers are aligned); the row sums are fp32 block reductions.
#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"

namespace grove::cuda {

using namespace kernel_util;

namespace {

// Up to 1024 threads per block (row_block), so the kernels must fit 64 registers a thread.
template <typename T, bool kPairs>
__global__ void __launch_bounds__(1024)
    rmsnorm_forward_kernel(const T* __restrict__ x, const T* __restrict__ w, int rows, int dim, float eps,
                           T* __restrict__ y, float* __restrict__ rstd) {
  __shared__ float scratch[32];
  const size_t n = static_cast<size_t>(dim);
  for (int r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + static_cast<size_t>(r) * dim;
    T* yr = y + static_cast<size_t>(r) * dim;
    float ss = 0.0f;
    for (size_t i = 2 * threadIdx.x; i < n; i += 2 * blockDim.x) {
      const Pair v = load_pair<kPairs>(xr, i, n);
      ss += v.a * v.a + v.b * v.b;
    }
    ss = block_sum(ss, scratch);
    const float rs = 1.0f / sqrtf(ss / static_cast<float>(dim) + eps);
    if (threadIdx.x == 0) rstd[r] = rs;
    for (size_t i = 2 * threadIdx.x; i < n; i += 2 * blockDim.x) {
      const Pair v = load_pair<kPairs>(xr, i, n), wv = load_pair<kPairs>(w, i, n);
      store_pair<kPairs>(yr, i, n, Pair{wv.a * (v.a * rs), wv.b * (v.b * rs)});
    }
  }
}

template <typename T, bool kPairs>
__global__ void __launch_bounds__(1024)
    rmsnorm_backward_kernel(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ w,
                            const float* __restrict__ rstd, int rows, int dim, T* __restrict__ dx) {
  __shared__ float scratch[32];
  const size_t n = static_cast<size_t>(dim);
  for (int r = blockIdx.x; r < rows; r += gridDim.x) {
    const size_t row = static_cast<size_t>(r) * dim;
    float dot = 0.0f;
    for (size_t i = 2 * threadIdx.x; i < n; i += 2 * blockDim.x) {
      const Pair g = load_pair<kPairs>(dy + row, i, n), xv = load_pair<kPairs>(x + row, i, n),
                 wv = load_pair<kPairs>(w, i, n);
      dot += g.a * wv.a * xv.a + g.b * wv.b * xv.b;
    }
    dot = block_sum(dot, scratch);
    const float rs = rstd[r];
    const float c = dot * rs * rs * rs / static_cast<float>(dim);
    for (size_t i = 2 * threadIdx.x; i < n; i += 2 * blockDim.x) {
      const Pair g = load_pair<kPairs>(dy + row, i, n), xv = load_pair<kPairs>(x + row, i, n),
                 wv = load_pair<kPairs>(w, i, n), d = load_pair<kPairs>(dx + row, i, n);
      store_pair<kPairs>(dx + row, i, n,
                         Pair{d.a + (rs * wv.a * g.a - xv.a * c), d.b + (rs * wv.b * g.b - xv.b * c)});
    }
  }
}

}  // namespace

template <typename T>
void rmsnorm_forward(const T* x, const T* w, int rows, int dim, float eps, T* y, float* rstd, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  const unsigned blocks = blocks_for(static_cast<size_t>(rows), 1), threads = row_block(dim);
  if (dim % 2 == 0 && pairs_aligned({x, w, y}))
    GROVE_LAUNCH(blocks, threads, 0, stream, rmsnorm_forward_kernel<T, true>)(x, w, rows, dim, eps, y, rstd);
  else
    GROVE_LAUNCH(blocks, threads, 0, stream, rmsnorm_forward_kernel<T, false>)(x, w, rows, dim, eps, y, rstd);
  GROVE_CHECK_LAUNCH("rmsnorm_forward");
}

template <typename T>
void rmsnorm_backward(const T* dy, const T* x, const T* w, const float* rstd, int rows, int dim, T* dx,
                      cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  const unsigned blocks = blocks_for(static_cast<size_t>(rows), 1), threads = row_block(dim);
  if (dim % 2 == 0 && pairs_aligned({dy, x, w, dx}))
    GROVE_LAUNCH(blocks, threads, 0, stream, rmsnorm_backward_kernel<T, true>)(dy, x, w, rstd, rows, dim, dx);
  else
    GROVE_LAUNCH(blocks, threads, 0, stream, rmsnorm_backward_kernel<T, false>)(dy, x, w, rstd, rows, dim, dx);
  GROVE_CHECK_LAUNCH("rmsnorm_backward");
}

template void rmsnorm_forward<float>(const float*, const float*, int, int, float, float*, float*, cudaStream_t);
template void rmsnorm_forward<bf16>(const bf16*, const bf16*, int, int, float, bf16*, float*, cudaStream_t);
template void rmsnorm_backward<float>(const float*, const float*, const float*, const float*, int, int, float*,
                                      cudaStream_t);
template void rmsnorm_backward<bf16>(const bf16*, const bf16*, const bf16*, const float*, int, int, bf16*,
                                     cudaStream_t);

}  // namespace grove::cuda
