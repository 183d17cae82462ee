#include "grove/backend.h"

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

Buffer Backend::alloc(size_t numel, MemoryCategory category) {
  const size_t bytes = (numel == 0 ? 1 : numel) * sizeof(float);
  if (limit_ != 0 && current_total_.load() + bytes > limit_) throw std::bad_alloc();
  float* p = raw_alloc(bytes);
  if (p == nullptr) throw std::bad_alloc();
  fill(p, 0.0f, numel);
  const int c = static_cast<int>(category);
  raise_peak(peak_[c], current_[c] += bytes);
  raise_peak(peak_total_, current_total_ += bytes);
  return Buffer(this, p, numel, category);
}

void Backend::release(float* p, size_t bytes, MemoryCategory category) {
  bytes = bytes == 0 ? sizeof(float) : bytes;
  raw_free(p);
  current_[static_cast<int>(category)] -= bytes;
  current_total_ -= bytes;
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
