#include "backend/cuda/op_timer.h"

namespace grove::cuda {

OpTimer::~OpTimer() {
  for (const Pending& p : pending_) {
    cudaEventDestroy(p.start);
    cudaEventDestroy(p.end);
  }
  for (cudaEvent_t e : free_) cudaEventDestroy(e);
}

void OpTimer::enable(bool on) {
  on_ = on;
  if (on) {
    for (const Pending& p : pending_) {
      free_.push_back(p.start);
      free_.push_back(p.end);
    }
    pending_.clear();
    totals_.clear();
  }
}

cudaEvent_t OpTimer::take_event() {
  if (!free_.empty()) {
    cudaEvent_t e = free_.back();
    free_.pop_back();
    return e;
  }
  cudaEvent_t e = nullptr;
  check_cuda(cudaEventCreate(&e), "op timer event");
  return e;
}

OpTimer::Scope::Scope(OpTimer& timer, const char* op, cudaStream_t stream) : timer_(timer), op_(op), stream_(stream) {
  if (timer_.on_ && timer_.depth_ == 0) {
    start_ = timer_.take_event();
    check_cuda(cudaEventRecord(start_, stream_), "op timer");
  }
  ++timer_.depth_;
}

OpTimer::Scope::~Scope() {
  --timer_.depth_;
  if (start_ == nullptr) return;
  cudaEvent_t end = timer_.take_event();
  cudaEventRecord(end, stream_);  // a destructor must not throw; a failed record shows as a failed collect()
  timer_.pending_.push_back({op_, start_, end});
}

std::vector<OpTime> OpTimer::collect(cudaStream_t stream) {
  check_cuda(cudaStreamSynchronize(stream), "op timer");
  for (const Pending& p : pending_) {
    float ms = 0.0f;
    check_cuda(cudaEventElapsedTime(&ms, p.start, p.end), "op timer");
    OpTime& t = totals_[p.op];
    t.op = p.op;
    t.calls += 1;
    t.seconds += ms / 1e3;
    free_.push_back(p.start);
    free_.push_back(p.end);
  }
  pending_.clear();
  std::vector<OpTime> out;
  for (const auto& [name, t] : totals_) out.push_back(t);
  return out;
}

}  // namespace grove::cuda
