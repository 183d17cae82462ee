// Masked token cross-entropy over logits [rows, vocab]. Rows with target < 0 are not targets (loss 0, grad 0).
// Forward: loss[t] = lse[t] - logits[t, target[t]], lse saved. Backward overwrites the logits in place with
// row_weight[t] * (softmax(logits[t]) - onehot(target[t])) (row_weight null: 1), so the full-vocabulary gradient
// needs no extra buffer.
#include <algorithm>
#include <cmath>

#include "backend/cpu/ops/ops.h"

namespace grove::cpu {

void cross_entropy_forward(ThreadPool& pool, const float* logits, const int32_t* targets, int rows, int vocab,
                           float* loss, float* lse) {
  pool.parallel_for(rows, [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      const float* l = logits + t * vocab;
      float mx = *std::max_element(l, l + vocab);
      double sum = 0.0;
      for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(l[i] - mx));
      const float row_lse = mx + static_cast<float>(std::log(sum));
      lse[t] = row_lse;
      loss[t] = targets[t] >= 0 ? row_lse - l[targets[t]] : 0.0f;
    }
  }, 4);
}

void cross_entropy_backward(ThreadPool& pool, float* logits, const int32_t* targets, const float* row_weight,
                            const float* lse, int rows, int vocab) {
  pool.parallel_for(rows, [&](size_t b, size_t e) {
    for (size_t t = b; t < e; ++t) {
      float* l = logits + t * vocab;
      const float w = row_weight == nullptr ? 1.0f : row_weight[t];
      if (targets[t] < 0 || w == 0.0f) {
        std::fill(l, l + vocab, 0.0f);
        continue;
      }
      for (int i = 0; i < vocab; ++i) l[i] = w * std::exp(l[i] - lse[t]);
      l[targets[t]] -= w;
    }
  }, 4);
}

}  // namespace grove::cpu
