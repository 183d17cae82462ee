// Embedding lookup: out[t, :] = table[ids[t], :] (table [vocab, dim], out [tokens, dim]).
// Backward scatters dout rows into dtable (serial: rows that share an id must add in order).
#include <cstring>

#include "backend/cpu/ops/ops.h"

namespace grove::cpu {

void embedding_forward(ThreadPool& pool, const float* table, const int32_t* ids, int tokens, int dim, float* out) {
  pool.parallel_for(tokens, [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) std::memcpy(out + t * dim, table + static_cast<size_t>(ids[t]) * dim, dim * 4);
  }, 64);
}

void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable) {
  for (int t = 0; t < tokens; ++t) {
    float* row = dtable + static_cast<size_t>(ids[t]) * dim;
    const float* g = dout + static_cast<size_t>(t) * dim;
    for (int i = 0; i < dim; ++i) row[i] += g[i];
  }
}

}  // namespace grove::cpu
