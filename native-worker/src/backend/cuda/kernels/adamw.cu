// AdamW on fp32 master weights with torch.optim.AdamW semantics, the same formula and operation order as the CPU
// op (src/backend/cpu/ops/adamw.cpp): p *= 1 - lr*wd; m = lerp(m, g, 1-b1); v = b2*v + (1-b2)*g^2;
// p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps). The bias corrections are computed once on the host in fp64 as the
// CPU op does. param, grad, m, v are flat [n] fp32 arrays, one element per thread in a grid-stride loop.
// adamw_step_many runs the same update over several tensors in one launch: the grid strides over their
// concatenation (kernel_util's for_each_tensor_element); the gradient is scaled on load (clipping) and zeroed after use.
#include <cmath>

#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"

namespace grove::cuda {

using namespace kernel_util;

namespace {

struct AdamWScalars {
  float step_size;  // lr / bc1
  float bc2_sqrt;
  float decay;  // 1 - lr * weight_decay
  float beta1;
  float beta2;
  float eps;
};

__device__ __forceinline__ void adamw_update(float* __restrict__ param, float* __restrict__ m, float* __restrict__ v,
                                             float g, const AdamWScalars& s) {
  float p = *param * s.decay;
  float mi = *m;
  mi += (1.0f - s.beta1) * (g - mi);
  const float vi = *v * s.beta2 + (1.0f - s.beta2) * g * g;
  const float denom = sqrtf(vi) / s.bc2_sqrt + s.eps;
  p -= s.step_size * mi / denom;
  *param = p;
  *m = mi;
  *v = vi;
}

__global__ void adamw_many_kernel(const AdamWTensor* __restrict__ tensors, const size_t* __restrict__ starts, int count,
                                  size_t total, AdamWScalars s, float grad_scale) {
  for_each_tensor_element(starts, count, total, [&](int t, size_t j) {
    const AdamWTensor& x = tensors[t];
    const float g = x.grad[j] * grad_scale;
    x.grad[j] = 0.0f;
    adamw_update(x.param + j, x.m + j, x.v + j, g, s);
  });
}

__global__ void adamw_kernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m,
                             float* __restrict__ v, size_t n, AdamWScalars s) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    adamw_update(param + i, m + i, v + i, grad[i], s);
  }
}

}  // namespace

namespace {
AdamWScalars scalars(const AdamWParams& p) {
  const double bc1 = 1.0 - std::pow(static_cast<double>(p.beta1), static_cast<double>(p.step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(p.beta2), static_cast<double>(p.step));
  return {static_cast<float>(p.lr / bc1), static_cast<float>(std::sqrt(bc2)), 1.0f - p.lr * p.weight_decay,
          p.beta1, p.beta2, p.eps};
}
}  // namespace

void adamw_step(float* param, const float* grad, float* m, float* v, size_t n, const AdamWParams& p,
                cudaStream_t stream) {
  if (n == 0) return;
  GROVE_LAUNCH(blocks_for(n), kBlock, 0, stream, adamw_kernel)(param, grad, m, v, n, scalars(p));
  GROVE_CHECK_LAUNCH("adamw_step");
}

void adamw_step_many(const AdamWTensor* tensors, const size_t* starts, int count, size_t total, const AdamWParams& p,
                     float grad_scale, cudaStream_t stream) {
  if (total == 0) return;
  GROVE_LAUNCH(blocks_for(total), kBlock, 0, stream, adamw_many_kernel)(tensors, starts, count, total, scalars(p),
                                                                        grad_scale);
  GROVE_CHECK_LAUNCH("adamw_step_many");
}

}  // namespace grove::cuda
