// Inverted dropout with a counter-based mask: element i is kept iff hash(key, i) maps to u >= p, and kept values
// are scaled by 1/(1-p). The mask is a pure function of (key, i), so backward and a resumed run see the same mask.
#include "backend/cpu/ops/ops.h"
#include "grove/rng.h"

namespace grove::cpu {

void dropout(ThreadPool& pool, const float* in, float* out, size_t n, float p, uint64_t key) {
  const float keep_scale = 1.0f / (1.0f - p);
  pool.parallel_for(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) out[i] = uniform01(hash_combine(key, i)) >= p ? in[i] * keep_scale : 0.0f;
  }, 8192);
}

}  // namespace grove::cpu
