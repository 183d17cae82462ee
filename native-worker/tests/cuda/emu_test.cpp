// Tests of the CPU emulator of CUDA (src/backend/cuda/emu): the kernels below use each feature of the CUDA subset
// and check the result against plain host code; the launch, runtime and cuBLAS checks must fail the way a GPU does.
// Built against the emulator (emu_test_emu) and, where nvcc is found, as CUDA (emu_test_gpu, label gpu): on a GPU
// the same expectations confirm that the emulator behaves like the hardware. Checks of what would fault a GPU
// (and poison its context) are emulator-only (GROVE_CUDA_EMU).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include "backend/cuda/cuda_api.h"

namespace {

using bf16 = __nv_bfloat16;

// A device buffer of n T, freed at scope exit.
template <typename T>
class Device {
 public:
  explicit Device(size_t n) : n_(n) { EXPECT_EQ(cudaMalloc(&p_, n * sizeof(T)), cudaSuccess); }
  explicit Device(const std::vector<T>& host) : Device(host.size()) { upload(host); }
  ~Device() { cudaFree(p_); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  T* get() const { return p_; }
  void upload(const std::vector<T>& host) {
    ASSERT_EQ(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    EXPECT_EQ(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// ---- kernels ---------------------------------------------------------------------------------------------------

// Sum of each block's 256 elements through a shared-memory tree.
__global__ void block_sum(const float* x, float* out) {
  __shared__ float partial[256];
  const int t = threadIdx.x;
  partial[t] = x[blockIdx.x * blockDim.x + t];
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (t < stride) partial[t] += partial[t + stride];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = partial[0];
}

// Every shuffle kind on T, one row of results per kind, lane order.
template <typename T>
__global__ void shuffles(const T* x, T* out) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const T v = x[threadIdx.x];
  T* row = out + warp * 32 * 6;
  row[0 * 32 + lane] = __shfl_sync(0xffffffffu, v, (lane * 7 + 3) % 32);
  row[1 * 32 + lane] = __shfl_xor_sync(0xffffffffu, v, 5);
  row[2 * 32 + lane] = __shfl_down_sync(0xffffffffu, v, 3);
  row[3 * 32 + lane] = __shfl_sync(0xffffffffu, v, 2, 8);      // within groups of 8
  row[4 * 32 + lane] = __shfl_down_sync(0xffffffffu, v, 3, 8);  // lanes past their group keep their value
  T sum = v;  // butterfly: every lane gets the warp's sum
  for (int m = 16; m > 0; m /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, m);
  row[5 * 32 + lane] = sum;
}

__global__ void atomics(float* f, double* d, int* i, unsigned* u, int* imax) {
  const int g = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(f, 0.5f);
  atomicAdd(d, 0.25);
  atomicAdd(i, 1);
  atomicAdd(u, 2u);
  atomicMax(imax, (g * 7919) % 10007);
}

// Reverses each block's slice of x through dynamic shared memory.
__global__ void reverse_blocks(const float* x, float* y, int n) {
  GROVE_DYNAMIC_SMEM(float, buf);
  const int base = blockIdx.x * n;
  for (int i = threadIdx.x; i < n; i += blockDim.x) buf[i] = x[base + i];
  __syncthreads();
  for (int i = threadIdx.x; i < n; i += blockDim.x) y[base + i] = buf[n - 1 - i];
}

__global__ void smem_address(unsigned long long* out) {
  GROVE_DYNAMIC_SMEM(char, s);
  if (threadIdx.x == 0) *out = reinterpret_cast<uintptr_t>(s);
}

// One warp: D = A * B + C with the given layouts, C loaded and D stored with c_layout.
template <typename LA, typename LB>
__global__ void wmma_tile(const bf16* a, const bf16* b, const float* c, float* d, int lda, int ldb, int ldc,
                          bool c_col_major) {
  using namespace nvcuda;
  wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, LA> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, LB> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
  const auto layout = c_col_major ? wmma::mem_col_major : wmma::mem_row_major;
  wmma::load_matrix_sync(fa, a, lda);
  wmma::load_matrix_sync(fb, b, ldb);
  wmma::load_matrix_sync(fc, c, ldc, layout);
  wmma::mma_sync(fc, fa, fb, fc);
  for (int i = 0; i < fc.num_elements; ++i) fc.x[i] *= 2.0f;
  wmma::store_matrix_sync(d, fc, ldc, layout);
}

// Each warp of the block multiplies its own tiles from shared memory, accumulating two k-steps.
__global__ void wmma_two_steps(const bf16* a, const bf16* b, float* d) {
  using namespace nvcuda;
  __shared__ __align__(32) bf16 sa[2][16 * 32];
  const int warp = threadIdx.x / 32;
  for (int i = threadIdx.x; i < 16 * 32; i += blockDim.x) sa[0][i] = a[i];
  __syncthreads();
  wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::fill_fragment(acc, 0.0f);
  for (int k = 0; k < 2; ++k) {
    wmma::load_matrix_sync(fa, &sa[0][k * 16], 32);
    wmma::load_matrix_sync(fb, b + k * 16 * 16 * 2 + warp * 16, 32);
    wmma::mma_sync(acc, fa, fb, acc);
  }
  wmma::store_matrix_sync(d + warp * 16, acc, 32, wmma::mem_row_major);
}

__global__ void touch(float* x) { x[blockIdx.x * blockDim.x + threadIdx.x] = 1.0f; }

__global__ void empty_kernel(float* x) {}

__global__ void four_barriers(float* x) {
  __shared__ float s[1024];
  s[threadIdx.x] = 1.0f;
  for (int i = 0; i < 4; ++i) __syncthreads();
  if (threadIdx.x == 0) x[blockIdx.x] = s[blockDim.x - 1];
}

__global__ void barrier_after_early_return(const float* x, float* y, int n) {
  __shared__ float s[64];
  if (static_cast<int>(threadIdx.x) >= n) return;
  s[threadIdx.x] = x[threadIdx.x];
  __syncthreads();
  y[threadIdx.x] = s[n - 1 - threadIdx.x];
}

__global__ void indices(unsigned* out) {
  const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  out[block * threads + thread] = block * 100000u + thread;
}

// Kernels that fault: the emulator reports them; on a GPU they would hang or poison the context.
#ifdef GROVE_CUDA_EMU
__global__ void wmma_misaligned(const bf16* a, float* d) {
  using namespace nvcuda;
  wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
  wmma::load_matrix_sync(fa, a + 1, 16);
  d[threadIdx.x] = static_cast<float>(fa.x[0]);
}

// Threads that returned count as arrived at __syncthreads (as on the GPU); here half a warp waits at the block
// barrier while the other half waits at __syncwarp for them: a deadlock.
__global__ void divergent_barrier(float* x) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncwarp();
  }
  x[threadIdx.x] = 1.0f;
}

__global__ void partial_warp_shuffle(float* x) { x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1); }

__global__ void divergent_warp_ops(float* x) {
  if (threadIdx.x % 2 == 0) {
    x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
  } else {
    __syncwarp();
    x[threadIdx.x] = 2.0f;
  }
}

__global__ void early_return_before_shuffle(float* x) {
  if (threadIdx.x == 3) return;
  x[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}

__global__ void read_past_shared(float* x, int i) {
  __shared__ float s[64];
  s[threadIdx.x] = 1.0f;
  __syncthreads();
  x[threadIdx.x] = s[i];
}

__global__ void write_past_global(float* x, int n) { x[n + threadIdx.x] = 1.0f; }
#endif

// ---- tests -----------------------------------------------------------------------------------------------------

TEST(CudaEmu, BlockReductionWithSharedMemoryAndSyncthreads) {
  constexpr int kBlocks = 37, kThreads = 256;
  const std::vector<float> x = random_floats(kBlocks * kThreads, 1);
  Device<float> dx(x), dout(kBlocks);
  GROVE_LAUNCH(kBlocks, kThreads, 0, 0, block_sum)(dx.get(), dout.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<float> out = dout.download();
  for (int b = 0; b < kBlocks; ++b) {
    double want = 0;
    for (int t = 0; t < kThreads; ++t) want += x[b * kThreads + t];
    EXPECT_NEAR(out[b], want, 1e-4) << "block " << b;
  }
}

TEST(CudaEmu, IndicesCoverEveryThreadOf3dGridsAndBlocks) {
  const dim3 grid(3, 2, 2), block(8, 4, 2);
  const int threads = 64, blocks = 12;
  Device<unsigned> d(threads * blocks);
  GROVE_LAUNCH(grid, block, 0, 0, indices)(d.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<unsigned> out = d.download();
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t) EXPECT_EQ(out[b * threads + t], b * 100000u + t);
}

template <typename T>
void check_shuffles() {
  constexpr int kWarps = 2;
  std::vector<T> x(kWarps * 32);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(i * 3 + 1);
  Device<T> dx(x), dout(kWarps * 32 * 6);
  GROVE_LAUNCH(1, kWarps * 32, 0, 0, shuffles<T>)(dx.get(), dout.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<T> out = dout.download();
  for (int w = 0; w < kWarps; ++w) {
    const T* v = x.data() + w * 32;
    const T* row = out.data() + w * 32 * 6;
    T sum = 0;
    for (int l = 0; l < 32; ++l) sum += v[l];
    for (int l = 0; l < 32; ++l) {
      EXPECT_EQ(row[0 * 32 + l], v[(l * 7 + 3) % 32]) << "shfl lane " << l;
      EXPECT_EQ(row[1 * 32 + l], v[l ^ 5]) << "shfl_xor lane " << l;
      EXPECT_EQ(row[2 * 32 + l], v[l + 3 < 32 ? l + 3 : l]) << "shfl_down lane " << l;
      EXPECT_EQ(row[3 * 32 + l], v[(l / 8) * 8 + 2]) << "shfl width 8 lane " << l;
      EXPECT_EQ(row[4 * 32 + l], v[l % 8 + 3 < 8 ? l + 3 : l]) << "shfl_down width 8 lane " << l;
      EXPECT_EQ(row[5 * 32 + l], sum) << "xor butterfly lane " << l;
    }
  }
}

TEST(CudaEmu, ShufflesOnFloat) { check_shuffles<float>(); }
TEST(CudaEmu, ShufflesOnInt) { check_shuffles<int>(); }
TEST(CudaEmu, ShufflesOnUnsigned) { check_shuffles<unsigned>(); }
TEST(CudaEmu, ShufflesOnDouble) { check_shuffles<double>(); }

TEST(CudaEmu, AtomicsFromManyBlocks) {
  constexpr int kBlocks = 50, kThreads = 128;
  Device<float> f(std::vector<float>{0.0f});
  Device<double> d(std::vector<double>{0.0});
  Device<int> i(std::vector<int>{0}), imax(std::vector<int>{-1});
  Device<unsigned> u(std::vector<unsigned>{0});
  GROVE_LAUNCH(kBlocks, kThreads, 0, 0, atomics)(f.get(), d.get(), i.get(), u.get(), imax.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const int n = kBlocks * kThreads;
  int want_max = -1;
  for (int g = 0; g < n; ++g) want_max = std::max(want_max, (g * 7919) % 10007);
  EXPECT_EQ(f.download()[0], 0.5f * n);
  EXPECT_EQ(d.download()[0], 0.25 * n);
  EXPECT_EQ(i.download()[0], n);
  EXPECT_EQ(u.download()[0], 2u * n);
  EXPECT_EQ(imax.download()[0], want_max);
}

TEST(CudaEmu, DynamicSharedMemory) {
  constexpr int kBlocks = 5, kN = 1000;
  const std::vector<float> x = random_floats(kBlocks * kN, 2);
  Device<float> dx(x), dy(kBlocks * kN);
  GROVE_LAUNCH(kBlocks, 128, kN * sizeof(float), 0, reverse_blocks)(dx.get(), dy.get(), kN);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<float> y = dy.download();
  for (int b = 0; b < kBlocks; ++b)
    for (int i = 0; i < kN; ++i) ASSERT_EQ(y[b * kN + i], x[b * kN + kN - 1 - i]) << b << "," << i;
}

TEST(CudaEmu, DynamicSharedMemoryIsAlignedForWmma) {
  Device<unsigned long long> address(1);
  GROVE_LAUNCH(1, 32, 1000, 0, smem_address)(address.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(address.download()[0] % 128, 0u);  // a kernel without static __shared__ arrays
}

TEST(CudaEmu, DynamicSharedMemoryAbove48KbNeedsTheFunctionAttribute) {
  constexpr int kN = 20000;  // 80 KB
  const std::vector<float> x = random_floats(kN, 3);
  Device<float> dx(x), dy(kN);
  GROVE_LAUNCH(1, 256, kN * sizeof(float), 0, reverse_blocks)(dx.get(), dy.get(), kN);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  ASSERT_EQ(cudaFuncSetAttribute(reverse_blocks, cudaFuncAttributeMaxDynamicSharedMemorySize, kN * 4), cudaSuccess);
  GROVE_LAUNCH(1, 256, kN * sizeof(float), 0, reverse_blocks)(dx.get(), dy.get(), kN);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(dy.download()[0], x[kN - 1]);
  EXPECT_EQ(cudaFuncSetAttribute(reverse_blocks, cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024),
            cudaErrorInvalidValue);
  cudaGetLastError();
}

// Column-major or row-major 16x16 tile element (r, c) at ld.
size_t at(bool col_major, int r, int c, int ld) { return col_major ? c * ld + r : r * ld + c; }

template <typename LA, typename LB>
void check_wmma(bool c_col_major) {
  constexpr bool a_col = std::is_same_v<LA, nvcuda::wmma::col_major>;
  constexpr bool b_col = std::is_same_v<LB, nvcuda::wmma::col_major>;
  const int lda = 24, ldb = 32, ldc = 20;  // padded leading dimensions (multiples of 16 bytes)
  std::vector<bf16> a(16 * 32), b(16 * 32);
  std::vector<float> c(16 * 20);
  const std::vector<float> ra = random_floats(a.size(), 4), rb = random_floats(b.size(), 5),
                           rc = random_floats(c.size(), 6);
  for (size_t i = 0; i < a.size(); ++i) a[i] = bf16(ra[i]);
  for (size_t i = 0; i < b.size(); ++i) b[i] = bf16(rb[i]);
  c = rc;
  Device<bf16> da(a), db(b);
  Device<float> dc(c), dd(c.size());
  GROVE_LAUNCH(1, 64, 0, 0, wmma_tile<LA, LB>)(da.get(), db.get(), dc.get(), dd.get(), lda, ldb, ldc, c_col_major);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<float> d = dd.download();
  for (int r = 0; r < 16; ++r) {
    for (int col = 0; col < 16; ++col) {
      double want = c[at(c_col_major, r, col, ldc)];
      for (int k = 0; k < 16; ++k)
        want += double(float(a[at(a_col, r, k, lda)])) * double(float(b[at(b_col, k, col, ldb)]));
      EXPECT_NEAR(d[at(c_col_major, r, col, ldc)], 2.0 * want, 1e-4) << r << "," << col;
    }
  }
}

TEST(CudaEmu, WmmaRowRow) { check_wmma<nvcuda::wmma::row_major, nvcuda::wmma::row_major>(false); }
TEST(CudaEmu, WmmaRowCol) { check_wmma<nvcuda::wmma::row_major, nvcuda::wmma::col_major>(true); }
TEST(CudaEmu, WmmaColRow) { check_wmma<nvcuda::wmma::col_major, nvcuda::wmma::row_major>(false); }
TEST(CudaEmu, WmmaColCol) { check_wmma<nvcuda::wmma::col_major, nvcuda::wmma::col_major>(true); }

TEST(CudaEmu, WmmaAccumulatesAcrossKStepsPerWarp) {
  // A: 16 x 32 row-major; B: 32 x 32 row-major; each of 2 warps computes a 16-column half of D = A * B.
  std::vector<bf16> a(16 * 32), b(32 * 32);
  const std::vector<float> ra = random_floats(a.size(), 7), rb = random_floats(b.size(), 8);
  for (size_t i = 0; i < a.size(); ++i) a[i] = bf16(ra[i]);
  for (size_t i = 0; i < b.size(); ++i) b[i] = bf16(rb[i]);
  Device<bf16> da(a), db(b);
  Device<float> dd(16 * 32);
  GROVE_LAUNCH(1, 64, 0, 0, wmma_two_steps)(da.get(), db.get(), dd.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<float> d = dd.download();
  for (int r = 0; r < 16; ++r) {
    for (int c = 0; c < 32; ++c) {
      double want = 0;
      for (int k = 0; k < 32; ++k) want += double(float(a[r * 32 + k])) * double(float(b[k * 32 + c]));
      EXPECT_NEAR(d[r * 32 + c], want, 1e-4) << r << "," << c;
    }
  }
}

#ifdef GROVE_CUDA_EMU
TEST(CudaEmu, WmmaRejectsMisalignedPointers) {
  Device<bf16> a(16 * 17);
  Device<float> d(32);
  GROVE_LAUNCH(1, 32, 0, 0, wmma_misaligned)(a.get(), d.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorMisalignedAddress);
}
#endif

uint16_t bits(bf16 h) { return __bfloat16_as_ushort(h); }
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(CudaEmu, Bf16RoundsToNearestEvenLikeCuda) {
  // Exactly halfway: 1 + 2^-8 lies between 1 (even mantissa) and 1 + 2^-7 (odd): goes to 1.
  EXPECT_EQ(bits(__float2bfloat16(1.0f + 0x1p-8f)), 0x3f80);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): goes up.
  EXPECT_EQ(bits(__float2bfloat16(1.0f + 3 * 0x1p-8f)), 0x3f82);
  // Just above / below halfway round to the nearer one.
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x3f808001))), 0x3f81);
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x3f807fff))), 0x3f80);
  EXPECT_EQ(bits(__float2bfloat16(-1.0f - 3 * 0x1p-8f)), 0xbf82);
  EXPECT_EQ(bits(__float2bfloat16(0.0f)), 0x0000);
  EXPECT_EQ(bits(__float2bfloat16(-0.0f)), 0x8000);
  // Subnormals round too: the smallest float subnormal goes to 0, a bf16 subnormal stays.
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x00000001))), 0x0000);
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x00010000))), 0x0001);
  EXPECT_EQ(float(__ushort_as_bfloat16(0x3f81)), 1.0f + 0x1p-7f);
}

TEST(CudaEmu, Bf16NanInfAndOverflow) {
  // Every NaN (quiet, signalling, negative, any payload) becomes CUDA's canonical 0x7fff.
  EXPECT_EQ(bits(__float2bfloat16(std::numeric_limits<float>::quiet_NaN())), 0x7fff);
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x7f800001))), 0x7fff);
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0xffc00000))), 0x7fff);
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x7fffffff))), 0x7fff);  // would round into Inf if not special-cased
  EXPECT_TRUE(std::isnan(__bfloat162float(__float2bfloat16(NAN))));
  EXPECT_EQ(bits(__float2bfloat16(INFINITY)), 0x7f80);
  EXPECT_EQ(bits(__float2bfloat16(-INFINITY)), 0xff80);
  // The largest bf16 (0x7f7f) stays; FLT_MAX and anything from its halfway point up round to Inf.
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x7f7f0000))), 0x7f7f);
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x7f7f7fff))), 0x7f7f);
  EXPECT_EQ(bits(__float2bfloat16(from_bits(0x7f7f8000))), 0x7f80);
  EXPECT_EQ(bits(__float2bfloat16(std::numeric_limits<float>::max())), 0x7f80);
  EXPECT_EQ(bits(__float2bfloat16(-std::numeric_limits<float>::max())), 0xff80);
}

TEST(CudaEmu, Bf162Helpers) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(1.5f, -2.25f);
  EXPECT_EQ(__low2float(v), 1.5f);
  EXPECT_EQ(__high2float(v), -2.25f);
  EXPECT_EQ(sizeof(__nv_bfloat162), 4u);
  EXPECT_EQ(float(bf16(3.0f) * bf16(0.5f)), 1.5f);
}

// ---- cuBLAS ----------------------------------------------------------------------------------------------------

// Holds a column-major matrix in fp32 or bf16 on the device.
struct Matrix {
  cudaDataType type;
  std::vector<float> values;  // what the device holds, widened to fp32
  Device<char> device;
  Matrix(cudaDataType t, size_t n, uint32_t seed)
      : type(t), values(random_floats(n, seed)), device(n * (t == CUDA_R_32F ? 4 : 2)) {
    std::vector<char> bytes(n * (t == CUDA_R_32F ? 4 : 2));
    for (size_t i = 0; i < n; ++i) {
      if (t == CUDA_R_32F) {
        std::memcpy(&bytes[i * 4], &values[i], 4);
      } else {
        const bf16 h(values[i]);
        values[i] = float(h);
        std::memcpy(&bytes[i * 2], &h, 2);
      }
    }
    device.upload(bytes);
  }
  std::vector<float> download() const {
    const std::vector<char> bytes = device.download();
    std::vector<float> out(values.size());
    for (size_t i = 0; i < out.size(); ++i) {
      if (type == CUDA_R_32F) {
        std::memcpy(&out[i], &bytes[i * 4], 4);
      } else {
        bf16 h;
        std::memcpy(&h, &bytes[i * 2], 2);
        out[i] = float(h);
      }
    }
    return out;
  }
};

class CublasEmu : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cublasCreate(&handle_), CUBLAS_STATUS_SUCCESS); }
  void TearDown() override { cublasDestroy(handle_); }
  cublasHandle_t handle_ = nullptr;
};

void check_gemm(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb, cudaDataType ab_type,
                cudaDataType c_type, float beta) {
  const int m = 19, n = 23, k = 37;
  const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
  const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
  const int lda = a_rows + 3, ldb = b_rows + 1, ldc = m + 2;
  Matrix A(ab_type, static_cast<size_t>(lda) * a_cols, 10), B(ab_type, static_cast<size_t>(ldb) * b_cols, 11),
      C(c_type, static_cast<size_t>(ldc) * n, 12);
  if (beta == 0.0f) {  // C must not be read: NaN there must not reach the result
    ASSERT_EQ(cudaMemset(C.device.get(), 0xff, C.values.size() * (c_type == CUDA_R_32F ? 4 : 2)), cudaSuccess);
  }
  const float alpha = 0.75f;
  ASSERT_EQ(cublasGemmEx(handle, ta, tb, m, n, k, &alpha, A.device.get(), ab_type, lda, B.device.get(), ab_type, ldb,
                         &beta, C.device.get(), c_type, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  const std::vector<float> got = C.download();
  for (int j = 0; j < n; ++j) {
    for (int i = 0; i < m; ++i) {
      double acc = 0;
      for (int p = 0; p < k; ++p) {
        const float a = A.values[ta == CUBLAS_OP_N ? p * lda + i : i * lda + p];
        const float b = B.values[tb == CUBLAS_OP_N ? j * ldb + p : p * ldb + j];
        acc += double(a) * double(b);
      }
      double want = alpha * acc + (beta != 0.0f ? beta * C.values[j * ldc + i] : 0.0);
      if (c_type == CUDA_R_16BF) want = float(bf16(float(want)));
      const double tol = c_type == CUDA_R_16BF ? std::abs(want) * 0x1p-8 + 1e-6 : 1e-5;
      ASSERT_NEAR(got[j * ldc + i], want, tol) << "i=" << i << " j=" << j;
    }
    for (int i = m; i < ldc; ++i) {  // padding rows untouched
      if (beta != 0.0f) {
        ASSERT_EQ(got[j * ldc + i], C.values[j * ldc + i]);
      }
    }
  }
}

TEST_F(CublasEmu, GemmExMatchesNaiveLoopForAllOpsAndTypes) {
  const cublasOperation_t ops[] = {CUBLAS_OP_N, CUBLAS_OP_T, CUBLAS_OP_C};
  const std::pair<cudaDataType, cudaDataType> types[] = {
      {CUDA_R_32F, CUDA_R_32F}, {CUDA_R_16BF, CUDA_R_16BF}, {CUDA_R_16BF, CUDA_R_32F}};
  for (auto ta : ops) {
    for (auto tb : ops) {
      for (auto [ab, c] : types) {
        for (float beta : {0.0f, 0.5f}) {
          SCOPED_TRACE(::testing::Message() << "ta=" << ta << " tb=" << tb << " ab=" << ab << " c=" << c
                                            << " beta=" << beta);
          check_gemm(handle_, ta, tb, ab, c, beta);
        }
      }
    }
  }
}

TEST_F(CublasEmu, StridedBatchedAndSgemm) {
  const int m = 8, n = 5, k = 6, batch = 3;
  Matrix A(CUDA_R_32F, m * k * batch, 20), B(CUDA_R_32F, k * n * batch, 21), C(CUDA_R_32F, m * n * batch, 22);
  const float alpha = 1.0f, beta = 0.0f;
  ASSERT_EQ(cublasGemmStridedBatchedEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, A.device.get(), CUDA_R_32F,
                                       m, m * k, B.device.get(), CUDA_R_32F, k, k * n, &beta, C.device.get(),
                                       CUDA_R_32F, m, m * n, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  const std::vector<float> got = C.download();
  for (int t = 0; t < batch; ++t)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double want = 0;
        for (int p = 0; p < k; ++p) want += A.values[t * m * k + p * m + i] * B.values[t * k * n + j * k + p];
        ASSERT_NEAR(got[t * m * n + j * m + i], want, 1e-5) << t << "," << i << "," << j;
      }
  // Sgemm: C = A^T * A for the first batch's A viewed as k x m... here m x k, so C2 = A^T A is k x k.
  Device<float> c2(k * k);
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_N, k, k, m, &alpha, reinterpret_cast<float*>(A.device.get()),
                        m, reinterpret_cast<float*>(A.device.get()), m, &beta, c2.get(), k),
            CUBLAS_STATUS_SUCCESS);
  const std::vector<float> g2 = c2.download();
  for (int j = 0; j < k; ++j)
    for (int i = 0; i < k; ++i) {
      double want = 0;
      for (int p = 0; p < m; ++p) want += A.values[i * m + p] * A.values[j * m + p];
      ASSERT_NEAR(g2[j * k + i], want, 1e-5);
    }
}

TEST_F(CublasEmu, GroupedBatchedRunsEveryProblemOfEveryGroup) {
  // Group 0: two 6x5x4 problems, A^T B, beta 0; group 1: one 3x7x2 problem, A B, beta 0.5 (bf16 in, fp32 out).
  const cudaDataType ab = CUDA_R_16BF, c = CUDA_R_32F;
  Matrix a0(ab, 4 * 6, 40), b0(ab, 4 * 5, 41), c0(c, 6 * 5, 42);
  Matrix a1(ab, 4 * 6, 43), b1(ab, 4 * 5, 44), c1(c, 6 * 5, 45);
  Matrix a2(ab, 3 * 2, 46), b2(ab, 2 * 7, 47), c2(c, 3 * 7, 48);
  const cublasOperation_t ta[] = {CUBLAS_OP_T, CUBLAS_OP_N}, tb[] = {CUBLAS_OP_N, CUBLAS_OP_N};
  const int m[] = {6, 3}, n[] = {5, 7}, k[] = {4, 2}, lda[] = {4, 3}, ldb[] = {4, 2}, ldc[] = {6, 3}, size[] = {2, 1};
  const float alpha[] = {0.75f, -1.5f}, beta[] = {0.0f, 0.5f};
  const std::vector<void*> lists = {a0.device.get(), a1.device.get(), a2.device.get(), b0.device.get(),
                                    b1.device.get(), b2.device.get(), c0.device.get(), c1.device.get(),
                                    c2.device.get()};
  Device<void*> d_lists(lists);
  void* const* d = d_lists.get();
  ASSERT_EQ(cublasGemmGroupedBatchedEx(handle_, ta, tb, m, n, k, alpha, d, ab, lda, d + 3, ab, ldb, beta, d + 6, c, ldc,
                                       2, size, CUBLAS_COMPUTE_32F),
            CUBLAS_STATUS_SUCCESS);
  // Each problem against the same GEMM run alone.
  struct One { const Matrix &a, &b, &c; uint32_t c_seed; int g; } ones[] = {
      {a0, b0, c0, 42, 0}, {a1, b1, c1, 45, 0}, {a2, b2, c2, 48, 1}};
  for (const One& o : ones) {
    Matrix alone(c, o.c.values.size(), o.c_seed);  // C as it was before the grouped call
    ASSERT_EQ(cublasGemmEx(handle_, ta[o.g], tb[o.g], m[o.g], n[o.g], k[o.g], &alpha[o.g], o.a.device.get(), ab,
                           lda[o.g], o.b.device.get(), ab, ldb[o.g], &beta[o.g], alone.device.get(), c, ldc[o.g],
                           CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
              CUBLAS_STATUS_SUCCESS);
    const std::vector<float> grouped = o.c.download();
    EXPECT_EQ(grouped, alone.download()) << "group " << o.g;
    EXPECT_NE(grouped, o.c.values);  // it was written
  }
  // The pointer lists live on the device: a host array is what a GPU would fault on.
  EXPECT_EQ(cublasGemmGroupedBatchedEx(handle_, ta, tb, m, n, k, alpha, lists.data(), ab, lda, lists.data() + 3, ab,
                                       ldb, beta, lists.data() + 6, c, ldc, 2, size, CUBLAS_COMPUTE_32F),
            CUBLAS_STATUS_EXECUTION_FAILED);
}

TEST_F(CublasEmu, RejectsWhatCublasRejects) {
  Device<float> a(64), b(64), c(64);
  const float one = 1.0f;
  // fp32 inputs with a bf16 output, and mixed input types, are not cuBLAS combinations.
  EXPECT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, a.get(), CUDA_R_32F, 4, b.get(),
                         CUDA_R_32F, 4, &one, c.get(), CUDA_R_16BF, 4, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, a.get(), CUDA_R_16BF, 4, b.get(),
                         CUDA_R_32F, 4, &one, c.get(), CUDA_R_32F, 4, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, a.get(), CUDA_R_32F, 3, b.get(),
                         CUDA_R_32F, 4, &one, c.get(), CUDA_R_32F, 4, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_INVALID_VALUE);  // lda < m
#ifdef GROVE_CUDA_EMU
  // An operand running past its allocation (8 x 9 needs 72 floats) or in host memory.
  EXPECT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 8, 8, 9, &one, a.get(), CUDA_R_32F, 8, b.get(),
                         CUDA_R_32F, 9, &one, c.get(), CUDA_R_32F, 8, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_EXECUTION_FAILED);
  std::vector<float> host(64);
  EXPECT_EQ(cublasGemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, host.data(), CUDA_R_32F, 4, b.get(),
                         CUDA_R_32F, 4, &one, c.get(), CUDA_R_32F, 4, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_EXECUTION_FAILED);
#endif
}

// ---- launch configuration and kernel faults -------------------------------------------------------------------

TEST(CudaEmu, LaunchConfigErrorsLikeCuda) {
  Device<float> x(2048);
  GROVE_LAUNCH(0, 32, 0, 0, touch)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // reading the error clears it
  GROVE_LAUNCH(1, 1025, 0, 0, touch)(x.get());
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  GROVE_LAUNCH(1, dim3(1, 1, 65), 0, 0, touch)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  GROVE_LAUNCH(dim3(1, 65536), 32, 0, 0, touch)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  GROVE_LAUNCH(1, 32, 227 * 1024 + 1, 0, touch)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
#ifdef GROVE_CUDA_EMU
  std::vector<float> host(64);
  GROVE_LAUNCH(1, 32, 0, 0, touch)(host.data());  // a host pointer would fault on a GPU
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);
#endif
  GROVE_LAUNCH(2, 1024, 0, 0, touch)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(x.download()[2047], 1.0f);
}

TEST(CudaEmu, ReturnedThreadsCountAsArrivedAtSyncthreads) {
  const std::vector<float> in = random_floats(64, 13);
  Device<float> din(in), dout(64);
  GROVE_LAUNCH(1, 64, 0, 0, barrier_after_early_return)(din.get(), dout.get(), 40);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<float> out = dout.download();
  for (int i = 0; i < 40; ++i) EXPECT_EQ(out[i], in[39 - i]);
}

#ifdef GROVE_CUDA_EMU
TEST(CudaEmu, KernelFaultsAreReportedAndTheNextLaunchStillRuns) {
  Device<float> x(64);
  GROVE_LAUNCH(1, 32, 0, 0, divergent_barrier)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  GROVE_LAUNCH(1, 48, 0, 0, partial_warp_shuffle)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  GROVE_LAUNCH(1, 32, 0, 0, divergent_warp_ops)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  GROVE_LAUNCH(1, 32, 0, 0, early_return_before_shuffle)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  // Abandoned fibers restart cleanly.
  constexpr int kBlocks = 3;
  const std::vector<float> v = random_floats(kBlocks * 256, 9);
  Device<float> dv(v), out(kBlocks);
  GROVE_LAUNCH(kBlocks, 256, 0, 0, block_sum)(dv.get(), out.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  double want = 0;
  for (int t = 0; t < 256; ++t) want += v[t];
  EXPECT_NEAR(out.download()[0], want, 1e-4);
}
#endif

#if defined(GROVE_CUDA_EMU) && defined(__SANITIZE_ADDRESS__)
TEST(CudaEmuDeathTest, AddressSanitizerCatchesOutOfBoundsSharedAndGlobalAccesses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Device<float> x(64);
  EXPECT_DEATH(
      {
        GROVE_LAUNCH(1, 64, 0, 0, read_past_shared)(x.get(), 64);
      },
      "AddressSanitizer: global-buffer-overflow");
  EXPECT_DEATH(
      {
        GROVE_LAUNCH(1, 32, 0, 0, write_past_global)(x.get(), 40);
      },
      "AddressSanitizer: heap-buffer-overflow");
}
#endif

// ---- host runtime ----------------------------------------------------------------------------------------------

TEST(CudaEmu, CopiesAndSetsAreCheckedAgainstAllocations) {
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(&d, 16 * sizeof(float)), cudaSuccess);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(d) % 256, 0u);
  std::vector<float> host(32, 1.0f);
  EXPECT_EQ(cudaMemcpy(d, host.data(), 16 * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
#ifdef GROVE_CUDA_EMU  // on a GPU these may pass (allocation granularity) or fault
  EXPECT_EQ(cudaMemcpy(d, host.data(), 17 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(host.data(), d + 8, 9 * sizeof(float), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(host.data(), host.data() + 16, 4, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
#endif
  EXPECT_EQ(cudaMemsetAsync(d, 0, 16 * sizeof(float)), cudaSuccess);
  EXPECT_EQ(cudaMemcpyAsync(host.data(), d, 16 * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(host[3], 0.0f);
  EXPECT_EQ(cudaMemcpy(d + 4, d, 4 * sizeof(float), cudaMemcpyDeviceToDevice), cudaSuccess);
  size_t free_bytes = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_bytes, &total), cudaSuccess);
  EXPECT_GT(free_bytes, 0u);
  EXPECT_LE(free_bytes, total);
  EXPECT_EQ(cudaFree(d), cudaSuccess);
#ifdef GROVE_CUDA_EMU  // the emulator counts bytes exactly; a GPU's free memory moves in pages
  size_t free_after = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_after, &total), cudaSuccess);
  EXPECT_EQ(free_after - free_bytes, 16 * sizeof(float));
  EXPECT_EQ(cudaFree(d), cudaErrorInvalidValue);  // double free
  cudaGetLastError();
#endif
}

TEST(CudaEmu, DevicePropertiesStreamsAndEvents) {
  cudaDeviceProp prop;
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_EQ(prop.major, 9);
  EXPECT_EQ(prop.sharedMemPerBlockOptin, 227u * 1024);
  EXPECT_GT(prop.multiProcessorCount, 0);
  EXPECT_GT(prop.totalGlobalMem, 0u);
  EXPECT_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaSetDevice(0), cudaSuccess);
  cudaGetLastError();
  cudaStream_t s;
  cudaEvent_t start, end;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&end), cudaSuccess);
  Device<float> x(1 << 16);
  EXPECT_EQ(cudaEventRecord(start, s), cudaSuccess);
  GROVE_LAUNCH(64, 1024, 0, s, touch)(x.get());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaEventRecord(end, s), cudaSuccess);
  EXPECT_EQ(cudaEventSynchronize(end), cudaSuccess);
  float ms = -1;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, end), cudaSuccess);
  EXPECT_GT(ms, 0.0f);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(start), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(end), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
  EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument");
  EXPECT_STREQ(cudaGetErrorName(cudaErrorLaunchFailure), "cudaErrorLaunchFailure");
}

// Not a correctness check: prints what one block costs, for docs/cuda-backend.md (the bound only catches a
// pathological regression, e.g. a thread per CUDA thread).
TEST(CudaEmu, PerBlockOverhead) {
  constexpr int kBlocks = 2000;
  Device<float> x(kBlocks);
  const auto time_per_block = [&](auto launch) {
    launch();  // warm: fiber stacks
    const auto t0 = std::chrono::steady_clock::now();
    launch();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / kBlocks;
  };
  const double empty = time_per_block([&] { GROVE_LAUNCH(kBlocks, 256, 0, 0, empty_kernel)(x.get()); });
  const double barriers = time_per_block([&] { GROVE_LAUNCH(kBlocks, 256, 0, 0, four_barriers)(x.get()); });
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  std::printf("per 256-thread block: %.1f us empty, %.1f us with 4 __syncthreads\n", empty, barriers);
  EXPECT_LT(barriers, 5000.0);
}

}  // namespace
