// Host launchers of the CUDA backend's own kernels, one .cu file per op family (see docs/cuda-backend.md).
// Every launcher only enqueues work on `stream` and returns; it checks the launch (GROVE_CHECK_LAUNCH) and throws
// CudaError with the op's name on failure. All pointers are device memory unless a comment says otherwise.
// Matrices are row-major. Templates are instantiated for T = float (checked tightly against the CPU reference) and
// T = bf16 (what the backend runs); every kernel accumulates in fp32.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cuda/cuda_api.h"
#include "grove/backend.h"

namespace grove::cuda {

using bf16 = __nv_bfloat16;

// ---- elementwise.cu: conversions, fills, BLAS-1, reductions --------------------------------------------------
template <typename TD, typename TS>
void cast(const TS* src, TD* dst, size_t n, cudaStream_t stream);
// fp32 -> bf16 over `count` tensors in one launch: `items` and `starts` are device arrays, starts[t] the offset of
// tensor t in the concatenation (starts[count] = total, empty tensors allowed).
struct CastItem {
  const float* src;
  bf16* dst;
};
void cast_many(const CastItem* items, const size_t* starts, int count, size_t total, cudaStream_t stream);
template <typename T>
void fill(T* x, float value, size_t n, cudaStream_t stream);
// y += alpha * x
template <typename TY, typename TX>
void axpy(TY* y, const TX* x, float alpha, size_t n, cudaStream_t stream);
template <typename T>
void scale(T* x, float alpha, size_t n, cudaStream_t stream);
// Row r of x [rows, cols] *= w[r].
template <typename T>
void scale_rows(T* x, const float* w, int rows, int cols, cudaStream_t stream);
// y[r, :] += bias for every row r.
template <typename T>
void add_bias(T* y, const T* bias, int rows, int cols, cudaStream_t stream);
// *out += sum of x^2 (the caller zeroes *out first).
template <typename T>
void sum_squares(const T* x, size_t n, double* out, cudaStream_t stream);
// *out += sum of squares over `count` fp32 tensors in one launch: `data` (their pointers) and `starts` are device
// arrays, starts[t] the offset of tensor t in the concatenation (starts[count] = total, empty tensors allowed).
void sum_squares_many(const float* const* data, const size_t* starts, int count, size_t total, double* out,
                      cudaStream_t stream);
// *out += number of NaN/Inf elements (the caller zeroes *out first).
template <typename T>
void count_nonfinite(const T* x, size_t n, unsigned int* out, cudaStream_t stream);

// ---- dropout.cu: the CPU backend's counter-based mask, bit for bit (grove/rng.h) ------------------------------
// out[i] = hash-kept(key, i) ? in[i] / (1 - p) : 0. `out` may alias `in`.
template <typename T>
void dropout(const T* in, T* out, size_t n, float p, uint64_t key, cudaStream_t stream);

// ---- adamw.cu: torch.optim.AdamW on fp32 master weights ------------------------------------------------------
void adamw_step(float* param, const float* grad, float* m, float* v, size_t n, const AdamWParams& p,
                cudaStream_t stream);
// The same over `count` tensors in one launch: `tensors` and `starts` are device arrays, starts[t] the offset of
// tensor t in the concatenation (starts[0] = 0, starts[count] = total, empty tensors allowed). Each gradient is
// multiplied by grad_scale when read and zeroed after.
void adamw_step_many(const AdamWTensor* tensors, const size_t* starts, int count, size_t total, const AdamWParams& p,
                     float grad_scale, cudaStream_t stream);

// ---- embedding.cu --------------------------------------------------------------------------------------------
template <typename T>
void embedding_forward(const T* table, const int32_t* ids, int tokens, int dim, T* out, cudaStream_t stream);
// dtable[ids[t]] += dout[t] (fp32 only; atomics, as ids repeat).
void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable,
                        cudaStream_t stream);

// ---- rmsnorm.cu: y = x / sqrt(mean(x^2) + eps) * w; rstd [rows] fp32 -----------------------------------------
template <typename T>
void rmsnorm_forward(const T* x, const T* w, int rows, int dim, float eps, T* y, float* rstd, cudaStream_t stream);
// dx += d/dx (accumulates into dx).
template <typename T>
void rmsnorm_backward(const T* dy, const T* x, const T* w, const float* rstd, int rows, int dim, T* dx,
                      cudaStream_t stream);

// ---- rope.cu: in-place rotate-half RoPE on x [tokens, heads * head_dim]; inverse = true rotates back ---------
template <typename T>
void rope(T* x, const int32_t* positions, int tokens, int heads, int head_dim, const float* inv_freq, bool inverse,
          cudaStream_t stream);

// ---- swiglu.cu: out = silu(gate) * up -------------------------------------------------------------------------
template <typename T>
void swiglu_forward(const T* gate, const T* up, T* out, size_t n, cudaStream_t stream);
template <typename T>
void swiglu_backward(const T* dout, const T* gate, const T* up, T* dgate, T* dup, size_t n, cudaStream_t stream);

// ---- cross_entropy.cu: one chunk of rows of fp32 logits [rows, vocab] ----------------------------------------
// Rows with targets[t] < 0 get loss 0 and lse 0.
void cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int vocab, float* loss,
                           float* lse, cudaStream_t stream);
// dlogits = w[t] * (softmax(logits[t]) - onehot(targets[t])), w = row_weight (nullptr: 1); rows with targets < 0
// get 0. TG = bf16 feeds the next GEMM directly; with TG = float, dlogits may alias logits.
template <typename TG>
void cross_entropy_backward(const float* logits, const int32_t* targets, const float* row_weight, const float* lse,
                            int rows, int vocab, TG* dlogits, cudaStream_t stream);

// ---- attention.cu: packed variable-length causal attention with GQA, flash-attention style -------------------
// q/out/dq [T, H*D], k/v/dk/dv [T, KV*D], lse [T, H] fp32 (log-sum-exp of the scaled scores).
struct AttentionArgs {
  int tokens = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;  // 16, 32, 64, 128 (others: attention_supported says why not)
  float scale = 1.0f;
  int sliding_window = 0;              // 0 = none; key j visible from query i iff i - j < sliding_window
  const int32_t* seq_starts = nullptr;  // device, num_seqs + 1 entries
  int num_seqs = 0;
  int max_seq_len = 0;  // host-computed, for the grid
};
// Empty string when supported, else the reason (e.g. "head_dim 80 is not one of 16, 32, 64, 128").
const char* attention_supported(const AttentionArgs& a);
size_t attention_forward_workspace_bytes(const AttentionArgs& a);
template <typename T>
void attention_forward(const AttentionArgs& a, const T* q, const T* k, const T* v, T* out, float* lse,
                       void* workspace, cudaStream_t stream);
size_t attention_backward_workspace_bytes(const AttentionArgs& a);
// Overwrites dq, dk, dv.
template <typename T>
void attention_backward(const AttentionArgs& a, const T* dout, const T* q, const T* k, const T* v, const T* out,
                        const float* lse, T* dq, T* dk, T* dv, void* workspace, cudaStream_t stream);

}  // namespace grove::cuda
