// Kernel launches: validation, then every block in turn on the calling host thread, each CUDA thread a fiber.
// A fiber runs until it reaches a barrier (__syncthreads, or a warp-wide operation) or ends; the scheduler sweeps
// the block's fibers in order, resuming those whose barrier has been released, until all have ended. A sweep in
// which nobody can run is a deadlock: some thread of the block (or warp) never reaches the barrier.
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "backend/cuda/emu/device.h"
#include "backend/cuda/emu/fiber.h"

thread_local uint3 threadIdx{0, 0, 0};
thread_local uint3 blockIdx{0, 0, 0};
thread_local dim3 blockDim;
thread_local dim3 gridDim;

namespace grove::cuda::emu {

namespace {

constexpr int kMaxBlockThreads = 1024;
constexpr size_t kMaxDynamicSmem = 227 * 1024;
// Dynamic shared memory's alignment: what a GPU gives a kernel without static __shared__ arrays (its window starts
// at 0); with static ones the GPU only promises GROVE_DYNAMIC_SMEM's 16.
constexpr std::align_val_t kSmemAlignment{128};

struct SmemFree {
  void operator()(char* p) const { ::operator delete[](p, kSmemAlignment); }
};

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync: return "__syncwarp";
    case WarpOp::shuffle: return "a shuffle";
    case WarpOp::wmma_load: return "wmma::load_matrix_sync";
    case WarpOp::wmma_store: return "wmma::store_matrix_sync";
    case WarpOp::wmma_mma: return "wmma::mma_sync";
  }
  return "?";
}

struct WarpState {
  uint64_t gen = 0;  // advances each time the warp's operation completes
  int arrived = 0;
  int live = 0;  // lanes that have not returned from the kernel
  int size = 0;
  WarpOp kind = WarpOp::sync;
  void* args[32] = {};
};

struct ThreadState {
  Fiber fiber;
  bool ready = false;  // the fiber is fresh or parked after a finished body (not abandoned mid-kernel)
  bool done = true;
  const uint64_t* wait_gen = nullptr;  // waiting until *wait_gen != wait_value
  uint64_t wait_value = 0;
  bool at_block_barrier = false;
  uint3 index{};
  int warp = 0;
  int lane = 0;
};

// Runs launches for one host thread. Fibers stay allocated between launches, so a launch costs only the switches.
class Executor {
 public:
  cudaError_t run(const LaunchConfig& config, void (*body)(void*), void* ctx);

  bool in_kernel() const { return current_ != nullptr; }
  int lane() const { return current().lane; }
  void* smem() const { return smem_; }
  void sync_block();
  void warp_collective(WarpOp kind, void* arg, WarpOpFn op);
  [[noreturn]] void fault(cudaError_t e, const char* what);

 private:
  static void thread_main(void* thread);
  ThreadState& current() const {
    if (current_ == nullptr) {
      std::fprintf(stderr, "grove cuda emu: a device function was called outside a kernel\n");
      std::abort();
    }
    return *current_;
  }
  void run_block(int threads);
  void wait(ThreadState& t, const uint64_t& gen);
  void thread_exit(ThreadState& t);
  void release_warp(WarpState& w, WarpOpFn op);
  void report_deadlock(int threads);

  ThreadState threads_[kMaxBlockThreads];
  WarpState warps_[kMaxBlockThreads / 32];
  ThreadState* current_ = nullptr;
  void (*body_)(void*) = nullptr;
  void* ctx_ = nullptr;
  void* smem_ = nullptr;
  uint64_t block_gen_ = 0;
  int block_arrived_ = 0;
  int block_live_ = 0;
  bool faulted_ = false;
  cudaError_t fault_code_ = cudaSuccess;
  std::string fault_what_;
};

thread_local std::unique_ptr<Executor> tls_executor;

Executor& executor() {
  if (!tls_executor) tls_executor = std::make_unique<Executor>();
  return *tls_executor;
}

Executor& running_executor() {
  if (!tls_executor || !tls_executor->in_kernel()) {
    std::fprintf(stderr, "grove cuda emu: a device function was called outside a kernel\n");
    std::abort();
  }
  return *tls_executor;
}

std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

// A formatted message in a fixed buffer: faults abandon the fiber stack they are raised on, so a heap string
// built there would leak.
struct Message {
  char text[512];
  operator const char*() const { return text; }
};

Message format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
Message format(const char* fmt, ...) {
  Message m;
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(m.text, sizeof m.text, fmt, args);
  va_end(args);
  return m;
}

}  // namespace

void Executor::thread_main(void* thread) {
  Executor& e = *tls_executor;
  ThreadState& t = *static_cast<ThreadState*>(thread);
  for (;;) {
    try {
      e.body_(e.ctx_);
    } catch (...) {
      e.fault(cudaErrorLaunchFailure, "a kernel threw a C++ exception");
    }
    e.thread_exit(t);
    t.fiber.suspend();  // resumed by the next block, which runs the body again
  }
}

void Executor::wait(ThreadState& t, const uint64_t& gen) {
  t.wait_gen = &gen;
  t.wait_value = gen;
  t.fiber.suspend();
}

void Executor::sync_block() {
  ThreadState& t = current();
  if (++block_arrived_ == block_live_) {
    block_arrived_ = 0;
    ++block_gen_;
    return;
  }
  t.at_block_barrier = true;
  wait(t, block_gen_);
  t.at_block_barrier = false;
}

void Executor::release_warp(WarpState& w, WarpOpFn op) {
  if (op != nullptr) op(w.args, w.size);
  w.arrived = 0;
  ++w.gen;
}

void Executor::warp_collective(WarpOp kind, void* arg, WarpOpFn op) {
  ThreadState& t = current();
  WarpState& w = warps_[t.warp];
  if (kind != WarpOp::sync) {
    if (w.size != 32)
      fault(cudaErrorLaunchFailure,
            format("%s in warp %d, which has %d threads: the block size must be a multiple of 32",
                   warp_op_name(kind), t.warp, w.size));
    if (w.live != 32)
      fault(cudaErrorLaunchFailure,
            format("%s in warp %d after %d of its lanes returned: all 32 lanes must call it", warp_op_name(kind),
                   t.warp, 32 - w.live));
  }
  if (w.arrived == 0) {
    w.kind = kind;
  } else if (w.kind != kind) {
    fault(cudaErrorLaunchFailure,
          format("lanes of warp %d are at different warp operations (%s and %s): divergent warp-wide calls",
                 t.warp, warp_op_name(w.kind), warp_op_name(kind)));
  }
  w.args[t.lane] = arg;
  if (++w.arrived == w.live) {
    release_warp(w, op);
    return;
  }
  wait(t, w.gen);
}

void Executor::thread_exit(ThreadState& t) {
  t.done = true;
  if (--block_live_ > 0 && block_arrived_ == block_live_) {
    block_arrived_ = 0;
    ++block_gen_;
  }
  WarpState& w = warps_[t.warp];
  --w.live;
  if (w.arrived > 0) {
    if (w.kind != WarpOp::sync)
      fault(cudaErrorLaunchFailure,
            format("lane %d of warp %d returned while its warp waits at %s", t.lane, t.warp, warp_op_name(w.kind)));
    if (w.arrived == w.live) release_warp(w, nullptr);
  }
}

void Executor::fault(cudaError_t e, const char* what) {
  if (!faulted_) {
    faulted_ = true;
    fault_code_ = e;
    const ThreadState& t = current();
    fault_what_ = format("block (%u,%u,%u) thread (%u,%u,%u): %s", blockIdx.x, blockIdx.y, blockIdx.z, t.index.x,
                         t.index.y, t.index.z, what);
  }
  ThreadState& t = current();
  t.ready = false;
  t.fiber.suspend();  // never resumed: the next launch resets the fiber
  std::fprintf(stderr, "grove cuda emu: a faulted CUDA thread was resumed\n");
  std::abort();
}

void Executor::report_deadlock(int threads) {
  int at_block = 0, at_warp = 0, exited = 0;
  for (int i = 0; i < threads; ++i) {
    const ThreadState& t = threads_[i];
    if (t.done) ++exited;
    else if (t.at_block_barrier) ++at_block;
    else ++at_warp;
  }
  faulted_ = true;
  fault_code_ = cudaErrorLaunchFailure;
  fault_what_ = format(
      "block (%u,%u,%u) deadlocked: %d threads wait at __syncthreads, %d at warp-wide operations, %d returned; "
      "some thread of the block (or warp) never reaches the barrier the others wait at",
      blockIdx.x, blockIdx.y, blockIdx.z, at_block, at_warp, exited);
}

void Executor::run_block(int threads) {
  block_arrived_ = 0;
  block_live_ = threads;
  for (int w = 0; w * 32 < threads; ++w) {
    WarpState& ws = warps_[w];
    ws.arrived = 0;
    ws.size = threads - w * 32 < 32 ? threads - w * 32 : 32;
    ws.live = ws.size;
  }
  for (int i = 0; i < threads; ++i) {
    ThreadState& t = threads_[i];
    t.done = false;
    t.wait_gen = nullptr;
    t.at_block_barrier = false;
  }
  while (block_live_ > 0) {
    bool ran = false;
    for (int i = 0; i < threads; ++i) {
      ThreadState& t = threads_[i];
      if (t.done || (t.wait_gen != nullptr && *t.wait_gen == t.wait_value)) continue;
      t.wait_gen = nullptr;
      threadIdx = t.index;
      current_ = &t;
      t.fiber.resume();
      current_ = nullptr;
      ran = true;
      if (faulted_) return;
    }
    if (!ran && block_live_ > 0) {
      report_deadlock(threads);
      return;
    }
  }
}

cudaError_t Executor::run(const LaunchConfig& c, void (*body)(void*), void* ctx) {
  const int threads = static_cast<int>(c.block.x * c.block.y * c.block.z);
  for (int i = 0; i < threads; ++i) {
    ThreadState& t = threads_[i];
    t.index = {i % c.block.x, (i / c.block.x) % c.block.y, i / (c.block.x * c.block.y)};
    t.warp = i / 32;
    t.lane = i % 32;
    if (!t.ready) {  // first use, or abandoned by a fault
      t.fiber.reset(&Executor::thread_main, &t);
      t.ready = true;
    }
  }
  body_ = body;
  ctx_ = ctx;
  // Exact size (ASan flags overruns); filled with 0xff bytes (NaN as float and bf16) so a kernel that reads
  // shared memory it did not write sees garbage, as on a GPU.
  std::unique_ptr<char[], SmemFree> smem(static_cast<char*>(::operator new[](c.smem, kSmemAlignment)));
  smem_ = smem.get();
  faulted_ = false;
  gridDim = c.grid;
  blockDim = c.block;
  for (unsigned z = 0; z < c.grid.z && !faulted_; ++z) {
    for (unsigned y = 0; y < c.grid.y && !faulted_; ++y) {
      for (unsigned x = 0; x < c.grid.x && !faulted_; ++x) {
        blockIdx = {x, y, z};
        std::memset(smem_, 0xff, c.smem);
        run_block(threads);
      }
    }
  }
  smem_ = nullptr;
  if (!faulted_) return cudaSuccess;
  for (int i = 0; i < threads; ++i) {
    if (!threads_[i].done) threads_[i].ready = false;  // abandoned mid-kernel
  }
  faulted_ = false;
  return fail(fault_code_, "kernel", fault_what_.c_str());
}

void sync_block() { running_executor().sync_block(); }

void warp_collective(WarpOp kind, void* arg, WarpOpFn op) { running_executor().warp_collective(kind, arg, op); }

void* dynamic_smem() { return running_executor().smem(); }

int lane_id() { return running_executor().lane(); }

void kernel_fault(cudaError_t e, const char* what) { running_executor().fault(e, what); }

void shuffle_op(void* const* args, int lanes) {
  for (int l = 0; l < lanes; ++l) {
    auto* a = static_cast<ShuffleArg*>(args[l]);
    a->out = a->src < 0 ? a->in : static_cast<const ShuffleArg*>(args[a->src])->in;
  }
}

namespace {

cudaError_t validate(const LaunchConfig& c) {
  const dim3 b = c.block, g = c.grid;
  if (b.x == 0 || b.y == 0 || b.z == 0 || g.x == 0 || g.y == 0 || g.z == 0)
    return fail(cudaErrorInvalidConfiguration, "kernel launch",
                format("grid (%u,%u,%u) or block (%u,%u,%u) has a zero dimension", g.x, g.y, g.z, b.x, b.y, b.z)
                    .text);
  const unsigned long long threads = 1ull * b.x * b.y * b.z;
  if (b.x > 1024 || b.y > 1024 || b.z > 64 || threads > kMaxBlockThreads)
    return fail(cudaErrorInvalidConfiguration, "kernel launch",
                format("block (%u,%u,%u) exceeds 1024 threads (or 1024 x 1024 x 64)", b.x, b.y, b.z).text);
  if (g.x > 0x7fffffffu || g.y > 65535 || g.z > 65535)
    return fail(cudaErrorInvalidConfiguration, "kernel launch",
                format("grid (%u,%u,%u) exceeds (2^31-1, 65535, 65535)", g.x, g.y, g.z).text);
  if (c.smem > kMaxDynamicSmem)
    return fail(cudaErrorInvalidValue, "kernel launch",
                format("%zu bytes of dynamic shared memory exceed the 227 KB a block can have", c.smem).text);
  if (c.smem > max_dynamic_smem(c.kernel))
    return fail(cudaErrorInvalidValue, "kernel launch",
                format("%zu bytes of dynamic shared memory exceed the kernel's limit of %zu: raise it with "
                       "cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes)",
                       c.smem, max_dynamic_smem(c.kernel))
                    .text);
  if (!is_valid_stream(c.stream)) return fail(cudaErrorInvalidResourceHandle, "kernel launch", "unknown stream");
  return cudaSuccess;
}

}  // namespace

void launch(const LaunchConfig& config, void (*body)(void*), void* ctx, const void* const* pointer_args,
            int pointer_count) {
  if (tls_executor && tls_executor->in_kernel()) {
    fail(cudaErrorNotSupported, "kernel launch", "launching a kernel from a kernel is not emulated");
    return;
  }
  if (validate(config) != cudaSuccess) return;
  for (int i = 0; i < pointer_count; ++i) {
    if (pointer_args[i] != nullptr && !is_device_range(pointer_args[i], 0)) {
      fail(cudaErrorIllegalAddress, "kernel launch",
           format("pointer argument %d (%p) is not device memory: a GPU would fault on it", i + 1, pointer_args[i])
               .text);
      return;
    }
  }
  std::lock_guard<std::mutex> lock(launch_mutex());
  executor().run(config, body, ctx);
}

}  // namespace grove::cuda::emu
