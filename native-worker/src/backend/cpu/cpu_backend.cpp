// The CPU reference backend: host memory (64-byte aligned), OpenBLAS sgemm, and the kernels in ops/ run on a
// thread pool. OpenBLAS gets the same thread count so GEMMs and loops use the same cores, one after the other.
#include <cblas.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "backend/cpu/ops/ops.h"
#include "backend/cpu/thread_pool.h"
#include "grove/backend.h"

namespace grove {

namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : pool_(threads) { openblas_set_num_threads(threads); }
  ~CpuBackend() override = default;

  const char* name() const override { return "cpu"; }

  void copy_from_host(float* dst, const float* src, size_t n) override { std::memcpy(dst, src, n * 4); }
  void copy_to_host(float* dst, const float* src, size_t n) override { std::memcpy(dst, src, n * 4); }
  void copy(float* dst, const float* src, size_t n) override { std::memcpy(dst, src, n * 4); }
  void fill(float* x, float value, size_t n) override {
    if (value == 0.0f) {
      std::memset(x, 0, n * 4);
    } else {
      for (size_t i = 0; i < n; ++i) x[i] = value;
    }
  }

  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
            float beta, float* c, int ldc) override {
    if (m == 0 || n == 0) return;
    if (k == 0) {
      for (int i = 0; i < m; ++i) scale(c + static_cast<size_t>(i) * ldc, beta, n);
      return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a,
                lda, b, ldb, beta, c, ldc);
  }

  void add_bias(float* y, const float* bias, int rows, int cols) override {
    pool_.parallel_for(rows, [&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r)
        for (int i = 0; i < cols; ++i) y[r * cols + i] += bias[i];
    }, 64);
  }

  void axpy(float* y, const float* x, float alpha, size_t n) override {
    pool_.parallel_for(n, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) y[i] += alpha * x[i];
    }, 16384);
  }

  void scale(float* x, float alpha, size_t n) override {
    for (size_t i = 0; i < n; ++i) x[i] *= alpha;
  }

  double sum_squares(const float* x, size_t n) override {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return s;
  }

  bool all_finite(const float* x, size_t n) override {
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(x[i])) return false;
    return true;
  }

  void dropout(const float* in, float* out, size_t n, float p, uint64_t key) override {
    cpu::dropout(pool_, in, out, n, p, key);
  }
  void embedding_forward(const float* table, const int32_t* ids, int tokens, int dim, float* out) override {
    cpu::embedding_forward(pool_, table, ids, tokens, dim, out);
  }
  void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable) override {
    cpu::embedding_backward(dout, ids, tokens, dim, dtable);
  }
  void rmsnorm_forward(const float* x, const float* w, int rows, int dim, float eps, float* y, float* rstd) override {
    cpu::rmsnorm_forward(pool_, x, w, rows, dim, eps, y, rstd);
  }
  void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, int rows, int dim,
                        float* dx) override {
    cpu::rmsnorm_backward(pool_, dy, x, w, rstd, rows, dim, dx);
  }
  void rope_forward(float* x, const int32_t* positions, int tokens, int heads, int head_dim,
                    const float* inv_freq) override {
    cpu::rope_forward(pool_, x, positions, tokens, heads, head_dim, inv_freq);
  }
  void rope_backward(float* dx, const int32_t* positions, int tokens, int heads, int head_dim,
                     const float* inv_freq) override {
    cpu::rope_backward(pool_, dx, positions, tokens, heads, head_dim, inv_freq);
  }
  void attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                         float* lse) override {
    cpu::attention_forward(pool_, s, q, k, v, out, lse);
  }
  void attention_backward(const AttentionShape& s, const float* dout, const float* q, const float* k, const float* v,
                          const float* out, const float* lse, float* dq, float* dk, float* dv) override {
    cpu::attention_backward(pool_, s, dout, q, k, v, out, lse, dq, dk, dv);
  }
  void swiglu_forward(const float* gate, const float* up, float* out, size_t n) override {
    cpu::swiglu_forward(pool_, gate, up, out, n);
  }
  void swiglu_backward(const float* dout, const float* gate, const float* up, float* dgate, float* dup,
                       size_t n) override {
    cpu::swiglu_backward(pool_, dout, gate, up, dgate, dup, n);
  }
  void cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int vocab, float* loss,
                             float* lse) override {
    cpu::cross_entropy_forward(pool_, logits, targets, rows, vocab, loss, lse);
  }
  void cross_entropy_backward(float* logits, const int32_t* targets, const float* row_weight, const float* lse,
                              int rows, int vocab) override {
    cpu::cross_entropy_backward(pool_, logits, targets, row_weight, lse, rows, vocab);
  }
  void adamw_step(float* param, const float* grad, float* m, float* v, size_t n, const AdamWParams& p) override {
    cpu::adamw_step(pool_, param, grad, m, v, n, p);
  }

 protected:
  float* raw_alloc(size_t bytes) override {
    const size_t rounded = (bytes + 63) / 64 * 64;
    return static_cast<float*>(std::aligned_alloc(64, rounded));
  }
  void raw_free(float* p) override { std::free(p); }

 private:
  cpu::ThreadPool pool_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads < 1 ? 1 : threads); }

}  // namespace grove
