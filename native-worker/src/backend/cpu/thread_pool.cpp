#include "backend/cpu/thread_pool.h"

#include <algorithm>

namespace grove::cpu {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(1, threads); ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_chunk) {
  if (n == 0) return;
  size_t parts = std::min<size_t>(static_cast<size_t>(size()), (n + min_chunk - 1) / std::max<size_t>(1, min_chunk));
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::pair<size_t, size_t>> chunks;
  for (size_t p = 0; p < parts; ++p) chunks.emplace_back(n * p / parts, n * (p + 1) / parts);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    chunks_ = chunks;
    task_ = &fn;
    pending_ = static_cast<int>(parts) - 1;
    ++generation_;
  }
  wake_.notify_all();
  fn(chunks[0].first, chunks[0].second);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  task_ = nullptr;
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    if (static_cast<size_t>(index) >= chunks_.size()) continue;
    auto chunk = chunks_[index];
    const auto* task = task_;
    lock.unlock();
    (*task)(chunk.first, chunk.second);
    lock.lock();
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace grove::cpu
