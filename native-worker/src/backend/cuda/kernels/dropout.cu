// Inverted dropout with the CPU backend's counter-based mask (src/backend/cpu/ops/dropout.cpp), bit for bit:
// element i of a flat array is kept iff uniform01(hash_combine(key, i)) >= p, and kept values are multiplied by
// 1 / (1 - p). The mask is a pure function of (key, i), so backward re-applies it with the same key. Pairs of
// elements per thread in a grid-stride loop; `out` may alias `in` (each element is read, then written, by one thread).
#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"
#include "grove/rng.h"

namespace grove::cuda {

using namespace kernel_util;

namespace {

__device__ __forceinline__ float dropped(float x, size_t i, float p, float keep_scale, uint64_t key) {
  return uniform01(hash_combine(key, static_cast<uint64_t>(i))) >= p ? x * keep_scale : 0.0f;
}

template <typename T, bool kPairs>
__global__ void dropout_kernel(const T* in, T* out, size_t n, float p, float keep_scale, uint64_t key) {
  for (size_t i = first_pair(); i < n; i += pair_stride()) {
    const Pair x = load_pair<kPairs>(in, i, n);
    store_pair<kPairs>(out, i, n, Pair{dropped(x.a, i, p, keep_scale, key), dropped(x.b, i + 1, p, keep_scale, key)});
  }
}

}  // namespace

template <typename T>
void dropout(const T* in, T* out, size_t n, float p, uint64_t key, cudaStream_t stream) {
  if (n == 0) return;
  // The same fp32 expression as the CPU op, so kept values match it exactly too.
  const float keep_scale = 1.0f / (1.0f - p);
  if (pairs_aligned({in, out}))
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, dropout_kernel<T, true>)(in, out, n, p, keep_scale, key);
  else
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, dropout_kernel<T, false>)(in, out, n, p, keep_scale, key);
  GROVE_CHECK_LAUNCH("dropout");
}

template void dropout<float>(const float*, float*, size_t, float, uint64_t, cudaStream_t);
template void dropout<bf16>(const bf16*, bf16*, size_t, float, uint64_t, cudaStream_t);

}  // namespace grove::cuda
