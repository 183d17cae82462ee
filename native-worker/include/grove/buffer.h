// Buffer: an owned block of backend memory (host RAM on the CPU backend, device memory on CUDA), freed by its
// destructor. Every allocation is tagged with what it holds, so the engine can report memory by category, and with
// its element type.
#pragma once

#include <cstddef>

#include "grove/dtype.h"

namespace grove {

enum class MemoryCategory { kBaseWeights = 0, kActivations = 1, kAdapterOptimizer = 2 };
constexpr int kMemoryCategoryCount = 3;

class Backend;

class Buffer {
 public:
  Buffer() = default;
  Buffer(Backend* owner, void* data, size_t numel, DType dtype, MemoryCategory category)
      : owner_(owner), data_(data), numel_(numel), dtype_(dtype), category_(category) {}
  ~Buffer() { reset(); }
  Buffer(Buffer&& other) noexcept { *this = static_cast<Buffer&&>(other); }
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  TypedPtr ptr() const { return {data_, dtype_}; }
  // The fp32 view; throws std::logic_error for a buffer of another type.
  float* data() const { return ptr().f32(); }
  size_t numel() const { return numel_; }
  size_t bytes() const { return numel_ * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  bool empty() const { return data_ == nullptr; }
  MemoryCategory category() const { return category_; }
  void reset();

 private:
  Backend* owner_ = nullptr;
  void* data_ = nullptr;
  size_t numel_ = 0;
  DType dtype_ = DType::kF32;
  MemoryCategory category_ = MemoryCategory::kActivations;
};

}  // namespace grove
