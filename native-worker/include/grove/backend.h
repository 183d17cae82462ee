// The backend interface: every numeric op the engine runs, forward and backward, on memory the backend owns.
// The CPU reference backend implements it with OpenBLAS and threads; a CUDA backend implements the same calls with
// device pointers. Pointers passed to ops are backend memory (Buffer::data()); index arrays (token ids, positions,
// sequence starts, targets) are host arrays that stay valid for the whole step, so a device backend may upload
// them once per step. All matrices are row-major. Ops never fail: shapes are validated before a step starts.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "grove/buffer.h"

namespace grove {

struct MemoryStats {
  std::array<size_t, kMemoryCategoryCount> current{};
  std::array<size_t, kMemoryCategoryCount> peak{};
  size_t current_total = 0;
  size_t peak_total = 0;
};

// Packed variable-length causal attention over T tokens: sequence s is rows [seq_starts[s], seq_starts[s+1]).
struct AttentionShape {
  int tokens = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  float scale = 1.0f;
  int sliding_window = 0;  // 0 = none; else key j is visible from query i iff i - j < sliding_window
  const int32_t* seq_starts = nullptr;
  int num_seqs = 0;
};

struct AdamWParams {
  float lr = 0.0f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
  int64_t step = 1;  // 1-based, for bias correction
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // Zero-initialised buffer of `numel` floats, counted under `category`. Throws std::bad_alloc when out of memory
  // or when the allocation would take the total past the memory limit.
  Buffer alloc(size_t numel, MemoryCategory category);
  // Caps the bytes this backend may hold at once (0 = no cap), so an engine sharing a machine fails a job with
  // `oom` instead of the whole process being killed.
  void set_memory_limit(size_t bytes) { limit_ = bytes; }
  MemoryStats memory_stats() const;
  void reset_peak_memory();

  virtual void copy_from_host(float* dst, const float* src, size_t n) = 0;
  virtual void copy_to_host(float* dst, const float* src, size_t n) = 0;
  virtual void copy(float* dst, const float* src, size_t n) = 0;
  virtual void fill(float* x, float value, size_t n) = 0;

  // C = alpha * op(A) * op(B) + beta * C, with op(A) M x K and op(B) K x N.
  virtual void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) = 0;
  // y[t, :] += bias for every row t.
  virtual void add_bias(float* y, const float* bias, int rows, int cols) = 0;
  // y += alpha * x
  virtual void axpy(float* y, const float* x, float alpha, size_t n) = 0;
  virtual void scale(float* x, float alpha, size_t n) = 0;
  virtual double sum_squares(const float* x, size_t n) = 0;
  virtual bool all_finite(const float* x, size_t n) = 0;

  // out = in * keep / (1 - p), keep ~ Bernoulli(1 - p) from a counter-based hash of (key, element index), so the
  // same key gives the same mask in forward and backward and after a resume.
  virtual void dropout(const float* in, float* out, size_t n, float p, uint64_t key) = 0;

  virtual void embedding_forward(const float* table, const int32_t* ids, int tokens, int dim, float* out) = 0;
  // dtable[ids[t]] += dout[t]
  virtual void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable) = 0;

  // y = x / sqrt(mean(x^2) + eps) * w; rstd[t] saved for backward.
  virtual void rmsnorm_forward(const float* x, const float* w, int rows, int dim, float eps, float* y,
                               float* rstd) = 0;
  // dx += d/dx of rmsnorm given dy (accumulates, so the residual stream's gradient can be passed in directly).
  virtual void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, int rows,
                                int dim, float* dx) = 0;

  // In-place rotate-half RoPE on x [tokens, heads * head_dim] at the given positions; backward rotates back.
  virtual void rope_forward(float* x, const int32_t* positions, int tokens, int heads, int head_dim,
                            const float* inv_freq) = 0;
  virtual void rope_backward(float* dx, const int32_t* positions, int tokens, int heads, int head_dim,
                             const float* inv_freq) = 0;

  // q [T, H*D], k/v [T, KV*D], out [T, H*D], lse [T, H] (log-sum-exp of the scaled scores, saved for backward).
  virtual void attention_forward(const AttentionShape& shape, const float* q, const float* k, const float* v,
                                 float* out, float* lse) = 0;
  // Writes (overwrites) dq, dk, dv.
  virtual void attention_backward(const AttentionShape& shape, const float* dout, const float* q, const float* k,
                                  const float* v, const float* out, const float* lse, float* dq, float* dk,
                                  float* dv) = 0;

  // out = silu(gate) * up
  virtual void swiglu_forward(const float* gate, const float* up, float* out, size_t n) = 0;
  virtual void swiglu_backward(const float* dout, const float* gate, const float* up, float* dgate, float* dup,
                               size_t n) = 0;

  // Per row t with targets[t] >= 0: loss[t] = logsumexp(logits[t]) - logits[t, targets[t]]; lse[t] saved.
  // Rows with targets[t] < 0 get loss 0.
  virtual void cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int vocab,
                                     float* loss, float* lse) = 0;
  // Overwrites logits with d(sum_t row_weight[t] * loss[t]) / d logits.
  virtual void cross_entropy_backward(float* logits, const int32_t* targets, const float* row_weight,
                                      const float* lse, int rows, int vocab) = 0;

  // torch.optim.AdamW update of one tensor (decoupled weight decay, bias-corrected moments).
  virtual void adamw_step(float* param, const float* grad, float* m, float* v, size_t n,
                          const AdamWParams& params) = 0;

 protected:
  virtual float* raw_alloc(size_t bytes) = 0;
  virtual void raw_free(float* p) = 0;

 private:
  friend class Buffer;
  void release(float* p, size_t bytes, MemoryCategory category);

  std::array<std::atomic<size_t>, kMemoryCategoryCount> current_{};
  std::array<std::atomic<size_t>, kMemoryCategoryCount> peak_{};
  std::atomic<size_t> current_total_{0};
  std::atomic<size_t> peak_total_{0};
  size_t limit_ = 0;
};

std::unique_ptr<Backend> make_cpu_backend(int threads);

}  // namespace grove
