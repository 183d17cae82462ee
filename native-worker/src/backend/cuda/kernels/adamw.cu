// AdamW on fp32 master weights with torch.optim.AdamW semantics, the same formula and operation order as the CPU
// op (src/backend/cpu/ops/adamw.cpp): p *= 1 - lr*wd; m = lerp(m, g, 1-b1); v = b2*v + (1-b2)*g^2;
// p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps). The bias corrections are computed once on the host in fp64 as the
// CPU op does. param, grad, m, v are flat [n] fp32 arrays, one element per thread in a grid-stride loop.
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

__global__ void adamw_kernel(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ m,
                             float* __restrict__ v, size_t n, AdamWScalars s) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float g = grad[i];
    float p = param[i] * s.decay;
    float mi = m[i];
    mi += (1.0f - s.beta1) * (g - mi);
    const float vi = v[i] * s.beta2 + (1.0f - s.beta2) * g * g;
    const float denom = sqrtf(vi) / s.bc2_sqrt + s.eps;
    p -= s.step_size * mi / denom;
    param[i] = p;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

void adamw_step(float* param, const float* grad, float* m, float* v, size_t n, const AdamWParams& p,
                cudaStream_t stream) {
  if (n == 0) return;
  const double bc1 = 1.0 - std::pow(static_cast<double>(p.beta1), static_cast<double>(p.step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(p.beta2), static_cast<double>(p.step));
  const AdamWScalars s{static_cast<float>(p.lr / bc1), static_cast<float>(std::sqrt(bc2)),
                       1.0f - p.lr * p.weight_decay, p.beta1, p.beta2, p.eps};
  GROVE_LAUNCH(blocks_for(n), kBlock, 0, stream, adamw_kernel)(param, grad, m, v, n, s);
  GROVE_CHECK_LAUNCH("adamw_step");
}

}  // namespace grove::cuda
