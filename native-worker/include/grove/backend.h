// The backend interface: every numeric op the engine runs, forward and backward, on memory the backend owns.
// The CPU reference backend implements it with OpenBLAS and threads; the CUDA backend implements the same calls
// with device pointers. Pointers passed to ops are backend memory, typed (Buffer::ptr(), grove/dtype.h); index
// arrays (token ids, positions, sequence starts, targets) are host arrays that stay valid for the whole step, so a
// device backend may upload them once per step. All matrices are row-major. Ops return nothing: shapes are
// validated before a step starts; a device failure throws BackendError, which the engine reports with context.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "grove/buffer.h"
#include "grove/dtype.h"
#include "grove/model_config.h"
#include "grove/status.h"

namespace grove {

// A failure inside the backend (a device error), with what was being done.
class BackendError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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

// One problem of Backend::gemm_grouped: C = alpha * op(A) * op(B) + beta * C, as Backend::gemm.
struct GemmProblem {
  int m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  ConstTypedPtr a;
  int lda = 0;
  ConstTypedPtr b;
  int ldb = 0;
  float beta = 0.0f;
  TypedPtr c;
  int ldc = 0;
};

// Device time spent in one family of backend ops (Backend::op_times).
struct OpTime {
  std::string op;
  int64_t calls = 0;
  double seconds = 0.0;
};

// One fp32 tensor of a multi-tensor AdamW step: master weights, gradient, first and second moments, numel each.
struct AdamWTensor {
  float* param = nullptr;
  float* grad = nullptr;
  float* m = nullptr;
  float* v = nullptr;
  size_t numel = 0;
};

// One copy of Backend::copy over several tensors.
struct TensorCopy {
  TypedPtr dst;
  ConstTypedPtr src;
  size_t numel = 0;
};

// A tensor's elements, for ops over several tensors at once.
struct ConstTensor {
  ConstTypedPtr data;
  size_t numel = 0;
};

// Problems of Backend::gemm_grouped that share their transposes.
struct GemmGroup {
  bool trans_a = false;
  bool trans_b = false;
  std::vector<GemmProblem> problems;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // An error naming what this backend cannot run in a model (checked when the model is loaded).
  virtual Status check_model(const ModelConfig& config) const { return Status(); }

  // The element type this backend keeps base weights and activations in (LoRA state is always fp32).
  virtual DType weight_dtype() const { return DType::kF32; }
  virtual DType activation_dtype() const { return DType::kF32; }

  // Zero-initialised buffer of `numel` elements of `dtype`, counted under `category`. Throws std::bad_alloc when
  // out of memory or when the allocation would take the total past the memory limit.
  Buffer alloc(size_t numel, MemoryCategory category, DType dtype = DType::kF32);
  // The same for a buffer the next op writes in full (a GEMM output with beta 0, a kernel's output): not zeroed,
  // which saves a pass over memory (and a launch on a GPU). Its contents are poisoned where that is cheap or
  // checked (NaN on the CPU backend and the emulated CUDA one), so an element read before written shows up.
  Buffer alloc_for_overwrite(size_t numel, MemoryCategory category, DType dtype = DType::kF32);
  // Caps the bytes this backend may hold at once (0 = no cap), so an engine sharing a machine fails a job with
  // `oom` instead of the whole process being killed.
  void set_memory_limit(size_t bytes) { limit_ = bytes; }
  MemoryStats memory_stats() const;
  void reset_peak_memory();
  // Returns memory a caching allocator holds but no buffer uses (between benchmark runs, or when idle).
  virtual void release_cached_memory() {}
  // Bytes in use on the backend's device as the device reports them: buffers, the allocator's cached blocks, the
  // runtime context and libraries' workspaces, i.e. what a scheduler must fit in the GPU. Device-wide (Grove runs
  // one engine per GPU). Empty for a backend without a device (the CPU): its buffers are all there is.
  virtual std::optional<size_t> device_used_bytes() const { return std::nullopt; }
  // Called by the engine at the start of each step: host index arrays of the previous step are no longer valid.
  virtual void begin_step() {}
  // Device time per op family (a GPU backend, from events around each op), for benchmarks: turning it on clears
  // the totals; op_times() waits for the device and returns them. Nothing on a backend without it.
  virtual void set_op_timing(bool on) {}
  virtual std::vector<OpTime> op_times() { return {}; }

  // Host transfers convert between fp32 on the host and the tensor's type.
  virtual void copy_from_host(TypedPtr dst, const float* src, size_t n) = 0;
  virtual void copy_to_host(float* dst, ConstTypedPtr src, size_t n) = 0;
  // Converts when the types differ.
  virtual void copy(TypedPtr dst, ConstTypedPtr src, size_t n) = 0;
  // Several copies at once (an adapter's LoRA matrices into the activation type); a device backend may run them
  // in one launch. The default copies one by one.
  virtual void copy(const std::vector<TensorCopy>& copies);
  virtual void fill(TypedPtr x, float value, size_t n) = 0;

  // C = alpha * op(A) * op(B) + beta * C, with op(A) M x K and op(B) K x N, accumulated in fp32 whatever the
  // operands' types.
  virtual void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, ConstTypedPtr a, int lda,
                    ConstTypedPtr b, int ldb, float beta, TypedPtr c, int ldc) = 0;
  // Runs the groups in order (a group may read what an earlier one wrote); a group's problems are independent GEMMs
  // sharing transposes and operand types, e.g. one LoRA GEMM per job segment. A device backend may run each group
  // as one grouped call instead of one launch per problem; the default runs them one by one. Same results.
  virtual void gemm_grouped(const std::vector<GemmGroup>& groups);
  // Whether gemm_grouped may run its problems as one call: on by default; off runs them one by one (so a benchmark
  // can measure what grouping gains).
  void set_grouped_gemm(bool enabled) { grouped_gemm_ = enabled; }
  bool grouped_gemm() const { return grouped_gemm_; }
  // Kinds of grouped call (operand types, transposes) the backend's library refused so far; those run one by one.
  virtual int grouped_gemm_refusals() const { return 0; }
  // y[t, :] += bias for every row t.
  virtual void add_bias(TypedPtr y, ConstTypedPtr bias, int rows, int cols) = 0;
  // y += alpha * x
  virtual void axpy(TypedPtr y, ConstTypedPtr x, float alpha, size_t n) = 0;
  virtual void scale(TypedPtr x, float alpha, size_t n) = 0;
  // Row t of x [rows, cols] *= w[t]; w is fp32 backend memory.
  virtual void scale_rows(TypedPtr x, const float* w, int rows, int cols) = 0;
  virtual double sum_squares(ConstTypedPtr x, size_t n) = 0;
  // Σ x² over several tensors (a gradient's squared norm). A device backend reads the sum back once for all of
  // them, not once per tensor; the default adds up sum_squares of each.
  virtual double sum_squares(const std::vector<ConstTensor>& tensors);
  virtual bool all_finite(ConstTypedPtr x, size_t n) = 0;

  // out = in * keep / (1 - p), keep ~ Bernoulli(1 - p) from a counter-based hash of (key, element index), so the
  // same key gives the same mask in forward and backward and after a resume.
  virtual void dropout(ConstTypedPtr in, TypedPtr out, size_t n, float p, uint64_t key) = 0;

  virtual void embedding_forward(ConstTypedPtr table, const int32_t* ids, int tokens, int dim, TypedPtr out) = 0;
  // dtable[ids[t]] += dout[t] (fp32)
  virtual void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable) = 0;

  // y = x / sqrt(mean(x^2) + eps) * w; rstd[t] (fp32) saved for backward.
  virtual void rmsnorm_forward(ConstTypedPtr x, ConstTypedPtr w, int rows, int dim, float eps, TypedPtr y,
                               float* rstd) = 0;
  // dx += d/dx of rmsnorm given dy (accumulates, so the residual stream's gradient can be passed in directly).
  virtual void rmsnorm_backward(ConstTypedPtr dy, ConstTypedPtr x, ConstTypedPtr w, const float* rstd, int rows,
                                int dim, TypedPtr dx) = 0;

  // In-place rotate-half RoPE on x [tokens, heads * head_dim] at the given positions; backward rotates back.
  // inv_freq is a host array of head_dim / 2 entries, valid for the model's lifetime.
  virtual void rope_forward(TypedPtr x, const int32_t* positions, int tokens, int heads, int head_dim,
                            const float* inv_freq) = 0;
  virtual void rope_backward(TypedPtr dx, const int32_t* positions, int tokens, int heads, int head_dim,
                             const float* inv_freq) = 0;

  // q [T, H*D], k/v [T, KV*D], out [T, H*D], lse [T, H] fp32 (log-sum-exp of the scaled scores, for backward).
  virtual void attention_forward(const AttentionShape& shape, ConstTypedPtr q, ConstTypedPtr k, ConstTypedPtr v,
                                 TypedPtr out, float* lse) = 0;
  // Writes (overwrites) dq, dk, dv.
  virtual void attention_backward(const AttentionShape& shape, ConstTypedPtr dout, ConstTypedPtr q, ConstTypedPtr k,
                                  ConstTypedPtr v, ConstTypedPtr out, const float* lse, TypedPtr dq, TypedPtr dk,
                                  TypedPtr dv) = 0;

  // out = silu(gate) * up
  virtual void swiglu_forward(ConstTypedPtr gate, ConstTypedPtr up, TypedPtr out, size_t n) = 0;
  virtual void swiglu_backward(ConstTypedPtr dout, ConstTypedPtr gate, ConstTypedPtr up, TypedPtr dgate,
                               TypedPtr dup, size_t n) = 0;

  // Per row t with targets[t] >= 0: loss[t] = logsumexp(logits[t]) - logits[t, targets[t]]; lse[t] saved.
  // Rows with targets[t] < 0 get loss 0. Logits are fp32.
  virtual void cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int vocab,
                                     float* loss, float* lse) = 0;
  // Overwrites logits with d(sum_t row_weight[t] * loss[t]) / d logits; row_weight nullptr means 1 for every row.
  virtual void cross_entropy_backward(float* logits, const int32_t* targets, const float* row_weight,
                                      const float* lse, int rows, int vocab) = 0;

  // The language-model head and its loss without full-vocabulary logits for all rows at once: for rows of x
  // [rows, hidden], logits = x w^T (w [vocab, hidden]) in chunks of rows; loss[t] (fp32 backend memory) as
  // cross_entropy_forward, and when dx is non-null, dx[t] = d loss[t] / d x[t] (weight 1; the caller scales rows).
  // The default composes gemm and the cross-entropy ops over chunks of at most `chunk_bytes` of logits.
  virtual void lm_head_loss(ConstTypedPtr x, ConstTypedPtr w, const int32_t* targets, int rows, int hidden, int vocab,
                            float* loss, TypedPtr dx);

  // torch.optim.AdamW update of one tensor (decoupled weight decay, bias-corrected moments); all fp32.
  virtual void adamw_step(float* param, const float* grad, float* m, float* v, size_t n,
                          const AdamWParams& params) = 0;
  // One AdamW step of several tensors (an adapter's): each gradient is first multiplied by `grad_scale` (gradient
  // clipping), and left zeroed for the next step's accumulation. A device backend may update them all in one
  // launch; the default scales, steps and zeroes tensor by tensor. Same results.
  virtual void adamw_step(const std::vector<AdamWTensor>& tensors, const AdamWParams& params, float grad_scale);

  // Bytes of fp32 logits lm_head_loss may hold at once.
  void set_logits_chunk_bytes(size_t bytes) { chunk_bytes_ = bytes; }

 protected:
  size_t logits_chunk_bytes() const { return chunk_bytes_; }
  virtual void* raw_alloc(size_t bytes) = 0;
  virtual void raw_free(void* p) = 0;
  // What alloc_for_overwrite leaves in a new buffer: NaN by default.
  virtual void poison(TypedPtr x, size_t n) { fill(x, std::numeric_limits<float>::quiet_NaN(), n); }

 private:
  friend class Buffer;
  void release(void* p, size_t bytes, MemoryCategory category);
  Buffer allocate(size_t numel, MemoryCategory category, DType dtype, bool zero);

  std::array<std::atomic<size_t>, kMemoryCategoryCount> current_{};
  std::array<std::atomic<size_t>, kMemoryCategoryCount> peak_{};
  std::atomic<size_t> current_total_{0};
  std::atomic<size_t> peak_total_{0};
  size_t limit_ = 0;
  size_t chunk_bytes_ = size_t{64} << 20;
  bool grouped_gemm_ = true;
};

std::unique_ptr<Backend> make_cpu_backend(int threads);

}  // namespace grove
