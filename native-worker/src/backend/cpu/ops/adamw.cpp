// AdamW update with torch.optim.AdamW semantics, in the same operation order as its single-tensor path:
// p *= 1 - lr*wd; m = lerp(m, g, 1-b1); v = b2*v + (1-b2)*g^2; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
#include <cmath>

#include "backend/cpu/ops/ops.h"

namespace grove::cpu {

void adamw_step(ThreadPool& pool, float* param, const float* grad, float* m, float* v, size_t n,
                const AdamWParams& p) {
  const double bc1 = 1.0 - std::pow(static_cast<double>(p.beta1), static_cast<double>(p.step));
  const double bc2 = 1.0 - std::pow(static_cast<double>(p.beta2), static_cast<double>(p.step));
  const float step_size = static_cast<float>(p.lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float decay = 1.0f - p.lr * p.weight_decay;
  pool.parallel_for(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const float g = grad[i];
      param[i] *= decay;
      m[i] += (1.0f - p.beta1) * (g - m[i]);
      v[i] = v[i] * p.beta2 + (1.0f - p.beta2) * g * g;
      const float denom = std::sqrt(v[i]) / bc2_sqrt + p.eps;
      param[i] -= step_size * m[i] / denom;
    }
  }, 8192);
}

}  // namespace grove::cpu
