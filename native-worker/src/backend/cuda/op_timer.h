// GPU time per op family, from CUDA events recorded around each backend op while timing is on (off by default:
// recording events costs the host a little per op). The benchmark turns it on for one extra step to see where
// a step's device time goes; what the ops do not cover is time the GPU waited for the host (launch gaps).
// Nested ops (an op the backend runs through another) count once, under the outer op's name.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "backend/cuda/cuda_api.h"

namespace grove::cuda {

class OpTimer {
 public:
  OpTimer() = default;
  ~OpTimer();
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

  // Turning timing on clears the totals.
  void enable(bool on);

  class Scope {
   public:
    Scope(OpTimer& timer, const char* op, cudaStream_t stream);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    OpTimer& timer_;
    const char* op_;
    cudaStream_t stream_;
    cudaEvent_t start_ = nullptr;
  };

  // Waits for `stream`, then returns the totals per op since timing was turned on.
  std::vector<OpTime> collect(cudaStream_t stream);

 private:
  struct Pending {
    const char* op;
    cudaEvent_t start, end;
  };
  cudaEvent_t take_event();

  bool on_ = false;
  int depth_ = 0;
  std::vector<Pending> pending_;
  std::vector<cudaEvent_t> free_;
  std::map<std::string, OpTime> totals_;
};

}  // namespace grove::cuda
