// SwiGLU gate: out = silu(gate) * up, silu(g) = g * sigmoid(g). Element-wise over n values.
// Backward: dgate = dout * up * sigmoid(g) * (1 + g * (1 - sigmoid(g))), dup = dout * silu(g).
#include <cmath>

#include "backend/cpu/ops/ops.h"

namespace grove::cpu {

void swiglu_forward(ThreadPool& pool, const float* gate, const float* up, float* out, size_t n) {
  pool.parallel_for(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const float g = gate[i];
      out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
  }, 4096);
}

void swiglu_backward(ThreadPool& pool, const float* dout, const float* gate, const float* up, float* dgate,
                     float* dup, size_t n) {
  pool.parallel_for(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const float g = gate[i];
      const float sig = 1.0f / (1.0f + std::exp(-g));
      const float silu = g * sig;
      dgate[i] = dout[i] * up[i] * sig * (1.0f + g * (1.0f - sig));
      dup[i] = dout[i] * silu;
    }
  }, 4096);
}

}  // namespace grove::cpu
