#include "backend/cuda/device_memory_pool.h"

#include "backend/cuda/cuda_api.h"

namespace grove::cuda {

namespace {
constexpr size_t kSmallGranule = 512;
constexpr size_t kLargeGranule = size_t{2} << 20;
constexpr size_t kLargeThreshold = size_t{1} << 20;
// A cached block may serve a request down to half its size; smaller requests take a fresh block.
constexpr size_t kMaxWasteFactor = 2;
}  // namespace

size_t DeviceMemoryPool::rounded_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t g = bytes < kLargeThreshold ? kSmallGranule : kLargeGranule;
  return (bytes + g - 1) / g * g;
}

DeviceMemoryPool::~DeviceMemoryPool() {
  release_cached();
  for (auto& [p, size] : live_) cudaFree(p);
}

void* DeviceMemoryPool::allocate(size_t bytes) {
  const size_t size = rounded_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = free_by_size_.lower_bound(size);
  if (it != free_by_size_.end() && it->first <= size * kMaxWasteFactor) {
    void* p = it->second;
    live_[p] = it->first;
    cached_ -= it->first;
    free_by_size_.erase(it);
    return p;
  }
  void* p = nullptr;
  if (cudaMalloc(&p, size) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error state of a failed allocation
    for (auto& [s, q] : free_by_size_) cudaFree(q);
    reserved_ -= cached_;
    cached_ = 0;
    free_by_size_.clear();
    if (cudaMalloc(&p, size) != cudaSuccess) {
      cudaGetLastError();
      return nullptr;
    }
  }
  reserved_ += size;
  live_[p] = size;
  return p;
}

void DeviceMemoryPool::free(void* p) {
  if (p == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(p);
  if (it == live_.end()) return;
  free_by_size_.emplace(it->second, p);
  cached_ += it->second;
  live_.erase(it);
}

void DeviceMemoryPool::release_cached() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [s, q] : free_by_size_) cudaFree(q);
  reserved_ -= cached_;
  cached_ = 0;
  free_by_size_.clear();
}

}  // namespace grove::cuda
