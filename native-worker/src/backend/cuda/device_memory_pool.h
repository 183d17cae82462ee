// A caching allocator for device memory: freed blocks go back to per-size free lists and are handed out again
// without cudaMalloc/cudaFree (both synchronise the device). The backend runs every op on one stream, so a block
// freed by the host can be reused by the next op on that stream without extra synchronisation.
// Sizes are rounded up (512 B granules below 1 MiB, 2 MiB granules above) so steps with similar shapes reuse blocks.
// When cudaMalloc fails, the cache is released and the allocation retried once before reporting out of memory.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace grove::cuda {

class DeviceMemoryPool {
 public:
  DeviceMemoryPool() = default;
  ~DeviceMemoryPool();
  DeviceMemoryPool(const DeviceMemoryPool&) = delete;
  DeviceMemoryPool& operator=(const DeviceMemoryPool&) = delete;

  // nullptr when the device is out of memory even after releasing the cache.
  void* allocate(size_t bytes);
  void free(void* p);
  // Returns every cached block to the device.
  void release_cached();

  size_t reserved_bytes() const { return reserved_; }
  size_t cached_bytes() const { return cached_; }

  static size_t rounded_size(size_t bytes);

 private:
  std::mutex mu_;
  std::unordered_map<void*, size_t> live_;       // block -> rounded size
  std::multimap<size_t, void*> free_by_size_;    // rounded size -> cached block
  size_t reserved_ = 0;                          // bytes held from cudaMalloc (live + cached)
  size_t cached_ = 0;
};

}  // namespace grove::cuda
