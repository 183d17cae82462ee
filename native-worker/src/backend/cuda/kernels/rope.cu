// Rotary position embedding in the rotate-half layout of transformers' Llama, in place on x [tokens, heads * D]
// (row-major, head h at columns [h*D, (h+1)*D)): for i < D/2 the pair (x[i], x[i + D/2]) of every head is rotated
// by angle = inv_freq[i] * positions[t], formed in fp32 as the CPU op does. inverse = true rotates by -angle (the
// backward of the forward rotation). One thread per (token, i) computes the angle's cos/sin once and walks the
// heads; neighbouring threads touch neighbouring columns.
#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"

namespace grove::cuda {

using namespace kernel_util;

namespace {

template <typename T>
__global__ void rope_kernel(T* x, const int32_t* __restrict__ positions, int tokens, int heads, int head_dim,
                            const float* __restrict__ inv_freq, float direction) {
  const int half = head_dim / 2;
  const size_t items = static_cast<size_t>(tokens) * half;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t j = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < items; j += stride) {
    const size_t t = j / half;
    const int i = static_cast<int>(j % half);
    const float angle = inv_freq[i] * static_cast<float>(positions[t]);
    // Full-range sinf/cosf (not __sinf): positions reach tens of thousands of radians.
    const float c = cosf(angle), s = direction * sinf(angle);
    T* xt = x + t * heads * head_dim;
    for (int h = 0; h < heads; ++h) {
      T* xh = xt + static_cast<size_t>(h) * head_dim;
      const float x1 = to_float(xh[i]), x2 = to_float(xh[i + half]);
      xh[i] = from_float<T>(x1 * c - x2 * s);
      xh[i + half] = from_float<T>(x2 * c + x1 * s);
    }
  }
}

}  // namespace

template <typename T>
void rope(T* x, const int32_t* positions, int tokens, int heads, int head_dim, const float* inv_freq, bool inverse,
          cudaStream_t stream) {
  if (tokens <= 0 || heads <= 0 || head_dim < 2) return;
  const size_t items = static_cast<size_t>(tokens) * (head_dim / 2);
  GROVE_LAUNCH(blocks_for(items), kBlock, 0, stream, rope_kernel<T>)(x, positions, tokens, heads, head_dim, inv_freq,
                                                                     inverse ? -1.0f : 1.0f);
  GROVE_CHECK_LAUNCH("rope");
}

template void rope<float>(float*, const int32_t*, int, int, int, const float*, bool, cudaStream_t);
template void rope<bf16>(bf16*, const int32_t*, int, int, int, const float*, bool, cudaStream_t);

}  // namespace grove::cuda
