#include "grove/backend.h"

#include <algorithm>
#include <new>

namespace grove {

namespace {
void raise_peak(std::atomic<size_t>& peak, size_t value) {
  size_t old = peak.load();
  while (value > old && !peak.compare_exchange_weak(old, value)) {
  }
}
}  // namespace

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = other.owner_;
    data_ = other.data_;
    numel_ = other.numel_;
    dtype_ = other.dtype_;
    category_ = other.category_;
    other.owner_ = nullptr;
    other.data_ = nullptr;
    other.numel_ = 0;
  }
  return *this;
}

void Buffer::reset() {
  if (data_ != nullptr && owner_ != nullptr) owner_->release(data_, bytes(), category_);
  data_ = nullptr;
  numel_ = 0;
  owner_ = nullptr;
}

Buffer Backend::alloc(size_t numel, MemoryCategory category, DType dtype) {
  return allocate(numel, category, dtype, true);
}

Buffer Backend::alloc_for_overwrite(size_t numel, MemoryCategory category, DType dtype) {
  return allocate(numel, category, dtype, false);
}

Buffer Backend::allocate(size_t numel, MemoryCategory category, DType dtype, bool zero) {
  const size_t bytes = (numel == 0 ? 1 : numel) * dtype_size(dtype);
  if (limit_ != 0 && current_total_.load() + bytes > limit_) throw std::bad_alloc();
  void* p = raw_alloc(bytes);
  if (p == nullptr) throw std::bad_alloc();
  if (zero) {
    fill(TypedPtr(p, dtype), 0.0f, numel);
  } else {
    poison(TypedPtr(p, dtype), numel);
  }
  const int c = static_cast<int>(category);
  raise_peak(peak_[c], current_[c] += bytes);
  raise_peak(peak_total_, current_total_ += bytes);
  return Buffer(this, p, numel, dtype, category);
}

void Backend::release(void* p, size_t bytes, MemoryCategory category) {
  bytes = bytes == 0 ? sizeof(float) : bytes;
  raw_free(p);
  current_[static_cast<int>(category)] -= bytes;
  current_total_ -= bytes;
}

void Backend::lm_head_loss(ConstTypedPtr x, ConstTypedPtr w, const int32_t* targets, int rows, int hidden, int vocab,
                           float* loss, TypedPtr dx) {
  const size_t row_bytes = static_cast<size_t>(vocab) * sizeof(float);
  const int chunk = static_cast<int>(std::clamp<size_t>(chunk_bytes_ / row_bytes, 1, static_cast<size_t>(rows)));
  Buffer logits = alloc(static_cast<size_t>(chunk) * vocab, MemoryCategory::kActivations);
  Buffer lse = alloc(chunk, MemoryCategory::kActivations);
  for (int r0 = 0; r0 < rows; r0 += chunk) {
    const int n = std::min(chunk, rows - r0);
    const size_t off = static_cast<size_t>(r0) * hidden;
    gemm(false, true, n, vocab, hidden, 1.0f, x.at(off), hidden, w, hidden, 0.0f, logits.ptr(), vocab);
    cross_entropy_forward(logits.data(), targets + r0, n, vocab, loss + r0, lse.data());
    if (dx.p == nullptr) continue;
    cross_entropy_backward(logits.data(), targets + r0, nullptr, lse.data(), n, vocab);
    gemm(false, false, n, hidden, vocab, 1.0f, logits.ptr(), vocab, w, hidden, 0.0f, dx.at(off), hidden);
  }
}

void Backend::gemm_grouped(const std::vector<GemmGroup>& groups) {
  for (const GemmGroup& group : groups) {
    for (const GemmProblem& g : group.problems) {
      gemm(group.trans_a, group.trans_b, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc);
    }
  }
}

void Backend::copy(const std::vector<TensorCopy>& copies) {
  for (const TensorCopy& c : copies) copy(c.dst, c.src, c.numel);
}

double Backend::sum_squares(const std::vector<ConstTensor>& tensors) {
  double sum = 0.0;
  for (const ConstTensor& t : tensors) sum += sum_squares(t.data, t.numel);
  return sum;
}

void Backend::adamw_step(const std::vector<AdamWTensor>& tensors, const AdamWParams& params, float grad_scale) {
  for (const AdamWTensor& t : tensors) {
    if (grad_scale != 1.0f) scale(t.grad, grad_scale, t.numel);
    adamw_step(t.param, t.grad, t.m, t.v, t.numel, params);
    fill(t.grad, 0.0f, t.numel);
  }
}

MemoryStats Backend::memory_stats() const {
  MemoryStats s;
  for (int c = 0; c < kMemoryCategoryCount; ++c) {
    s.current[c] = current_[c].load();
    s.peak[c] = peak_[c].load();
  }
  s.current_total = current_total_.load();
  s.peak_total = peak_total_.load();
  return s;
}

void Backend::reset_peak_memory() {
  for (int c = 0; c < kMemoryCategoryCount; ++c) peak_[c] = current_[c].load();
  peak_total_ = current_total_.load();
}

}  // namespace grove
