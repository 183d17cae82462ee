// Helpers shared by the kernel files: fp32 <-> T conversion, paired loads and stores (one bf16x2 access when the
// pointers allow it), warp and block sums, and grid sizes for grid-stride loops. Device code here keeps to the
// CUDA subset of docs/cuda-backend.md, so it also builds against the CPU emulator.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "backend/cuda/cuda_api.h"
#include "backend/cuda/kernels/grid_limits.h"

namespace grove::cuda::kernel_util {

// Two consecutive elements as fp32; the second is 0 past the end of the array.
struct Pair {
  float a;
  float b;
};

// Conversions and two-element accesses per storage type (members of a class template so that every translation
// unit may define them without ODR trouble).
template <typename T>
struct Storage;

template <>
struct Storage<float> {
  __device__ __forceinline__ static float to_float(float x) { return x; }
  __device__ __forceinline__ static float from_float(float x) { return x; }
  __device__ __forceinline__ static Pair load2(const float* p) { return {p[0], p[1]}; }
  __device__ __forceinline__ static void store2(float* p, Pair v) {
    p[0] = v.a;
    p[1] = v.b;
  }
};

template <>
struct Storage<__nv_bfloat16> {
  __device__ __forceinline__ static float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
  __device__ __forceinline__ static __nv_bfloat16 from_float(float x) { return __float2bfloat16(x); }
  // p must be 4-byte aligned: one 32-bit access instead of two 16-bit ones.
  __device__ __forceinline__ static Pair load2(const __nv_bfloat16* p) {
    const __nv_bfloat162 v = *reinterpret_cast<const __nv_bfloat162*>(p);
    return {__low2float(v), __high2float(v)};
  }
  __device__ __forceinline__ static void store2(__nv_bfloat16* p, Pair v) {
    *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(v.a, v.b);
  }
};

template <typename T>
__device__ __forceinline__ float to_float(T x) {
  return Storage<T>::to_float(x);
}

template <typename T>
__device__ __forceinline__ T from_float(float x) {
  return Storage<T>::from_float(x);
}

// Elements i and i + 1 of p[0, n) (i even). kPairs: the host checked that every pointer of the launch is 4-byte
// aligned, so a bf16 pair is one access.
template <bool kPairs, typename T>
__device__ __forceinline__ Pair load_pair(const T* p, size_t i, size_t n) {
  if (kPairs && i + 1 < n) return Storage<T>::load2(p + i);
  return {to_float(p[i]), i + 1 < n ? to_float(p[i + 1]) : 0.0f};
}

template <bool kPairs, typename T>
__device__ __forceinline__ void store_pair(T* p, size_t i, size_t n, Pair v) {
  if (kPairs && i + 1 < n) {
    Storage<T>::store2(p + i, v);
    return;
  }
  p[i] = from_float<T>(v.a);
  if (i + 1 < n) p[i + 1] = from_float<T>(v.b);
}

// Grid-stride loop over pairs of a flat array: the first element of this thread's first pair, and the step.
__device__ __forceinline__ size_t first_pair() {
  return 2 * (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x);
}
__device__ __forceinline__ size_t pair_stride() { return 2 * static_cast<size_t>(gridDim.x) * blockDim.x; }

template <typename V>
__device__ __forceinline__ V warp_sum(V v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum of v over a 1-D block (blockDim.x a multiple of 32), returned to every thread. `scratch` is a __shared__ V[32]
// of the calling kernel; it is free again when this returns, so a kernel may call this once per row.
template <typename V>
__device__ __forceinline__ V block_sum(V v, V* scratch) {
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < blockDim.x / 32 ? scratch[lane] : V(0);
  v = warp_sum(v);
  __syncthreads();
  return v;
}

// Multi-tensor kernels: calls fn(t, j) for each of the calling thread's elements, in a grid-stride loop over the
// concatenation of `count` tensors, tensor t holding elements [starts[t], starts[t + 1]) (starts[count] = total;
// empty tensors allowed), j the element's index inside tensor t. The thread finds its first element's tensor by
// binary search (the last t with starts[t] <= i); as its indices only grow, it then moves forward.
template <typename Fn>
__device__ __forceinline__ void for_each_tensor_element(const size_t* __restrict__ starts, int count, size_t total,
                                                        Fn&& fn) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  int lo = 0, hi = count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (starts[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  for (int t = lo; i < total; i += stride) {
    while (starts[t + 1] <= i) ++t;
    fn(t, i - starts[t]);
  }
}

// ---- host side ----------------------------------------------------------------------------------------------

inline unsigned blocks_for(size_t items, unsigned block = kBlock, unsigned max_blocks = kMaxBlocks) {
  const size_t blocks = (items + block - 1) / block;
  return static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(blocks, max_blocks)));
}

// Blocks for a grid-stride loop over the (n + 1) / 2 pairs of a flat array.
inline unsigned blocks_for_pairs(size_t n) { return blocks_for((n + 1) / 2); }

// True when every pointer is 4-byte aligned, so bf16 pairs can be read and written as one bf16x2.
inline bool pairs_aligned(std::initializer_list<const void*> pointers) {
  for (const void* p : pointers)
    if (reinterpret_cast<uintptr_t>(p) % 4 != 0) return false;
  return true;
}

// Launch shape for loops over [rows, cols]: grid y walks rows (grid-stride past 65535), grid x walks column tiles
// of `block` threads (at most 256, and no wider than the row rounded up to a warp); with few rows, more column
// tiles keep the GPU busy.
struct RowsColsLaunch {
  dim3 grid;
  unsigned block;
};

inline RowsColsLaunch rows_cols_launch(int rows, int cols) {
  const unsigned width = static_cast<unsigned>(std::max(cols, 1));
  const unsigned block = std::min(kBlock, (width + 31) / 32 * 32);
  const unsigned y = static_cast<unsigned>(std::min<long long>(std::max(rows, 1), kMaxGridY));
  const unsigned x = blocks_for(width, block, std::max(1u, kMaxBlocks / y));
  return {dim3(x, y, 1), block};
}

// Threads per block for one-block-per-row kernels: about 8 elements per thread, 32 to 1024 threads.
inline unsigned row_block(int dim) {
  const unsigned per_8 = static_cast<unsigned>((std::max(dim, 1) + 7) / 8);
  return std::min(1024u, std::max(32u, (per_8 + 31) / 32 * 32));
}

}  // namespace grove::cuda::kernel_util
