// The emulated CUDA runtime: tracked "device" allocations in host memory, synchronous copies and sets, streams and
// events that order nothing (all work has finished when a call returns), per-thread last error, and a device
// that reports itself as sm_90 with 227 KB of opt-in shared memory.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "backend/cuda/emu/runtime.h"

struct CUstream_st {
  uint64_t magic;
};

struct CUevent_st {
  uint64_t magic;
  unsigned int flags;
  bool recorded;
  std::chrono::steady_clock::time_point time;
};

namespace grove::cuda::emu {

namespace {

constexpr uint64_t kStreamMagic = 0x53545245414d5f31ull;
constexpr uint64_t kEventMagic = 0x4556454e545f5f31ull;
constexpr size_t kDefaultSmemLimit = 48 * 1024;
constexpr size_t kSmemOptin = 227 * 1024;
constexpr size_t kAlignment = 256;  // cudaMalloc's alignment

thread_local cudaError_t tls_last_error = cudaSuccess;

struct Allocation {
  size_t bytes;
  bool pinned_host;  // cudaMallocHost
};

// Live allocations by start address, and the kernels' raised shared-memory limits.
struct Registry {
  std::mutex mutex;
  std::map<uintptr_t, Allocation> allocations;
  size_t device_bytes = 0;
  std::map<const void*, size_t> smem_limits;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: frees may run during static destruction
  return *r;
}

// Emulated device memory, GROVE_CUDA_EMU_MEMORY bytes (default 16 GiB): cudaMalloc fails past it, as on a GPU.
size_t total_memory() {
  static const size_t total = [] {
    const char* env = std::getenv("GROVE_CUDA_EMU_MEMORY");
    return env != nullptr ? static_cast<size_t>(std::strtoull(env, nullptr, 10)) : size_t{16} << 30;
  }();
  return total;
}

cudaError_t allocate(void** ptr, size_t bytes, bool pinned_host, const char* api) {
  if (ptr == nullptr) return fail(cudaErrorInvalidValue, api, "null output pointer");
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!pinned_host && r.device_bytes + bytes > total_memory())
    return fail(cudaErrorMemoryAllocation, api, "out of emulated device memory (GROVE_CUDA_EMU_MEMORY)");
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, bytes) != 0) return fail(cudaErrorMemoryAllocation, api, "host allocation failed");
  r.allocations[reinterpret_cast<uintptr_t>(p)] = {bytes, pinned_host};
  if (!pinned_host) r.device_bytes += bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t release(void* ptr, bool pinned_host, const char* api) {
  if (ptr == nullptr) return cudaSuccess;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.allocations.find(reinterpret_cast<uintptr_t>(ptr));
  if (it == r.allocations.end() || it->second.pinned_host != pinned_host)
    return fail(cudaErrorInvalidValue, api, "pointer is not the start of a live allocation of this kind");
  if (!pinned_host) r.device_bytes -= it->second.bytes;
  r.allocations.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

bool valid_stream(cudaStream_t s) {
  return s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread || s->magic == kStreamMagic;
}

bool valid_event(cudaEvent_t e) { return e != nullptr && e->magic == kEventMagic; }

}  // namespace

cudaError_t fail(cudaError_t e, const char* api, const char* detail) {
  tls_last_error = e;
  std::fprintf(stderr, "grove cuda emu: %s: %s: %s\n", api, cudaGetErrorName(e), detail);
  return e;
}

bool is_device_range(const void* ptr, size_t bytes) {
  const auto p = reinterpret_cast<uintptr_t>(ptr);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.allocations.upper_bound(p);
  if (it == r.allocations.begin()) return false;
  --it;
  // One past the end is a valid pointer (an empty range at the end of a buffer).
  return p - it->first <= it->second.bytes && bytes <= it->second.bytes - (p - it->first);
}

bool is_valid_stream(cudaStream_t stream) { return valid_stream(stream); }

cudaError_t set_func_attribute(const void* kernel, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize)
    return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute", "attribute not emulated");
  if (value < 0 || static_cast<size_t>(value) > kSmemOptin)
    return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute", "more than 227 KB of dynamic shared memory");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.smem_limits[kernel] = static_cast<size_t>(value);
  return cudaSuccess;
}

size_t max_dynamic_smem(const void* kernel) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.smem_limits.find(kernel);
  return it == r.smem_limits.end() ? kDefaultSmemLimit : it->second;
}

}  // namespace grove::cuda::emu

using grove::cuda::emu::fail;
using grove::cuda::emu::is_device_range;

cudaError_t cudaGetLastError() {
  const cudaError_t e = grove::cuda::emu::tls_last_error;
  grove::cuda::emu::tls_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() { return grove::cuda::emu::tls_last_error; }

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorUnknown: return "unknown error";
  }
  return "unrecognized error code";
}

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInvalidDeviceFunction: return "cudaErrorInvalidDeviceFunction";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "unrecognized error code";
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount", "null pointer");
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice, "cudaSetDevice", "the emulator has device 0 only");
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDevice", "null pointer");
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (prop == nullptr) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties", "null pointer");
  if (device != 0) return fail(cudaErrorInvalidDevice, "cudaGetDeviceProperties", "the emulator has device 0 only");
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "Grove CUDA emulator (CPU)");
  prop->totalGlobalMem = grove::cuda::emu::total_memory();
  prop->sharedMemPerBlock = grove::cuda::emu::kDefaultSmemLimit;
  prop->sharedMemPerBlockOptin = grove::cuda::emu::kSmemOptin;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 132;
  prop->l2CacheSize = 50 * 1024 * 1024;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  if (value == nullptr) return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute", "null pointer");
  if (const cudaError_t e = cudaGetDeviceProperties(&p, device); e != cudaSuccess) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
    default: return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute", "attribute not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (free_bytes == nullptr || total_bytes == nullptr) return fail(cudaErrorInvalidValue, "cudaMemGetInfo", "null");
  auto& r = grove::cuda::emu::registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  *total_bytes = grove::cuda::emu::total_memory();
  *free_bytes = *total_bytes - r.device_bytes;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) { return grove::cuda::emu::allocate(ptr, bytes, false, "cudaMalloc"); }
cudaError_t cudaFree(void* ptr) { return grove::cuda::emu::release(ptr, false, "cudaFree"); }
cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  return grove::cuda::emu::allocate(ptr, bytes, true, "cudaMallocHost");
}
cudaError_t cudaFreeHost(void* ptr) { return grove::cuda::emu::release(ptr, true, "cudaFreeHost"); }

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault)
    return fail(cudaErrorInvalidMemcpyDirection, "cudaMemcpy", "unknown cudaMemcpyKind");
  if (dst == nullptr || src == nullptr) return fail(cudaErrorInvalidValue, "cudaMemcpy", "null pointer");
  if (dst_device && !is_device_range(dst, bytes))
    return fail(cudaErrorInvalidValue, "cudaMemcpy", "the destination range is not inside one device allocation");
  if (src_device && !is_device_range(src, bytes))
    return fail(cudaErrorInvalidValue, "cudaMemcpy", "the source range is not inside one device allocation");
  std::memcpy(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (!grove::cuda::emu::valid_stream(stream))
    return fail(cudaErrorInvalidResourceHandle, "cudaMemcpyAsync", "unknown stream");
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!is_device_range(ptr, bytes))
    return fail(cudaErrorInvalidValue, "cudaMemset", "the range is not inside one device allocation");
  std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  if (!grove::cuda::emu::valid_stream(stream))
    return fail(cudaErrorInvalidResourceHandle, "cudaMemsetAsync", "unknown stream");
  return cudaMemset(ptr, value, bytes);
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  if (stream == nullptr) return fail(cudaErrorInvalidValue, "cudaStreamCreate", "null pointer");
  *stream = new CUstream_st{grove::cuda::emu::kStreamMagic};
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (stream == nullptr || !grove::cuda::emu::valid_stream(stream) || stream == cudaStreamLegacy ||
      stream == cudaStreamPerThread)
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy", "not a created stream");
  stream->magic = 0;
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  return grove::cuda::emu::valid_stream(stream)
             ? cudaSuccess
             : fail(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize", "unknown stream");
}

cudaError_t cudaStreamQuery(cudaStream_t stream) { return cudaStreamSynchronize(stream); }

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  if (!grove::cuda::emu::valid_stream(stream) || !grove::cuda::emu::valid_event(event))
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent", "unknown stream or event");
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (event == nullptr) return fail(cudaErrorInvalidValue, "cudaEventCreate", "null pointer");
  *event = new CUevent_st{grove::cuda::emu::kEventMagic, flags, false, {}};
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!grove::cuda::emu::valid_event(event))
    return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy", "unknown event");
  event->magic = 0;
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!grove::cuda::emu::valid_event(event) || !grove::cuda::emu::valid_stream(stream))
    return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord", "unknown stream or event");
  event->recorded = true;
  event->time = std::chrono::steady_clock::now();  // the stream's earlier work has finished: it ran synchronously
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return grove::cuda::emu::valid_event(event)
             ? cudaSuccess
             : fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize", "unknown event");
}

cudaError_t cudaEventQuery(cudaEvent_t event) { return cudaEventSynchronize(event); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr) return fail(cudaErrorInvalidValue, "cudaEventElapsedTime", "null pointer");
  if (!grove::cuda::emu::valid_event(start) || !grove::cuda::emu::valid_event(end) ||
      ((start->flags | end->flags) & cudaEventDisableTiming) != 0)
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime", "unknown event, or one without timing");
  if (!start->recorded || !end->recorded)
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime", "an event was never recorded");
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}
