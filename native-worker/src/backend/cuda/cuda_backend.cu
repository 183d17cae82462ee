// The CUDA backend: the Backend interface on one GPU stream. Base weights and activations are bf16, LoRA weights,
// gradients and AdamW states fp32 (grove/dtype.h tags every pointer). Frozen projections are one cuBLAS GEMM over
// all jobs' rows; mixed-type GEMMs (a bf16 activation against an fp32 LoRA matrix) cast the fp32 operand to bf16
// in pool scratch first, as PEFT's bf16 autocast does. Host index arrays are uploaded once per step and cached by
// address until the next begin_step(). Every CUDA or cuBLAS failure throws CudaError naming the op.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "backend/cuda/cublas_gemm.h"
#include "backend/cuda/cuda_api.h"
#include "backend/cuda/device_memory_pool.h"
#include "backend/cuda/kernels/kernels.h"
#include "backend/cuda/op_timer.h"
#include "backend/cuda/upload_ring.h"
#include "grove/cuda_backend.h"

namespace grove {

namespace cuda {
namespace {

// Calls fn with a typed pointer for the tensor's element type (f32 or bf16).
template <typename Fn>
void with_type(TypedPtr x, Fn&& fn) {
  if (x.dtype == DType::kBF16) {
    fn(static_cast<bf16*>(x.p));
  } else if (x.dtype == DType::kF32) {
    fn(static_cast<float*>(x.p));
  } else {
    throw CudaError(std::string("unsupported tensor type ") + dtype_name(x.dtype));
  }
}
template <typename Fn>
void with_type(ConstTypedPtr x, Fn&& fn) {
  if (x.dtype == DType::kBF16) {
    fn(static_cast<const bf16*>(x.p));
  } else if (x.dtype == DType::kF32) {
    fn(static_cast<const float*>(x.p));
  } else {
    throw CudaError(std::string("unsupported tensor type ") + dtype_name(x.dtype));
  }
}

void require_same(DType a, DType b, const char* op) {
  if (a != b) throw CudaError(std::string(op) + ": mixed tensor types " + dtype_name(a) + " and " + dtype_name(b));
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    check_cuda(cudaStreamCreate(&stream_), "cudaStreamCreate");
    check_cublas(cublasCreate(&cublas_), "cublasCreate");
    check_cublas(cublasSetStream(cublas_, stream_), "cublasSetStream");
    check_cuda(cudaMalloc(&scalars_, 64), "cudaMalloc(scalars)");
  }
  ~CudaBackend() override {
    index_cache_.clear();
    persistent_cache_.clear();
    cublasDestroy(cublas_);
    cudaFree(scalars_);
    cudaStreamDestroy(stream_);
  }

  const char* name() const override { return "cuda"; }
  DType weight_dtype() const override { return DType::kBF16; }
  DType activation_dtype() const override { return DType::kBF16; }
  void begin_step() override { index_cache_.clear(); }
  int grouped_gemm_refusals() const override { return static_cast<int>(refused_.size()); }
  void set_op_timing(bool on) override { timer_.enable(on); }
  std::vector<OpTime> op_times() override { return timer_.collect(stream_); }
  void release_cached_memory() override { pool_.release_cached(); }
  std::optional<size_t> device_used_bytes() const override {
    size_t free_bytes = 0, total_bytes = 0;
    check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "device_used_bytes");
    return total_bytes - free_bytes;
  }

  Status check_model(const ModelConfig& c) const override {
    AttentionArgs a;
    a.num_heads = c.num_heads;
    a.num_kv_heads = c.num_kv_heads;
    a.head_dim = c.head_dim;
    if (const char* why = attention_supported(a); why[0] != '\0') {
      return make_error(ErrorCode::kUnsupported, std::string("the CUDA backend cannot run this model: ") + why);
    }
    return Status();
  }

  void copy_from_host(TypedPtr dst, const float* src, size_t n) override {
    const OpTimer::Scope timed(timer_, "host transfers", stream_);
    if (n == 0) return;
    if (dst.dtype == DType::kF32) {
      check_cuda(cudaMemcpyAsync(dst.p, src, n * 4, cudaMemcpyHostToDevice, stream_), "copy_from_host");
      sync("copy_from_host");
      return;
    }
    Buffer staging = scratch(n * 4);
    check_cuda(cudaMemcpyAsync(raw(staging), src, n * 4, cudaMemcpyHostToDevice, stream_), "copy_from_host");
    copy(dst, ConstTypedPtr(raw(staging), DType::kF32), n);
    sync("copy_from_host");
  }

  void copy_to_host(float* dst, ConstTypedPtr src, size_t n) override {
    const OpTimer::Scope timed(timer_, "host transfers", stream_);
    if (n == 0) return;
    if (src.dtype == DType::kF32) {
      check_cuda(cudaMemcpyAsync(dst, src.p, n * 4, cudaMemcpyDeviceToHost, stream_), "copy_to_host");
    } else {
      Buffer staging = scratch(n * 4);
      copy(TypedPtr(raw(staging), DType::kF32), src, n);
      check_cuda(cudaMemcpyAsync(dst, raw(staging), n * 4, cudaMemcpyDeviceToHost, stream_), "copy_to_host");
    }
    sync("copy_to_host");
  }

  void copy(TypedPtr dst, ConstTypedPtr src, size_t n) override {
    const OpTimer::Scope timed(timer_, "copies and casts", stream_);
    if (n == 0) return;
    if (dst.dtype == src.dtype) {
      check_cuda(cudaMemcpyAsync(dst.p, src.p, n * dtype_size(dst.dtype), cudaMemcpyDeviceToDevice, stream_), "copy");
      return;
    }
    with_type(dst, [&](auto* d) { with_type(src, [&](const auto* s) { cast(s, d, n, stream_); }); });
  }

  // fp32 -> bf16 copies in one launch, any others one by one.
  void copy(const std::vector<TensorCopy>& copies) override {
    const OpTimer::Scope timed(timer_, "copies and casts", stream_);
    std::vector<CastItem> casts;
    std::vector<size_t> numels;
    for (const TensorCopy& c : copies) {
      if (c.src.dtype == DType::kF32 && c.dst.dtype == DType::kBF16 && copies.size() > 1) {
        casts.push_back({static_cast<const float*>(c.src.p), static_cast<bf16*>(c.dst.p)});
        numels.push_back(c.numel);
      } else {
        copy(c.dst, c.src, c.numel);
      }
    }
    if (casts.empty()) return;
    const auto list = upload_tensor_list(casts, numels);
    cuda::cast_many(list.items, list.starts, static_cast<int>(casts.size()), list.total, stream_);
  }

  void fill(TypedPtr x, float value, size_t n) override {
    const OpTimer::Scope timed(timer_, "fill", stream_);
    if (n == 0) return;
    if (value == 0.0f) {
      check_cuda(cudaMemsetAsync(x.p, 0, n * dtype_size(x.dtype), stream_), "fill");
      return;
    }
    with_type(x, [&](auto* p) { cuda::fill(p, value, n, stream_); });
  }

  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, ConstTypedPtr a, int lda, ConstTypedPtr b, int ldb,
            float beta, TypedPtr c, int ldc) override {
    const OpTimer::Scope timed(timer_, "GEMM (frozen projections)", stream_);
    if (m == 0 || n == 0) return;
    if (k == 0) {
      for (int i = 0; i < m; ++i) scale(c.at(static_cast<size_t>(i) * ldc), beta, n);
      return;
    }
    // cuBLAS takes one type for A and B: bf16 when either is bf16 or C is bf16 (the fp32 side is small LoRA state).
    const bool bf = a.dtype == DType::kBF16 || b.dtype == DType::kBF16 || c.dtype == DType::kBF16;
    const DType ab = bf ? DType::kBF16 : DType::kF32;
    // Stored shapes: A is [m, k] (or [k, m] transposed), B is [k, n] (or [n, k]).
    const int a_cols = ta ? m : k, b_cols = tb ? k : n;
    Buffer a_cast = as_type(a, ab, ta ? k : m, a_cols, lda);
    Buffer b_cast = as_type(b, ab, tb ? n : k, b_cols, ldb);
    const bool a_copied = !a_cast.empty(), b_copied = !b_cast.empty();
    gemm_rowmajor(cublas_, m, n, k, alpha, ab, {a_copied ? raw(a_cast) : a.p, a_copied ? a_cols : lda, ta},
                  {b_copied ? raw(b_cast) : b.p, b_copied ? b_cols : ldb, tb}, beta, c.p, c.dtype, ldc);
  }

  // Each group as one cuBLAS call where its types allow it (A and B one type, no cast needed), with the pointer
  // lists of all groups uploaded in one copy; otherwise, or when grouping is off or this cuBLAS refuses that kind
  // of call (types and transposes), one GEMM per problem.
  void gemm_grouped(const std::vector<GemmGroup>& groups) override {
    const OpTimer::Scope timed(timer_, "GEMM (LoRA, grouped)", stream_);
    constexpr size_t kOneByOne = SIZE_MAX;
    std::vector<const void*> pointers;
    std::vector<size_t> offset(groups.size(), kOneByOne);
    for (size_t i = 0; i < groups.size(); ++i) {
      const GemmGroup& g = groups[i];
      if (!grouped_gemm() || g.problems.size() < 2 || !groupable(g.problems) || refused_.count(kind(g)) > 0) continue;
      offset[i] = pointers.size();
      append_grouped_pointers(groups[i].problems, pointers);
    }
    void* const* device_pointers = nullptr;
    if (!pointers.empty()) {
      const size_t bytes = pointers.size() * sizeof(void*);
      device_pointers = static_cast<void* const*>(uploads_.upload(pointers.data(), bytes, stream_));
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      const GemmGroup& g = groups[i];
      if (offset[i] != kOneByOne && refused_.count(kind(g)) == 0) {
        const DType ab = g.problems[0].a.dtype, c = g.problems[0].c.dtype;
        const cublasStatus_t s =
            gemm_grouped_rowmajor(cublas_, g.trans_a, g.trans_b, ab, c, g.problems, device_pointers + offset[i]);
        if (s == CUBLAS_STATUS_SUCCESS) continue;
        // Nothing ran: say so once, and run this and every later group of this kind one GEMM at a time (same
        // results).
        std::fprintf(stderr, "grove cuda: cublasGemmGroupedBatchedEx (%s -> %s, op(A) %s, op(B) %s) returned cuBLAS "
                     "status %d; running such groups one GEMM at a time\n", dtype_name(ab), dtype_name(c),
                     g.trans_a ? "T" : "N", g.trans_b ? "T" : "N", static_cast<int>(s));
        refused_.insert(kind(g));
      }
      for (const GemmProblem& p : g.problems) {
        gemm(g.trans_a, g.trans_b, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc);
      }
    }
  }

  void add_bias(TypedPtr y, ConstTypedPtr bias, int rows, int cols) override {
    const OpTimer::Scope timed(timer_, "elementwise", stream_);
    require_same(y.dtype, bias.dtype, "add_bias");
    with_type(y, [&](auto* p) {
      using T = std::remove_pointer_t<decltype(p)>;
      cuda::add_bias(p, static_cast<const T*>(bias.p), rows, cols, stream_);
    });
  }
  void axpy(TypedPtr y, ConstTypedPtr x, float alpha, size_t n) override {
    const OpTimer::Scope timed(timer_, "elementwise", stream_);
    with_type(y, [&](auto* yp) { with_type(x, [&](const auto* xp) { cuda::axpy(yp, xp, alpha, n, stream_); }); });
  }
  void scale(TypedPtr x, float alpha, size_t n) override {
    const OpTimer::Scope timed(timer_, "elementwise", stream_);
    with_type(x, [&](auto* p) { cuda::scale(p, alpha, n, stream_); });
  }
  void scale_rows(TypedPtr x, const float* w, int rows, int cols) override {
    const OpTimer::Scope timed(timer_, "elementwise", stream_);
    with_type(x, [&](auto* p) { cuda::scale_rows(p, w, rows, cols, stream_); });
  }
  double sum_squares(ConstTypedPtr x, size_t n) override { return sum_squares(std::vector<ConstTensor>{{x, n}}); }
  // Into one device scalar, read back once: fp32 tensors (gradients) in one launch, others one launch each.
  double sum_squares(const std::vector<ConstTensor>& tensors) override {
    const OpTimer::Scope timed(timer_, "gradient norm", stream_);
    double* out = static_cast<double*>(scalars_);
    check_cuda(cudaMemsetAsync(out, 0, sizeof(double), stream_), "sum_squares");
    std::vector<const float*> f32;
    std::vector<size_t> f32_numels;
    for (const ConstTensor& t : tensors) {
      if (t.data.dtype == DType::kF32 && tensors.size() > 1) {
        f32.push_back(static_cast<const float*>(t.data.p));
        f32_numels.push_back(t.numel);
      } else if (t.numel > 0) {
        with_type(t.data, [&](const auto* p) { cuda::sum_squares(p, t.numel, out, stream_); });
      }
    }
    if (!f32.empty()) {
      const auto list = upload_tensor_list(f32, f32_numels);
      cuda::sum_squares_many(list.items, list.starts, static_cast<int>(f32.size()), list.total, out, stream_);
    }
    double host = 0.0;
    check_cuda(cudaMemcpyAsync(&host, out, sizeof(double), cudaMemcpyDeviceToHost, stream_), "sum_squares");
    sync("sum_squares");
    return host;
  }
  bool all_finite(ConstTypedPtr x, size_t n) override {
    const OpTimer::Scope timed(timer_, "all_finite", stream_);
    unsigned int* out = reinterpret_cast<unsigned int*>(static_cast<char*>(scalars_) + 16);
    check_cuda(cudaMemsetAsync(out, 0, sizeof(unsigned int), stream_), "all_finite");
    with_type(x, [&](const auto* p) { cuda::count_nonfinite(p, n, out, stream_); });
    unsigned int host = 0;
    check_cuda(cudaMemcpyAsync(&host, out, sizeof(unsigned int), cudaMemcpyDeviceToHost, stream_), "all_finite");
    sync("all_finite");
    return host == 0;
  }

  void dropout(ConstTypedPtr in, TypedPtr out, size_t n, float p, uint64_t key) override {
    const OpTimer::Scope timed(timer_, "dropout", stream_);
    require_same(in.dtype, out.dtype, "dropout");
    with_type(out, [&](auto* o) {
      using T = std::remove_pointer_t<decltype(o)>;
      cuda::dropout(static_cast<const T*>(in.p), o, n, p, key, stream_);
    });
  }
  void embedding_forward(ConstTypedPtr table, const int32_t* ids, int tokens, int dim, TypedPtr out) override {
    const OpTimer::Scope timed(timer_, "embedding", stream_);
    require_same(table.dtype, out.dtype, "embedding_forward");
    const int32_t* d_ids = upload(ids, tokens);
    with_type(out, [&](auto* o) {
      using T = std::remove_pointer_t<decltype(o)>;
      cuda::embedding_forward(static_cast<const T*>(table.p), d_ids, tokens, dim, o, stream_);
    });
  }
  void embedding_backward(const float* dout, const int32_t* ids, int tokens, int dim, float* dtable) override {
    const OpTimer::Scope timed(timer_, "embedding", stream_);
    cuda::embedding_backward(dout, upload(ids, tokens), tokens, dim, dtable, stream_);
  }
  void rmsnorm_forward(ConstTypedPtr x, ConstTypedPtr w, int rows, int dim, float eps, TypedPtr y,
                       float* rstd) override {
    const OpTimer::Scope timed(timer_, "rmsnorm", stream_);
    require_same(x.dtype, y.dtype, "rmsnorm_forward");
    require_same(w.dtype, y.dtype, "rmsnorm_forward");
    with_type(y, [&](auto* yp) {
      using T = std::remove_pointer_t<decltype(yp)>;
      cuda::rmsnorm_forward(static_cast<const T*>(x.p), static_cast<const T*>(w.p), rows, dim, eps, yp, rstd, stream_);
    });
  }
  void rmsnorm_backward(ConstTypedPtr dy, ConstTypedPtr x, ConstTypedPtr w, const float* rstd, int rows, int dim,
                        TypedPtr dx) override {
    const OpTimer::Scope timed(timer_, "rmsnorm", stream_);
    require_same(dy.dtype, dx.dtype, "rmsnorm_backward");
    require_same(x.dtype, dx.dtype, "rmsnorm_backward");
    require_same(w.dtype, dx.dtype, "rmsnorm_backward");
    with_type(dx, [&](auto* dxp) {
      using T = std::remove_pointer_t<decltype(dxp)>;
      cuda::rmsnorm_backward(static_cast<const T*>(dy.p), static_cast<const T*>(x.p), static_cast<const T*>(w.p), rstd,
                             rows, dim, dxp, stream_);
    });
  }
  void rope_forward(TypedPtr x, const int32_t* positions, int tokens, int heads, int head_dim,
                    const float* inv_freq) override {
    const OpTimer::Scope timed(timer_, "rope", stream_);
    rope(x, positions, tokens, heads, head_dim, inv_freq, false);
  }
  void rope_backward(TypedPtr dx, const int32_t* positions, int tokens, int heads, int head_dim,
                     const float* inv_freq) override {
    const OpTimer::Scope timed(timer_, "rope", stream_);
    rope(dx, positions, tokens, heads, head_dim, inv_freq, true);
  }

  void attention_forward(const AttentionShape& s, ConstTypedPtr q, ConstTypedPtr k, ConstTypedPtr v, TypedPtr out,
                         float* lse) override {
    const OpTimer::Scope timed(timer_, "attention forward", stream_);
    const AttentionArgs a = attention_args(s);
    Buffer ws = scratch(attention_forward_workspace_bytes(a));
    with_type(out, [&](auto* o) {
      using T = std::remove_pointer_t<decltype(o)>;
      cuda::attention_forward(a, static_cast<const T*>(q.p), static_cast<const T*>(k.p), static_cast<const T*>(v.p), o,
                              lse, raw(ws), stream_);
    });
  }
  void attention_backward(const AttentionShape& s, ConstTypedPtr dout, ConstTypedPtr q, ConstTypedPtr k,
                          ConstTypedPtr v, ConstTypedPtr out, const float* lse, TypedPtr dq, TypedPtr dk,
                          TypedPtr dv) override {
    const OpTimer::Scope timed(timer_, "attention backward", stream_);
    const AttentionArgs a = attention_args(s);
    Buffer ws = scratch(attention_backward_workspace_bytes(a));
    with_type(dq, [&](auto* dqp) {
      using T = std::remove_pointer_t<decltype(dqp)>;
      cuda::attention_backward(a, static_cast<const T*>(dout.p), static_cast<const T*>(q.p), static_cast<const T*>(k.p),
                               static_cast<const T*>(v.p), static_cast<const T*>(out.p), lse, dqp,
                               static_cast<T*>(dk.p), static_cast<T*>(dv.p), raw(ws), stream_);
    });
  }

  void swiglu_forward(ConstTypedPtr gate, ConstTypedPtr up, TypedPtr out, size_t n) override {
    const OpTimer::Scope timed(timer_, "swiglu", stream_);
    require_same(gate.dtype, out.dtype, "swiglu_forward");
    require_same(up.dtype, out.dtype, "swiglu_forward");
    with_type(out, [&](auto* o) {
      using T = std::remove_pointer_t<decltype(o)>;
      cuda::swiglu_forward(static_cast<const T*>(gate.p), static_cast<const T*>(up.p), o, n, stream_);
    });
  }
  void swiglu_backward(ConstTypedPtr dout, ConstTypedPtr gate, ConstTypedPtr up, TypedPtr dgate, TypedPtr dup,
                       size_t n) override {
    const OpTimer::Scope timed(timer_, "swiglu", stream_);
    require_same(dout.dtype, dgate.dtype, "swiglu_backward");
    with_type(dgate, [&](auto* dg) {
      using T = std::remove_pointer_t<decltype(dg)>;
      cuda::swiglu_backward(static_cast<const T*>(dout.p), static_cast<const T*>(gate.p), static_cast<const T*>(up.p),
                            dg, static_cast<T*>(dup.p), n, stream_);
    });
  }

  void cross_entropy_forward(const float* logits, const int32_t* targets, int rows, int vocab, float* loss,
                             float* lse) override {
    const OpTimer::Scope timed(timer_, "LM head and loss", stream_);
    cuda::cross_entropy_forward(logits, upload(targets, rows), rows, vocab, loss, lse, stream_);
  }
  void cross_entropy_backward(float* logits, const int32_t* targets, const float* row_weight, const float* lse,
                              int rows, int vocab) override {
    const OpTimer::Scope timed(timer_, "LM head and loss", stream_);
    cuda::cross_entropy_backward(logits, upload(targets, rows), row_weight, lse, rows, vocab, logits, stream_);
  }

  // Chunks of rows: logits (fp32) = x w^T; loss; then d logits written straight in the activation type, so the
  // GEMM back to dx needs no cast of a [chunk, vocab] matrix.
  void lm_head_loss(ConstTypedPtr x, ConstTypedPtr w, const int32_t* targets, int rows, int hidden, int vocab,
                    float* loss, TypedPtr dx) override {
    const OpTimer::Scope timed(timer_, "LM head and loss", stream_);
    const int32_t* d_targets = upload(targets, rows);
    const size_t rows_fit = logits_chunk_bytes() / (static_cast<size_t>(vocab) * 4);
    const int chunk = static_cast<int>(std::clamp<size_t>(rows_fit, 1, static_cast<size_t>(rows)));
    Buffer logits = scratch(static_cast<size_t>(chunk) * vocab * 4);
    Buffer dlogits = scratch(dx.p ? static_cast<size_t>(chunk) * vocab * dtype_size(w.dtype) : 0);
    Buffer lse = scratch(static_cast<size_t>(chunk) * 4);
    for (int r0 = 0; r0 < rows; r0 += chunk) {
      const int n = std::min(chunk, rows - r0);
      const size_t off = static_cast<size_t>(r0) * hidden;
      gemm(false, true, n, vocab, hidden, 1.0f, x.at(off), hidden, w, hidden, 0.0f,
           TypedPtr(raw(logits), DType::kF32), vocab);
      float* lp = static_cast<float*>(raw(logits));
      float* lsep = static_cast<float*>(raw(lse));
      cuda::cross_entropy_forward(lp, d_targets + r0, n, vocab, loss + r0, lsep, stream_);
      if (dx.p == nullptr) continue;
      TypedPtr dl(raw(dlogits), w.dtype);
      with_type(dl, [&](auto* g) { cuda::cross_entropy_backward(lp, d_targets + r0, nullptr, lsep, n, vocab, g, stream_); });
      gemm(false, false, n, hidden, vocab, 1.0f, dl, vocab, w, hidden, 0.0f, dx.at(off), hidden);
    }
  }

  void adamw_step(float* param, const float* grad, float* m, float* v, size_t n, const AdamWParams& p) override {
    const OpTimer::Scope timed(timer_, "AdamW", stream_);
    cuda::adamw_step(param, grad, m, v, n, p, stream_);
  }
  // One launch for all tensors.
  void adamw_step(const std::vector<AdamWTensor>& tensors, const AdamWParams& p, float grad_scale) override {
    const OpTimer::Scope timed(timer_, "AdamW", stream_);
    if (tensors.empty()) return;
    std::vector<size_t> numels;
    for (const AdamWTensor& t : tensors) numels.push_back(t.numel);
    const auto list = upload_tensor_list(tensors, numels);
    const int count = static_cast<int>(tensors.size());
    cuda::adamw_step_many(list.items, list.starts, count, list.total, p, grad_scale, stream_);
  }

 protected:
  void* raw_alloc(size_t bytes) override { return pool_.allocate(bytes); }
#ifdef GROVE_CUDA_EMU
  // The emulated build poisons (NaN) what alloc_for_overwrite hands out, so its tests catch an unwritten read.
#else
  void poison(TypedPtr, size_t) override {}  // on a GPU the point is to skip the pass over memory
#endif
  void raw_free(void* p) override { pool_.free(p); }

 private:
  // Scratch for one op, counted (and capped by the memory limit) like every other buffer; stream order makes
  // the pool's reuse of it by the next op safe.
  Buffer scratch(size_t bytes) {
    return bytes ? alloc_for_overwrite((bytes + 3) / 4, MemoryCategory::kActivations) : Buffer();
  }
  static void* raw(const Buffer& b) { return b.ptr().p; }

  void sync(const char* what) { check_cuda(cudaStreamSynchronize(stream_), what); }

  using GroupKind = std::tuple<DType, DType, bool, bool>;  // A and B type, C type, transposes
  static GroupKind kind(const GemmGroup& g) {
    return {g.problems[0].a.dtype, g.problems[0].c.dtype, g.trans_a, g.trans_b};
  }

  // Problems one grouped call can take: every size non-zero, A and B of one type, C of one type cuBLAS accepts
  // for it (fp32 operands need an fp32 result).
  static bool groupable(const std::vector<GemmProblem>& problems) {
    const DType ab = problems[0].a.dtype, c = problems[0].c.dtype;
    if (ab == DType::kF32 && c != DType::kF32) return false;
    return std::all_of(problems.begin(), problems.end(), [&](const GemmProblem& g) {
      return g.m > 0 && g.n > 0 && g.k > 0 && g.a.dtype == ab && g.b.dtype == ab && g.c.dtype == c;
    });
  }

  // Empty when x already has `type`; else a packed [rows, cols] copy of x in `type` (ld = cols).
  Buffer as_type(ConstTypedPtr x, DType type, int rows, int cols, int ld) {
    if (x.dtype == type) return Buffer();
    Buffer copy_buf = scratch(static_cast<size_t>(rows) * cols * dtype_size(type));
    TypedPtr dst(raw(copy_buf), type);
    if (ld == cols) {
      copy(dst, x, static_cast<size_t>(rows) * cols);
    } else {
      for (int r = 0; r < rows; ++r) copy(dst.at(static_cast<size_t>(r) * cols), x.at(static_cast<size_t>(r) * ld), cols);
    }
    return copy_buf;
  }

  // A multi-tensor kernel's inputs on the device, uploaded in one copy: the items (pointers or descriptors) and
  // the tensors' start offsets in their concatenation (kernel_util's for_each_tensor_element).
  template <typename Item>
  struct TensorList {
    const Item* items;
    const size_t* starts;
    size_t total;
  };
  template <typename Item>
  TensorList<Item> upload_tensor_list(const std::vector<Item>& items, const std::vector<size_t>& numels) {
    const size_t count = items.size();
    const size_t list_bytes = (count * sizeof(Item) + alignof(size_t) - 1) / alignof(size_t) * alignof(size_t);
    std::vector<size_t> starts(count + 1, 0);
    for (size_t i = 0; i < count; ++i) starts[i + 1] = starts[i] + numels[i];
    std::vector<char> host(list_bytes + starts.size() * sizeof(size_t));  // [items | starts]
    std::memcpy(host.data(), items.data(), count * sizeof(Item));
    std::memcpy(host.data() + list_bytes, starts.data(), starts.size() * sizeof(size_t));
    const char* d = static_cast<const char*>(uploads_.upload(host.data(), host.size(), stream_));
    return {reinterpret_cast<const Item*>(d), reinterpret_cast<const size_t*>(d + list_bytes), starts.back()};
  }

  template <typename I>
  const I* upload_to(std::unordered_map<const void*, Buffer>& cache, const I* host, size_t n) {
    static_assert(sizeof(I) == 4, "index arrays are 32-bit");
    auto it = cache.find(host);
    if (it != cache.end() && it->second.numel() >= n) return static_cast<const I*>(it->second.ptr().p);
    Buffer buf = alloc(n, MemoryCategory::kActivations);
    check_cuda(cudaMemcpyAsync(buf.ptr().p, host, n * 4, cudaMemcpyHostToDevice, stream_), "index upload");
    sync("index upload");  // the host array may be a temporary of the caller
    const I* d = static_cast<const I*>(buf.ptr().p);
    cache[host] = std::move(buf);
    return d;
  }
  const int32_t* upload(const int32_t* host, size_t n) { return upload_to(index_cache_, host, n); }

  void rope(TypedPtr x, const int32_t* positions, int tokens, int heads, int head_dim, const float* inv_freq,
            bool inverse) {
    const int32_t* d_pos = upload(positions, tokens);
    const float* d_freq = upload_to(persistent_cache_, inv_freq, static_cast<size_t>(head_dim / 2));
    with_type(x, [&](auto* p) { cuda::rope(p, d_pos, tokens, heads, head_dim, d_freq, inverse, stream_); });
  }

  AttentionArgs attention_args(const AttentionShape& s) {
    AttentionArgs a;
    a.tokens = s.tokens;
    a.num_heads = s.num_heads;
    a.num_kv_heads = s.num_kv_heads;
    a.head_dim = s.head_dim;
    a.scale = s.scale;
    a.sliding_window = s.sliding_window;
    a.num_seqs = s.num_seqs;
    a.seq_starts = upload(s.seq_starts, static_cast<size_t>(s.num_seqs) + 1);
    for (int i = 0; i < s.num_seqs; ++i) a.max_seq_len = std::max(a.max_seq_len, s.seq_starts[i + 1] - s.seq_starts[i]);
    if (const char* why = attention_supported(a); why[0] != '\0') throw CudaError(std::string("attention: ") + why);
    return a;
  }

  int device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  void* scalars_ = nullptr;
  DeviceMemoryPool pool_;
  std::set<GroupKind> refused_;  // kinds of grouped call this cuBLAS refused (they run one GEMM at a time)
  OpTimer timer_;
  UploadRing uploads_;  // per-op host arrays: grouped GEMM pointer lists, multi-tensor kernels' tensor lists
  // Declared after pool_ so they are destroyed before it.
  std::unordered_map<const void*, Buffer> index_cache_;       // this step's index arrays
  std::unordered_map<const void*, Buffer> persistent_cache_;  // model-lifetime host arrays (RoPE inv_freq)
};

}  // namespace
}  // namespace cuda

bool cuda_backend_built() { return true; }

StatusOr<std::unique_ptr<Backend>> make_cuda_backend(int device) {
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
    return make_error(ErrorCode::kUnsupported, std::string("CUDA is not usable: ") + cudaGetErrorString(e));
  }
  if (device < 0 || device >= count) {
    return make_error(ErrorCode::kInvalidArgument,
                      "GPU " + std::to_string(device) + " does not exist (" + std::to_string(count) + " visible)");
  }
  try {
    return std::unique_ptr<Backend>(std::make_unique<cuda::CudaBackend>(device));
  } catch (const BackendError& e) {
    return make_error(ErrorCode::kUnsupported, e.what());
  }
}

}  // namespace grove
