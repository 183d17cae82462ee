// Element types of backend memory, and typed pointers into it. The CPU backend keeps everything in fp32; the CUDA
// backend keeps base weights and activations in bf16 and LoRA weights, gradients and optimizer states in fp32.
// Engine code never does pointer arithmetic on raw addresses: `at(n)` offsets by n elements of the pointer's type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace grove {

// The element types of tensors in memory and in safetensors files (F16 only in files: it is converted on load).
enum class DType : uint8_t { kF32 = 0, kF16 = 1, kBF16 = 2 };

constexpr size_t dtype_size(DType d) { return d == DType::kF32 ? 4 : 2; }
// The safetensors spelling: "F32", "F16", "BF16".
constexpr const char* dtype_name(DType d) { return d == DType::kF32 ? "F32" : d == DType::kF16 ? "F16" : "BF16"; }

[[noreturn]] inline void throw_dtype_mismatch(DType got) {
  throw std::logic_error(std::string("expected an F32 tensor, got ") + dtype_name(got));
}

// A typed pointer into backend memory. Converts implicitly from float* (f32), so fp32-only code reads as before.
struct TypedPtr {
  void* p = nullptr;
  DType dtype = DType::kF32;

  TypedPtr() = default;
  TypedPtr(float* f) : p(f), dtype(DType::kF32) {}  // NOLINT: implicit by design
  TypedPtr(void* ptr, DType d) : p(ptr), dtype(d) {}

  TypedPtr at(size_t elems) const { return {static_cast<char*>(p) + elems * dtype_size(dtype), dtype}; }
  float* f32() const {
    if (dtype != DType::kF32) throw_dtype_mismatch(dtype);
    return static_cast<float*>(p);
  }
};

struct ConstTypedPtr {
  const void* p = nullptr;
  DType dtype = DType::kF32;

  ConstTypedPtr() = default;
  ConstTypedPtr(const float* f) : p(f), dtype(DType::kF32) {}  // NOLINT: implicit by design
  ConstTypedPtr(TypedPtr t) : p(t.p), dtype(t.dtype) {}        // NOLINT: implicit by design
  ConstTypedPtr(const void* ptr, DType d) : p(ptr), dtype(d) {}

  ConstTypedPtr at(size_t elems) const { return {static_cast<const char*>(p) + elems * dtype_size(dtype), dtype}; }
  const float* f32() const {
    if (dtype != DType::kF32) throw_dtype_mismatch(dtype);
    return static_cast<const float*>(p);
  }
};

}  // namespace grove
