// Helpers for the CUDA kernel tests (tests/cuda/*_test.cpp). The tests build twice, against the CPU emulator (CI)
// and against real CUDA (on a GPU), so the host side keeps to cudaMalloc/cudaMemcpy/cudaMemset/cudaStream*.
// Each test runs a kernel on random inputs, runs the CPU reference op (src/backend/cpu/ops) on the same inputs
// rounded to the kernel's storage type, and compares by normalised error with a per-dtype tolerance.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "backend/cpu/thread_pool.h"
#include "backend/cuda/cuda_api.h"

namespace grove::cuda::test {

using bf16 = __nv_bfloat16;

// n elements of T in device memory, freed when the object dies.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t n) : n_(n) {
    void* p = nullptr;
    check_cuda(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)), "cudaMalloc");
    p_ = static_cast<T*>(p);
  }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() { cudaFree(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return p_; }
  size_t size() const { return n_; }

  void upload(const std::vector<T>& host) {
    check_cuda(cudaMemcpy(p_, host.data(), std::min(host.size(), n_) * sizeof(T), cudaMemcpyHostToDevice),
               "cudaMemcpy to device");
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    check_cuda(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
    return host;
  }
  // Every byte 0xFF, which is NaN in fp32 and in bf16 (and UINT_MAX as an integer), so an element the kernel
  // forgets to write fails the comparison.
  void poison() { check_cuda(cudaMemset(p_, 0xFF, n_ * sizeof(T)), "cudaMemset"); }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// Uniform random values in [lo, hi), reproducible from `seed`.
std::vector<float> random_floats(size_t n, float lo, float hi, uint64_t seed);
// Uniform random integers in [lo, hi].
std::vector<int32_t> random_ints(size_t n, int32_t lo, int32_t hi, uint64_t seed);

// Host data converted to the kernel's storage type (bf16: round to nearest even) and back.
template <typename T>
std::vector<T> to_storage(const std::vector<float>& v) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if constexpr (std::is_same_v<T, bf16>) out[i] = __float2bfloat16(v[i]);
    else out[i] = v[i];
  }
  return out;
}
template <typename T>
std::vector<float> to_floats(const std::vector<T>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if constexpr (std::is_same_v<T, bf16>) out[i] = __bfloat162float(v[i]);
    else out[i] = v[i];
  }
  return out;
}
// v as the kernel sees it once stored as T: what the CPU reference is fed.
template <typename T>
std::vector<float> rounded(const std::vector<float>& v) {
  return to_floats(to_storage<T>(v));
}

// ||got - want||_2 / max(||want||_2, tiny); NaN when got holds a NaN.
double normalised_error(const std::vector<float>& got, const std::vector<float>& want);
// The same with max norms: a few wrong elements in a large array barely move the 2-norm ratio but show here.
double max_normalised_error(const std::vector<float>& got, const std::vector<float>& want);
bool all_finite(const std::vector<float>& v);

// Normalised-error tolerance of a kernel whose inputs and outputs are stored as T.
template <typename T>
constexpr double tolerance() {
  // fp32: only summation order and fused multiply-adds differ from the reference.
  // bf16: inputs and outputs are rounded to an 8-bit mantissa; one rounding is <= 2^-9 relative and the few in a
  // kernel's chain stay below 1e-2.
  return sizeof(T) == sizeof(float) ? 1e-5 : 2e-2;
}

template <typename T>
const char* dtype_name() {
  return sizeof(T) == sizeof(float) ? "fp32" : "bf16";
}

// Expects `got` all finite and within tolerance<T>() of `want` in both normalised errors (each element's rounding
// is relative to that element, so the max-norm ratio stays under the same bound); prints the errors either way,
// so a GPU run's log shows how close each tensor came.
template <typename T>
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  const double err = normalised_error(got, want), max_err = max_normalised_error(got, want);
  std::printf("  [%s] %-44s normalised error %.3g, max-norm %.3g (tolerance %.0e)\n", dtype_name<T>(),
              what.c_str(), err, max_err, tolerance<T>());
  EXPECT_TRUE(all_finite(got)) << what << ": non-finite output";
  EXPECT_LE(err, tolerance<T>()) << what;
  EXPECT_LE(max_err, tolerance<T>()) << what;
}

// Typed fixture: a stream for the kernels and a thread pool for the CPU reference.
template <typename T>
class KernelTest : public ::testing::Test {
 protected:
  KernelTest() { check_cuda(cudaStreamCreate(&stream), "cudaStreamCreate"); }
  ~KernelTest() override { cudaStreamDestroy(stream); }
  void sync() { check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize"); }

  cudaStream_t stream = nullptr;
  cpu::ThreadPool pool{2};
};

using StorageTypes = ::testing::Types<float, bf16>;

// Names typed tests' instances fp32 / bf16 instead of 0 / 1.
struct StorageTypeNames {
  template <typename T>
  static std::string GetName(int) {
    return dtype_name<T>();
  }
};

}  // namespace grove::cuda::test
