// SwiGLU gate over flat arrays of n elements (the [tokens, intermediate] activations): out = silu(gate) * up with
// silu(g) = g * sigmoid(g). Backward: dgate = dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))),
// dup = dout * silu(g). Same fp32 formulas as the CPU op; pairs of elements per thread (bf16x2 when aligned) in a
// grid-stride loop.
#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"

namespace grove::cuda {

using namespace kernel_util;

namespace {

__device__ __forceinline__ float silu_times(float g, float u) { return g / (1.0f + expf(-g)) * u; }

template <typename T, bool kPairs>
__global__ void swiglu_forward_kernel(const T* __restrict__ gate, const T* __restrict__ up, T* __restrict__ out,
                                      size_t n) {
  for (size_t i = first_pair(); i < n; i += pair_stride()) {
    const Pair g = load_pair<kPairs>(gate, i, n), u = load_pair<kPairs>(up, i, n);
    store_pair<kPairs>(out, i, n, Pair{silu_times(g.a, u.a), silu_times(g.b, u.b)});
  }
}

// dgate and dup of one element.
__device__ __forceinline__ void swiglu_grad(float dout, float g, float u, float& dgate, float& dup) {
  const float sig = 1.0f / (1.0f + expf(-g));
  dgate = dout * u * sig * (1.0f + g * (1.0f - sig));
  dup = dout * (g * sig);
}

template <typename T, bool kPairs>
__global__ void swiglu_backward_kernel(const T* __restrict__ dout, const T* __restrict__ gate,
                                       const T* __restrict__ up, T* __restrict__ dgate, T* __restrict__ dup,
                                       size_t n) {
  for (size_t i = first_pair(); i < n; i += pair_stride()) {
    const Pair d = load_pair<kPairs>(dout, i, n), g = load_pair<kPairs>(gate, i, n), u = load_pair<kPairs>(up, i, n);
    Pair dg, du;
    swiglu_grad(d.a, g.a, u.a, dg.a, du.a);
    swiglu_grad(d.b, g.b, u.b, dg.b, du.b);
    store_pair<kPairs>(dgate, i, n, dg);
    store_pair<kPairs>(dup, i, n, du);
  }
}

}  // namespace

template <typename T>
void swiglu_forward(const T* gate, const T* up, T* out, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  if (pairs_aligned({gate, up, out}))
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, swiglu_forward_kernel<T, true>)(gate, up, out, n);
  else
    GROVE_LAUNCH(blocks_for_pairs(n), kBlock, 0, stream, swiglu_forward_kernel<T, false>)(gate, up, out, n);
  GROVE_CHECK_LAUNCH("swiglu_forward");
}

template <typename T>
void swiglu_backward(const T* dout, const T* gate, const T* up, T* dgate, T* dup, size_t n, cudaStream_t stream) {
  if (n == 0) return;
  const unsigned blocks = blocks_for_pairs(n);
  if (pairs_aligned({dout, gate, up, dgate, dup}))
    GROVE_LAUNCH(blocks, kBlock, 0, stream, swiglu_backward_kernel<T, true>)(dout, gate, up, dgate, dup, n);
  else
    GROVE_LAUNCH(blocks, kBlock, 0, stream, swiglu_backward_kernel<T, false>)(dout, gate, up, dgate, dup, n);
  GROVE_CHECK_LAUNCH("swiglu_backward");
}

template void swiglu_forward<float>(const float*, const float*, float*, size_t, cudaStream_t);
template void swiglu_forward<bf16>(const bf16*, const bf16*, bf16*, size_t, cudaStream_t);
template void swiglu_backward<float>(const float*, const float*, const float*, float*, float*, size_t, cudaStream_t);
template void swiglu_backward<bf16>(const bf16*, const bf16*, const bf16*, bf16*, bf16*, size_t, cudaStream_t);

}  // namespace grove::cuda
