// Rotary position embedding, rotate-half layout as in transformers' Llama: for each head and i < D/2, the pair
// (x[i], x[i + D/2]) is rotated by angle pos * inv_freq[i]. x is [tokens, heads * D], rotated in place.
// Backward applies the transposed (inverse) rotation to the gradient.
#include <cmath>

#include "backend/cpu/ops/ops.h"

namespace grove::cpu {

namespace {

void rotate(ThreadPool& pool, float* x, const int32_t* positions, int tokens, int heads, int head_dim,
            const float* inv_freq, float direction) {
  const int half = head_dim / 2;
  pool.parallel_for(tokens, [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      const float pos = static_cast<float>(positions[t]);
      for (int i = 0; i < half; ++i) {
        // The angle is formed in fp32 as transformers does (inv_freq @ position_ids in float32).
        const float angle = inv_freq[i] * pos;
        const float c = std::cos(angle), s = direction * std::sin(angle);
        for (int h = 0; h < heads; ++h) {
          float* xh = x + t * static_cast<size_t>(heads) * head_dim + static_cast<size_t>(h) * head_dim;
          const float x1 = xh[i], x2 = xh[i + half];
          xh[i] = x1 * c - x2 * s;
          xh[i + half] = x2 * c + x1 * s;
        }
      }
    }
  }, 16);
}

}  // namespace

void rope_forward(ThreadPool& pool, float* x, const int32_t* positions, int tokens, int heads, int head_dim,
                  const float* inv_freq) {
  rotate(pool, x, positions, tokens, heads, head_dim, inv_freq, 1.0f);
}

void rope_backward(ThreadPool& pool, float* dx, const int32_t* positions, int tokens, int heads, int head_dim,
                   const float* inv_freq) {
  rotate(pool, dx, positions, tokens, heads, head_dim, inv_freq, -1.0f);
}

}  // namespace grove::cpu
