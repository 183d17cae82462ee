// Device copies of small host arrays needed by one op (the operand pointers of a grouped GEMM, the tensor list of
// a multi-tensor optimizer step), uploaded without stalling the stream: the host side is a pinned ring, so each
// upload is one asynchronous copy queued in stream order. A region of the ring is written again only after the
// stream has passed the copy that read it: when the ring is full, the host waits for the stream once and starts
// over (once every few training steps).
#pragma once

#include <cstddef>

#include "backend/cuda/cuda_api.h"

namespace grove::cuda {

class UploadRing {
 public:
  explicit UploadRing(size_t capacity_bytes = size_t{1} << 20);
  ~UploadRing();
  UploadRing(const UploadRing&) = delete;
  UploadRing& operator=(const UploadRing&) = delete;

  // A device copy of host[0, bytes), 16-byte aligned, valid for work queued on `stream` after this call.
  void* upload(const void* host, size_t bytes, cudaStream_t stream);

 private:
  void reserve(size_t capacity, cudaStream_t stream);

  char* host_ = nullptr;
  char* device_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

}  // namespace grove::cuda
