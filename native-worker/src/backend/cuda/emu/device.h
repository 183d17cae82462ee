// Emulated device side of CUDA: qualifiers, built-in indices, barriers, warp shuffles, atomics, math, shared memory
// and kernel launches. A launch runs its blocks one after another on the calling host thread; the threads of a
// block are fibers (scheduler.cpp) switched at every barrier, so `static` locals behave as __shared__ memory.
#pragma once

#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "backend/cuda/emu/bf16.h"
#include "backend/cuda/emu/runtime.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ __inline__
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
// Blocks of a launch run one after another and launches are serialised, so one static array per kernel is the
// block's shared memory.
#define __shared__ static

constexpr int warpSize = 32;

// Built-in indices of the CUDA thread the host thread is running now (set by the scheduler at every switch).
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

namespace grove::cuda::emu {

// Kinds of warp-wide operations; all lanes of a warp must be at the same kind for it to complete.
enum class WarpOp { sync, shuffle, wmma_load, wmma_store, wmma_mma };

// A warp-wide operation: every lane passes `arg`; the last lane to arrive calls `op(args, lanes, ctx)` with the
// 32 lanes' args, then all lanes continue. Shuffles and WMMA need all 32 lanes of a full warp.
using WarpOpFn = void (*)(void* const* args, int lanes);
void warp_collective(WarpOp kind, void* arg, WarpOpFn op);
void sync_block();
void* dynamic_smem();
// Ends the launch with `e` (the kernel's remaining threads do not run) and prints `what`.
[[noreturn]] void kernel_fault(cudaError_t e, const char* what);
int lane_id();

inline void check_full_mask(unsigned mask, const char* op) {
  if (mask != 0xffffffffu) kernel_fault(cudaErrorNotSupported, op);
}

struct ShuffleArg {
  uint64_t in;
  uint64_t out;
  int src;  // lane to read, or -1 for the lane's own value
};

void shuffle_op(void* const* args, int lanes);

template <typename T>
T shuffle(T v, int src) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move up to 8 bytes");
  ShuffleArg a{0, 0, src};
  std::memcpy(&a.in, &v, sizeof v);
  warp_collective(WarpOp::shuffle, &a, shuffle_op);
  T r;
  std::memcpy(&r, &a.out, sizeof r);
  return r;
}

}  // namespace grove::cuda::emu

inline void __syncthreads() { grove::cuda::emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  grove::cuda::emu::check_full_mask(mask, "__syncwarp with a mask other than 0xffffffff is not emulated");
  grove::cuda::emu::warp_collective(grove::cuda::emu::WarpOp::sync, nullptr, nullptr);
}

// Shuffles follow CUDA's rules for `width` (a power of two ≤ 32): lanes form groups of `width`; a source outside
// the caller's group gives the caller's own value.
template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  grove::cuda::emu::check_full_mask(mask, "__shfl_sync with a mask other than 0xffffffff is not emulated");
  const int lane = grove::cuda::emu::lane_id();
  const int base = lane & ~(width - 1);
  return grove::cuda::emu::shuffle(var, base + (src_lane & (width - 1)));
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  grove::cuda::emu::check_full_mask(mask, "__shfl_xor_sync with a mask other than 0xffffffff is not emulated");
  const int lane = grove::cuda::emu::lane_id();
  const int src = lane ^ lane_mask;
  const int group_end = (lane & ~(width - 1)) + width;
  return grove::cuda::emu::shuffle(var, src < group_end && src < warpSize ? src : -1);
}

template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  grove::cuda::emu::check_full_mask(mask, "__shfl_down_sync with a mask other than 0xffffffff is not emulated");
  const int lane = grove::cuda::emu::lane_id();
  const int src = lane + static_cast<int>(delta);
  const int group_end = (lane & ~(width - 1)) + width;
  return grove::cuda::emu::shuffle(var, src < group_end ? src : -1);
}

template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  grove::cuda::emu::check_full_mask(mask, "__shfl_up_sync with a mask other than 0xffffffff is not emulated");
  const int lane = grove::cuda::emu::lane_id();
  const int src = lane - static_cast<int>(delta);
  const int group_begin = lane & ~(width - 1);
  return grove::cuda::emu::shuffle(var, src >= group_begin ? src : -1);
}

// Atomics: CUDA threads never run at the same time (one host thread runs a launch, launches are serialised), so a
// plain read-modify-write is atomic here. Overloads (not templates) so arguments convert as with CUDA's.
#define GROVE_EMU_ATOMIC(T, name, update)      \
  inline T name(T* address, T value) {         \
    const T old = *address;                    \
    *address = (update);                       \
    return old;                                \
  }
#define GROVE_EMU_ATOMIC_ARITH(T)                          \
  GROVE_EMU_ATOMIC(T, atomicAdd, old + value)              \
  GROVE_EMU_ATOMIC(T, atomicExch, value)
#define GROVE_EMU_ATOMIC_INT(T)                                   \
  GROVE_EMU_ATOMIC_ARITH(T)                                       \
  GROVE_EMU_ATOMIC(T, atomicSub, old - value)                     \
  GROVE_EMU_ATOMIC(T, atomicMax, value > old ? value : old)       \
  GROVE_EMU_ATOMIC(T, atomicMin, value < old ? value : old)       \
  GROVE_EMU_ATOMIC(T, atomicAnd, old & value)                     \
  GROVE_EMU_ATOMIC(T, atomicOr, old | value)                      \
  GROVE_EMU_ATOMIC(T, atomicXor, old ^ value)                     \
  inline T atomicCAS(T* address, T compare, T value) {            \
    const T old = *address;                                       \
    if (old == compare) *address = value;                         \
    return old;                                                   \
  }
GROVE_EMU_ATOMIC_INT(int)
GROVE_EMU_ATOMIC_INT(unsigned int)
GROVE_EMU_ATOMIC_INT(unsigned long long)
GROVE_EMU_ATOMIC_INT(long long)
GROVE_EMU_ATOMIC_ARITH(float)
GROVE_EMU_ATOMIC_ARITH(double)
#undef GROVE_EMU_ATOMIC_INT
#undef GROVE_EMU_ATOMIC_ARITH
#undef GROVE_EMU_ATOMIC

// Math built-ins beyond <cmath>; the intrinsics compute exactly here (the GPU's are approximate).
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x != x ? 0.0f : fminf(fmaxf(x, 0.0f), 1.0f); }
inline int __float_as_int(float f) { return grove::cuda::emu::bit_copy<int>(f); }
inline unsigned __float_as_uint(float f) { return grove::cuda::emu::bit_copy<unsigned>(f); }
inline float __int_as_float(int i) { return grove::cuda::emu::bit_copy<float>(i); }
inline float __uint_as_float(unsigned u) { return grove::cuda::emu::bit_copy<float>(u); }
template <typename T>
T __ldg(const T* p) {
  return *p;
}
// CUDA's global min/max overloads (mixed signed/unsigned pairs compare as unsigned, as CUDA's do).
#define GROVE_EMU_MINMAX(A, B, R)                                                                   \
  inline R min(A a, B b) { return static_cast<R>(a) < static_cast<R>(b) ? static_cast<R>(a) : static_cast<R>(b); } \
  inline R max(A a, B b) { return static_cast<R>(a) > static_cast<R>(b) ? static_cast<R>(a) : static_cast<R>(b); }
GROVE_EMU_MINMAX(int, int, int)
GROVE_EMU_MINMAX(unsigned int, unsigned int, unsigned int)
GROVE_EMU_MINMAX(int, unsigned int, unsigned int)
GROVE_EMU_MINMAX(unsigned int, int, unsigned int)
GROVE_EMU_MINMAX(long, long, long)
GROVE_EMU_MINMAX(unsigned long, unsigned long, unsigned long)
GROVE_EMU_MINMAX(long long, long long, long long)
GROVE_EMU_MINMAX(unsigned long long, unsigned long long, unsigned long long)
#undef GROVE_EMU_MINMAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
using std::isfinite;
using std::isinf;
using std::isnan;

// Dynamic shared memory of the running launch (allocated per launch with its exact size, so ASan sees overruns).
#define GROVE_DYNAMIC_SMEM(type, name) type* name = reinterpret_cast<type*>(::grove::cuda::emu::dynamic_smem())

namespace grove::cuda::emu {

struct LaunchConfig {
  const void* kernel;  // identifies the kernel for cudaFuncSetAttribute
  dim3 grid;
  dim3 block;
  size_t smem;
  cudaStream_t stream;
};

// Runs `body(ctx)` as every thread of every block. The config is validated first as CUDA does; `pointer_args` are
// the kernel's pointer arguments, each of which must be null or inside a device allocation. Errors go to the
// calling thread's last error (cudaGetLastError).
void launch(const LaunchConfig& config, void (*body)(void*), void* ctx, const void* const* pointer_args,
            int pointer_count);

template <typename T>
constexpr bool is_data_pointer = std::is_pointer_v<T> && !std::is_function_v<std::remove_pointer_t<T>>;

template <typename... P>
class KernelLaunch {
 public:
  KernelLaunch(dim3 grid, dim3 block, size_t smem, cudaStream_t stream, void (*kernel)(P...))
      : config_{reinterpret_cast<const void*>(kernel), grid, block, smem, stream}, kernel_(kernel) {}

  template <typename... A>
  void operator()(A&&... args) const {
    static_assert(sizeof...(A) == sizeof...(P), "kernel launched with the wrong number of arguments");
    // Arguments convert to the parameter types at the launch, as with <<<>>>; each CUDA thread gets its own copy.
    Call call{kernel_, std::tuple<P...>(std::forward<A>(args)...)};
    const void* pointers[sizeof...(P) + 1] = {};
    int count = 0;
    std::apply([&](const auto&... p) { (collect(p, pointers, count), ...); }, call.params);
    launch(config_, &Call::run, &call, pointers, count);
  }

 private:
  struct Call {
    void (*kernel)(P...);
    std::tuple<P...> params;
    static void run(void* self) {
      auto* c = static_cast<Call*>(self);
      std::apply(c->kernel, c->params);
    }
  };

  template <typename T>
  static void collect(const T& v, const void** out, int& count) {
    if constexpr (is_data_pointer<T>) out[count++] = static_cast<const void*>(v);
  }

  LaunchConfig config_;
  void (*kernel_)(P...);
};

template <typename... P>
KernelLaunch<P...> make_launch(dim3 grid, dim3 block, size_t smem, cudaStream_t stream, void (*kernel)(P...)) {
  return KernelLaunch<P...>(grid, block, smem, stream, kernel);
}

}  // namespace grove::cuda::emu

// GROVE_LAUNCH(grid, block, smem_bytes, stream, kernel<T, 64>)(args...), as in cuda_api.h.
#define GROVE_LAUNCH(grid, block, smem, stream, ...) \
  ::grove::cuda::emu::make_launch((grid), (block), (smem), (stream), __VA_ARGS__)
