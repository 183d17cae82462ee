// CPU reference kernels, one file per op family (forward and backward side by side). The CpuBackend class
// forwards the Backend interface to these; they take the thread pool explicitly so there is no global state.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cpu/thread_pool.h"
#include "grove/backend.h"

namespace grove::cpu {

void embedding_forward(ThreadPool& pool, const float* table, const int32_t* ids, int tokens, int dim, float* out);
void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable);

void rmsnorm_forward(ThreadPool& pool, const float* x, const float* w, int rows, int dim, float eps, float* y,
                     float* rstd);
void rmsnorm_backward(ThreadPool& pool, const float* dy, const float* x, const float* w, const float* rstd, int rows,
                      int dim, float* dx);

void rope_forward(ThreadPool& pool, float* x, const int32_t* positions, int tokens, int heads, int head_dim,
                  const float* inv_freq);
void rope_backward(ThreadPool& pool, float* dx, const int32_t* positions, int tokens, int heads, int head_dim,
                   const float* inv_freq);

void attention_forward(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v,
                       float* out, float* lse);
void attention_backward(ThreadPool& pool, const AttentionShape& s, const float* dout, const float* q, const float* k,
                        const float* v, const float* out, const float* lse, float* dq, float* dk, float* dv);

void swiglu_forward(ThreadPool& pool, const float* gate, const float* up, float* out, size_t n);
void swiglu_backward(ThreadPool& pool, const float* dout, const float* gate, const float* up, float* dgate,
                     float* dup, size_t n);

void cross_entropy_forward(ThreadPool& pool, const float* logits, const int32_t* targets, int rows, int vocab,
                           float* loss, float* lse);
void cross_entropy_backward(ThreadPool& pool, float* logits, const int32_t* targets, const float* row_weight,
                            const float* lse, int rows, int vocab);

void adamw_step(ThreadPool& pool, float* param, const float* grad, float* m, float* v, size_t n,
                const AdamWParams& p);

void dropout(ThreadPool& pool, const float* in, float* out, size_t n, float p, uint64_t key);

}  // namespace grove::cpu
