// The CPU reference backend: fp32 host memory (64-byte aligned; other types are rejected), OpenBLAS sgemm, and the kernels in ops/ run on a
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

  void copy_from_host(TypedPtr dst, const float* src, size_t n) override { std::memcpy(dst.f32(), src, n * 4); }
  void copy_to_host(float* dst, ConstTypedPtr src, size_t n) override { std::memcpy(dst, src.f32(), n * 4); }
  using Backend::copy;  // the several-copy form copies one by one
  void copy(TypedPtr dst, ConstTypedPtr src, size_t n) override { std::memmove(dst.f32(), src.f32(), n * 4); }
  void fill(TypedPtr xp, float value, size_t n) override {
    float* x = xp.f32();
    if (value == 0.0f) {
      std::memset(x, 0, n * 4);
    } else {
      for (size_t i = 0; i < n; ++i) x[i] = value;
    }
  }

  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, ConstTypedPtr a, int lda, ConstTypedPtr b, int ldb,
            float beta, TypedPtr c, int ldc) override {
    if (m == 0 || n == 0) return;
    if (k == 0) {
      for (int i = 0; i < m; ++i) scale(c.at(static_cast<size_t>(i) * ldc), beta, n);
      return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha,
                a.f32(), lda, b.f32(), ldb, beta, c.f32(), ldc);
  }

  void add_bias(TypedPtr yp, ConstTypedPtr bp, int rows, int cols) override {
    float* y = yp.f32();
    const float* bias = bp.f32();
    pool_.parallel_for(rows, [&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r)
        for (int i = 0; i < cols; ++i) y[r * cols + i] += bias[i];
    }, 64);
  }

  void axpy(TypedPtr yp, ConstTypedPtr xp, float alpha, size_t n) override {
    float* y = yp.f32();
    const float* x = xp.f32();
    pool_.parallel_for(n, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) y[i] += alpha * x[i];
    }, 16384);
  }

  void scale(TypedPtr xp, float alpha, size_t n) override {
    float* x = xp.f32();
    for (size_t i = 0; i < n; ++i) x[i] *= alpha;
  }

  void scale_rows(TypedPtr xp, const float* w, int rows, int cols) override {
    float* x = xp.f32();
    pool_.parallel_for(rows, [&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r)
        for (int i = 0; i < cols; ++i) x[r * cols + i] *= w[r];
    }, 64);
  }

  using Backend::sum_squares;  // the several-tensor form adds these up
  double sum_squares(ConstTypedPtr xp, size_t n) override {
    const float* x = xp.f32();
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return s;
  }

  bool all_finite(ConstTypedPtr xp, size_t n) override {
    const float* x = xp.f32();
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(x[i])) return false;
    return true;
  }

  void dropout(ConstTypedPtr in, TypedPtr out, size_t n, float p, uint64_t key) override {
    cpu::dropout(pool_, in.f32(), out.f32(), n, p, key);
  }
  void embedding_forward(ConstTypedPtr table, const int32_t* ids, int tokens, int dim, TypedPtr out) override {
    cpu::embedding_forward(pool_, table.f32(), ids, tokens, dim, out.f32());
  }
  void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable) override {
    cpu::embedding_backward(dout, ids, tokens, dim, dtable);
  }
  void rmsnorm_forward(ConstTypedPtr x, ConstTypedPtr w, int rows, int dim, float eps, TypedPtr y,
                       float* rstd) override {
    cpu::rmsnorm_forward(pool_, x.f32(), w.f32(), rows, dim, eps, y.f32(), rstd);
  }
  void rmsnorm_backward(ConstTypedPtr dy, ConstTypedPtr x, ConstTypedPtr w, const float* rstd, int rows, int dim,
                        TypedPtr dx) override {
    cpu::rmsnorm_backward(pool_, dy.f32(), x.f32(), w.f32(), rstd, rows, dim, dx.f32());
  }
  void rope_forward(TypedPtr x, const int32_t* positions, int tokens, int heads, int head_dim,
                    const float* inv_freq) override {
    cpu::rope_forward(pool_, x.f32(), positions, tokens, heads, head_dim, inv_freq);
  }
  void rope_backward(TypedPtr dx, const int32_t* positions, int tokens, int heads, int head_dim,
                     const float* inv_freq) override {
    cpu::rope_backward(pool_, dx.f32(), positions, tokens, heads, head_dim, inv_freq);
  }
  void attention_forward(const AttentionShape& s, ConstTypedPtr q, ConstTypedPtr k, ConstTypedPtr v, TypedPtr out,
                         float* lse) override {
    cpu::attention_forward(pool_, s, q.f32(), k.f32(), v.f32(), out.f32(), lse);
  }
  void attention_backward(const AttentionShape& s, ConstTypedPtr dout, ConstTypedPtr q, ConstTypedPtr k,
                          ConstTypedPtr v, ConstTypedPtr out, const float* lse, TypedPtr dq, TypedPtr dk,
                          TypedPtr dv) override {
    cpu::attention_backward(pool_, s, dout.f32(), q.f32(), k.f32(), v.f32(), out.f32(), lse, dq.f32(), dk.f32(),
                            dv.f32());
  }
  void swiglu_forward(ConstTypedPtr gate, ConstTypedPtr up, TypedPtr out, size_t n) override {
    cpu::swiglu_forward(pool_, gate.f32(), up.f32(), out.f32(), n);
  }
  void swiglu_backward(ConstTypedPtr dout, ConstTypedPtr gate, ConstTypedPtr up, TypedPtr dgate, TypedPtr dup,
                       size_t n) override {
    cpu::swiglu_backward(pool_, dout.f32(), gate.f32(), up.f32(), dgate.f32(), dup.f32(), n);
  }
  void cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int vocab, float* loss,
                             float* lse) override {
    cpu::cross_entropy_forward(pool_, logits, targets, rows, vocab, loss, lse);
  }
  void cross_entropy_backward(float* logits, const int32_t* targets, const float* row_weight, const float* lse,
                              int rows, int vocab) override {
    cpu::cross_entropy_backward(pool_, logits, targets, row_weight, lse, rows, vocab);
  }
  using Backend::adamw_step;  // the several-tensor form runs these one by one
  void adamw_step(float* param, const float* grad, float* m, float* v, size_t n, const AdamWParams& p) override {
    cpu::adamw_step(pool_, param, grad, m, v, n, p);
  }

 protected:
  void* raw_alloc(size_t bytes) override {
    const size_t rounded = (bytes + 63) / 64 * 64;
    return std::aligned_alloc(64, rounded);
  }
  void raw_free(void* p) override { std::free(p); }

 private:
  cpu::ThreadPool pool_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int threads) { return std::make_unique<CpuBackend>(threads < 1 ? 1 : threads); }

}  // namespace grove
