// Element-wise helpers of the CUDA backend: dtype casts, fills, BLAS-1 (axpy, scale), per-row scaling and bias,
// and the two reductions the optimizer needs (sum of squares for the gradient norm, count of NaN/Inf).
// Flat arrays are walked in pairs by grid-stride loops (one bf16x2 access per pair when aligned); [rows, cols]
// row-major arrays use a 2-D grid, y over rows and x over column tiles. Arithmetic is fp32; sum_squares
// accumulates in fp64 so that large gradients cannot overflow before the square root.
#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"

namespace grove::cuda {

using namespace kernel_util;

namespace {

template <typename TD, typename TS, bool kPairs>
__global__ void cast_kernel(const TS* __restrict__ src, TD* __restrict__ dst, size_t n) {
  for (size_t i = first_pair(); i < n; i += pair_stride()) store_pair<kPairs>(dst, i, n, load_pair<kPairs>(src, i, n));
}

template <typename T, bool kPairs>
__global__ void fill_kernel(T* x, float value, size_t n) {
  for (size_t i = first_pair(); i < n; i += pair_stride()) store_pair<kPairs>(x, i, n, Pair{value, value});
}

template <typename TY, typename TX, bool kPairs>
__global__ void axpy_kernel(TY* __restrict__ y, const TX* __restrict__ x, float alpha, size_t n) {
  for (size_t i = first_pair(); i < n; i += pair_stride()) {
    const Pair yv = load_pair<kPairs>(y, i, n), xv = load_pair<kPairs>(x, i, n);
    store_pair<kPairs>(y, i, n, Pair{yv.a + alpha * xv.a, yv.b + alpha * xv.b});
  }
}

template <typename T, bool kPairs>
__global__ void scale_kernel(T* x, float alpha, size_t n) {
  for (size_t i = first_pair(); i < n; i += pair_stride()) {
    const Pair v = load_pair<kPairs>(x, i, n);
    store_pair<kPairs>(x, i, n, Pair{alpha * v.a, alpha * v.b});
  }
}

template <typename T>
__global__ void scale_rows_kernel(T* x, const float* __restrict__ w, int rows, int cols) {
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    const float wr = w[r];
    T* xr = x + static_cast<size_t>(r) * cols;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x)
      xr[c] = from_float<T>(to_float(xr[c]) * wr);
  }
}

template <typename T>
__global__ void add_bias_kernel(T* y, const T* __restrict__ bias, int rows, int cols) {
  for (int r = blockIdx.y; r < rows; r += gridDim.y) {
    T* yr = y + static_cast<size_t>(r) * cols;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x)
      yr[c] = from_float<T>(to_float(yr[c]) + to_float(bias[c]));
  }
}

// One fp64 atomic per block. The tail "element" of an odd n reads as 0 and adds nothing.
template <typename T, bool kPairs>
__global__ void sum_squares_kernel(const T* __restrict__ x, size_t n, double* out) {
  __shared__ double scratch[32];
  double acc = 0.0;
  for (size_t i = first_pair(); i < n; i += pair_stride()) {
    const Pair v = load_pair<kPairs>(x, i, n);
    acc += static_cast<double>(v.a) * v.a + static_cast<double>(v.b) * v.b;
  }
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) atomicAdd(out, acc);
}

// fp32 -> bf16 over several tensors (kernel_util's for_each_tensor_element), one element per thread.
__global__ void cast_many_kernel(const CastItem* __restrict__ items, const size_t* __restrict__ starts, int count,
                                 size_t total) {
  for_each_tensor_element(starts, count, total,
                          [&](int t, size_t j) { items[t].dst[j] = __float2bfloat16(items[t].src[j]); });
}

// Over several fp32 tensors (kernel_util's for_each_tensor_element); one fp64 atomic per block.
__global__ void sum_squares_many_kernel(const float* const* __restrict__ data, const size_t* __restrict__ starts,
                                        int count, size_t total, double* out) {
  __shared__ double scratch[32];
  double acc = 0.0;
  for_each_tensor_element(starts, count, total, [&](int t, size_t j) {
    const double v = data[t][j];
    acc += v * v;
  });
  acc = block_sum(acc, scratch);
  if (threadIdx.x == 0) atomicAdd(out, acc);
}

template <typename T, bool kPairs>
__global__ void count_nonfinite_kernel(const T* __restrict__ x, size_t n, unsigned int* out) {
  __shared__ unsigned int scratch[32];
  unsigned int count = 0;
  for (size_t i = first_pair(); i < n; i += pair_stride()) {
    const Pair v = load_pair<kPairs>(x, i, n);
    count += (isfinite(v.a) ? 0u : 1u) + (isfinite(v.b) ? 0u : 1u);
  }
  count = block_sum(count, scratch);
  if (threadIdx.x == 0 && count != 0) atomicAdd(out, count);
}

}  // namespace

template <typename TD, typename TS>
void cast(const TS* src, TD* dst, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  if (pairs_aligned({src, dst}))
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, cast_kernel<TD, TS, true>)(src, dst, n);
  else
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, cast_kernel<TD, TS, false>)(src, dst, n);
  GROVE_CHECK_LAUNCH("cast");
}

template <typename T>
void fill(T* x, float value, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  if (pairs_aligned({x}))
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, fill_kernel<T, true>)(x, value, n);
  else
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, fill_kernel<T, false>)(x, value, n);
  GROVE_CHECK_LAUNCH("fill");
}

template <typename TY, typename TX>
void axpy(TY* y, const TX* x, float alpha, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  if (pairs_aligned({y, x}))
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, axpy_kernel<TY, TX, true>)(y, x, alpha, n);
  else
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, axpy_kernel<TY, TX, false>)(y, x, alpha, n);
  GROVE_CHECK_LAUNCH("axpy");
}

template <typename T>
void scale(T* x, float alpha, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  if (pairs_aligned({x}))
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, scale_kernel<T, true>)(x, alpha, n);
  else
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, scale_kernel<T, false>)(x, alpha, n);
  GROVE_CHECK_LAUNCH("scale");
}

template <typename T>
void scale_rows(T* x, const float* w, int rows, int cols, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  const RowsColsLaunch launch = rows_cols_launch(rows, cols);
  GROVE_LAUNCH(launch.grid, launch.block, 0, stream, scale_rows_kernel<T>)(x, w, rows, cols);
  GROVE_CHECK_LAUNCH("scale_rows");
}

template <typename T>
void add_bias(T* y, const T* bias, int rows, int cols, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  const RowsColsLaunch launch = rows_cols_launch(rows, cols);
  GROVE_LAUNCH(launch.grid, launch.block, 0, stream, add_bias_kernel<T>)(y, bias, rows, cols);
  GROVE_CHECK_LAUNCH("add_bias");
}

template <typename T>
void sum_squares(const T* x, size_t n, double* out, cudaStream_t stream) {
  if (n == 0) return;
  const unsigned blocks = blocks_for((n + 1) / 2, kBlock, kReductionBlocks);
  if (pairs_aligned({x}))
    GROVE_LAUNCH(blocks, kBlock, 0, stream, sum_squares_kernel<T, true>)(x, n, out);
  else
    GROVE_LAUNCH(blocks, kBlock, 0, stream, sum_squares_kernel<T, false>)(x, n, out);
  GROVE_CHECK_LAUNCH("sum_squares");
}

void cast_many(const CastItem* items, const size_t* starts, int count, size_t total, cudaStream_t stream) {
  if (total == 0) return;
  GROVE_LAUNCH(blocks_for(total), kBlock, 0, stream, cast_many_kernel)(items, starts, count, total);
  GROVE_CHECK_LAUNCH("cast_many");
}

void sum_squares_many(const float* const* data, const size_t* starts, int count, size_t total, double* out,
                      cudaStream_t stream) {
  if (total == 0) return;
  GROVE_LAUNCH(blocks_for(total), kBlock, 0, stream, sum_squares_many_kernel)(data, starts, count, total, out);
  GROVE_CHECK_LAUNCH("sum_squares_many");
}

template <typename T>
void count_nonfinite(const T* x, size_t n, unsigned int* out, cudaStream_t stream) {
  if (n == 0) return;
  const unsigned blocks = blocks_for((n + 1) / 2, kBlock, kReductionBlocks);
  if (pairs_aligned({x}))
    GROVE_LAUNCH(blocks, kBlock, 0, stream, count_nonfinite_kernel<T, true>)(x, n, out);
  else
    GROVE_LAUNCH(blocks, kBlock, 0, stream, count_nonfinite_kernel<T, false>)(x, n, out);
  GROVE_CHECK_LAUNCH("count_nonfinite");
}

template void cast<float, float>(const float*, float*, size_t, cudaStream_t);
template void cast<float, bf16>(const bf16*, float*, size_t, cudaStream_t);
template void cast<bf16, float>(const float*, bf16*, size_t, cudaStream_t);
template void cast<bf16, bf16>(const bf16*, bf16*, size_t, cudaStream_t);
template void axpy<float, float>(float*, const float*, float, size_t, cudaStream_t);
template void axpy<float, bf16>(float*, const bf16*, float, size_t, cudaStream_t);
template void axpy<bf16, float>(bf16*, const float*, float, size_t, cudaStream_t);
template void axpy<bf16, bf16>(bf16*, const bf16*, float, size_t, cudaStream_t);
#define GROVE_INSTANTIATE(T)                                                      \
  template void fill<T>(T*, float, size_t, cudaStream_t);                         \
  template void scale<T>(T*, float, size_t, cudaStream_t);                        \
  template void scale_rows<T>(T*, const float*, int, int, cudaStream_t);          \
  template void add_bias<T>(T*, const T*, int, int, cudaStream_t);                \
  template void sum_squares<T>(const T*, size_t, double*, cudaStream_t);          \
  template void count_nonfinite<T>(const T*, size_t, unsigned int*, cudaStream_t);
GROVE_INSTANTIATE(float)
GROVE_INSTANTIATE(bf16)
#undef GROVE_INSTANTIATE

}  // namespace grove::cuda
