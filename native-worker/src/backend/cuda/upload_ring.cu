#include "backend/cuda/upload_ring.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace grove::cuda {

namespace {
constexpr size_t kAlign = 16;
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }
}  // namespace

// Allocated at the first upload, so on the device current then (the backend's), not at construction.
UploadRing::UploadRing(size_t capacity_bytes) : capacity_(aligned(capacity_bytes)) {}

UploadRing::~UploadRing() {
  cudaFreeHost(host_);
  cudaFree(device_);
}

void UploadRing::reserve(size_t capacity, cudaStream_t stream) {
  if (host_ != nullptr) {
    check_cuda(cudaStreamSynchronize(stream), "upload ring");  // earlier copies may still read the old ring
    cudaFreeHost(host_);
    cudaFree(device_);
    host_ = nullptr;
    device_ = nullptr;
  }
  // Out of memory here is an OOM like any other allocation's (the engine fails or requeues the job).
  const auto check_alloc = [](cudaError_t e, const char* what) {
    if (e == cudaErrorMemoryAllocation) throw std::bad_alloc();
    check_cuda(e, what);
  };
  check_alloc(cudaMallocHost(&host_, capacity), "upload ring (pinned host)");
  check_alloc(cudaMalloc(&device_, capacity), "upload ring (device)");
  capacity_ = capacity;
  used_ = 0;
}

void* UploadRing::upload(const void* host, size_t bytes, cudaStream_t stream) {
  const size_t need = aligned(bytes);
  if (host_ == nullptr) reserve(std::max(need, capacity_), stream);
  if (need > capacity_) reserve(std::max(need, 2 * capacity_), stream);
  if (used_ + need > capacity_) {
    // Every copy out of the ring so far has to finish before the ring is written again. The device side needs
    // no wait: copies into it are queued after the kernels that read its earlier contents.
    check_cuda(cudaStreamSynchronize(stream), "upload ring");
    used_ = 0;
  }
  char* h = host_ + used_;
  char* d = device_ + used_;
  std::memcpy(h, host, bytes);
  check_cuda(cudaMemcpyAsync(d, h, bytes, cudaMemcpyHostToDevice, stream), "upload");
  used_ += need;
  return d;
}

}  // namespace grove::cuda
