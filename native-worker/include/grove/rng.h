// Counter-based randomness: every random number is a pure function of a key built from the job seed and
// counters (step, micro-batch, layer, module, element). Nothing is stateful, so fused and single-job runs draw
// the same numbers and a resumed run continues the exact stream with no RNG state to save.
#pragma once

#include <cstdint>

// The hash is also called from CUDA kernels (src/backend/cuda/kernels/dropout.cu) to draw the same dropout mask as
// the CPU backend; the qualifiers are empty in plain C++ builds (including the CUDA emulator's).
#ifdef __CUDACC__
#define GROVE_HOST_DEVICE __host__ __device__
#else
#define GROVE_HOST_DEVICE
#endif

namespace grove {

// splitmix64 finaliser: a bijective 64-bit mix with good avalanche.
GROVE_HOST_DEVICE inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

GROVE_HOST_DEVICE inline uint64_t hash_combine(uint64_t a, uint64_t b) {
  return mix64(a ^ mix64(b + 0x632be59bd9b4e019ULL));
}

// Uniform in [0, 1) from the top 24 bits (exactly representable in fp32).
GROVE_HOST_DEVICE inline float uniform01(uint64_t h) { return static_cast<float>(h >> 40) * (1.0f / 16777216.0f); }

// Stream tags keep the different uses of one seed apart.
enum class RngStream : uint64_t { kLoraInit = 1, kDropout = 2, kShuffle = 3 };

inline uint64_t stream_key(uint64_t seed, RngStream stream) { return hash_combine(mix64(seed), static_cast<uint64_t>(stream)); }

}  // namespace grove
