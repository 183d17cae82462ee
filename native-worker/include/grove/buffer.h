// Buffer: an owned block of backend memory (host RAM on the CPU backend, device memory on CUDA), freed by its
// destructor. Every allocation is tagged with what it holds, so the engine can report memory by category.
#pragma once

#include <cstddef>

namespace grove {

enum class MemoryCategory { kBaseWeights = 0, kActivations = 1, kAdapterOptimizer = 2 };
constexpr int kMemoryCategoryCount = 3;

class Backend;

class Buffer {
 public:
  Buffer() = default;
  Buffer(Backend* owner, float* data, size_t numel, MemoryCategory category)
      : owner_(owner), data_(data), numel_(numel), category_(category) {}
  ~Buffer() { reset(); }
  Buffer(Buffer&& other) noexcept { *this = static_cast<Buffer&&>(other); }
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  float* data() const { return data_; }
  size_t numel() const { return numel_; }
  size_t bytes() const { return numel_ * sizeof(float); }
  bool empty() const { return data_ == nullptr; }
  MemoryCategory category() const { return category_; }
  void reset();

 private:
  Backend* owner_ = nullptr;
  float* data_ = nullptr;
  size_t numel_ = 0;
  MemoryCategory category_ = MemoryCategory::kActivations;
};

}  // namespace grove
