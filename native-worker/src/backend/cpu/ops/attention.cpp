// Packed variable-length causal attention with grouped-query heads (GQA).
// Layout: q/out [T, H*D], k/v [T, KV*D], lse [T, H]; sequence s owns rows [seq_starts[s], seq_starts[s+1]) and a
// query only sees keys of its own sequence at or before it (and within the sliding window, if any).
// Forward saves lse = log-sum-exp of the scaled scores; backward recomputes the probabilities from it
// (flash-attention style), so no [L, L] matrix is kept between passes.
// Work is split over (sequence, kv head) pairs: each pair owns its dk/dv rows and the dq rows of its query heads,
// so threads never write the same memory.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/ops/ops.h"

namespace grove::cpu {

namespace {

inline float dot(const float* a, const float* b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline int first_key(const AttentionShape& s, int seq_begin, int i) {
  return s.sliding_window > 0 ? std::max(seq_begin, i - s.sliding_window + 1) : seq_begin;
}

}  // namespace

void attention_forward(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v,
                       float* out, float* lse) {
  const int D = s.head_dim, H = s.num_heads, KV = s.num_kv_heads, group = H / KV;
  const size_t qs = static_cast<size_t>(H) * D, ks = static_cast<size_t>(KV) * D;
  const size_t tasks = static_cast<size_t>(s.num_seqs) * KV;
  pool.parallel_for(tasks, [&](size_t b, size_t e) {
    std::vector<float> p;
    for (size_t task = b; task < e; ++task) {
      const int seq = static_cast<int>(task / KV), kvh = static_cast<int>(task % KV);
      const int begin = s.seq_starts[seq], end = s.seq_starts[seq + 1];
      p.resize(static_cast<size_t>(end - begin));
      for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
        for (int i = begin; i < end; ++i) {
          const float* qi = q + i * qs + static_cast<size_t>(h) * D;
          const int j0 = first_key(s, begin, i);
          float mx = -std::numeric_limits<float>::infinity();
          for (int j = j0; j <= i; ++j) {
            p[j - j0] = dot(qi, k + j * ks + static_cast<size_t>(kvh) * D, D) * s.scale;
            mx = std::max(mx, p[j - j0]);
          }
          float sum = 0.0f;
          for (int j = j0; j <= i; ++j) sum += (p[j - j0] = std::exp(p[j - j0] - mx));
          float* oi = out + i * qs + static_cast<size_t>(h) * D;
          std::fill(oi, oi + D, 0.0f);
          const float inv = 1.0f / sum;
          for (int j = j0; j <= i; ++j) {
            const float w = p[j - j0] * inv;
            const float* vj = v + j * ks + static_cast<size_t>(kvh) * D;
            for (int d = 0; d < D; ++d) oi[d] += w * vj[d];
          }
          lse[static_cast<size_t>(i) * H + h] = mx + std::log(sum);
        }
      }
    }
  });
}

void attention_backward(ThreadPool& pool, const AttentionShape& s, const float* dout, const float* q, const float* k,
                        const float* v, const float* out, const float* lse, float* dq, float* dk, float* dv) {
  const int D = s.head_dim, H = s.num_heads, KV = s.num_kv_heads, group = H / KV;
  const size_t qs = static_cast<size_t>(H) * D, ks = static_cast<size_t>(KV) * D;
  const size_t tasks = static_cast<size_t>(s.num_seqs) * KV;
  pool.parallel_for(tasks, [&](size_t b, size_t e) {
    for (size_t task = b; task < e; ++task) {
      const int seq = static_cast<int>(task / KV), kvh = static_cast<int>(task % KV);
      const int begin = s.seq_starts[seq], end = s.seq_starts[seq + 1];
      for (int j = begin; j < end; ++j) {
        std::fill(dk + j * ks + static_cast<size_t>(kvh) * D, dk + j * ks + static_cast<size_t>(kvh + 1) * D, 0.0f);
        std::fill(dv + j * ks + static_cast<size_t>(kvh) * D, dv + j * ks + static_cast<size_t>(kvh + 1) * D, 0.0f);
      }
      for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
        for (int i = begin; i < end; ++i) {
          const size_t qo = i * qs + static_cast<size_t>(h) * D;
          const float* qi = q + qo;
          const float* doi = dout + qo;
          float* dqi = dq + qo;
          std::fill(dqi, dqi + D, 0.0f);
          const float di = dot(doi, out + qo, D);
          const float l = lse[static_cast<size_t>(i) * H + h];
          for (int j = first_key(s, begin, i); j <= i; ++j) {
            const size_t ko = j * ks + static_cast<size_t>(kvh) * D;
            const float pij = std::exp(dot(qi, k + ko, D) * s.scale - l);
            const float ds = pij * (dot(doi, v + ko, D) - di) * s.scale;
            float* dkj = dk + ko;
            float* dvj = dv + ko;
            const float* kj = k + ko;
            for (int d = 0; d < D; ++d) {
              dqi[d] += ds * kj[d];
              dkj[d] += ds * qi[d];
              dvj[d] += pij * doi[d];
            }
          }
        }
      }
    }
  });
}

}  // namespace grove::cpu
