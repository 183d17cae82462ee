// rope.cu against the CPU op: forward rotation and the inverse (the CPU's rope_backward), with positions up to
// 16k (large angles exercise sinf/cosf's range reduction), LLaMA-2 and LLaMA-3 frequency bases, head_dim from 2 to
// 128 and several heads per token.
#include <cmath>

#include "backend/cpu/ops/ops.h"
#include "backend/cuda/kernels/grid_limits.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

struct Shape {
  int tokens, heads, head_dim;
  float base;
};
// The last: more (token, pair) items than one pass of the largest grid.
const Shape kShapes[] = {{1, 1, 2, 10000.0f},
                         {5, 3, 64, 10000.0f},
                         {17, 2, 128, 500000.0f},
                         {3, 4, 6, 10000.0f},
                         {static_cast<int>(kernel_util::kMaxBlocks * kernel_util::kBlock + 3), 2, 2, 10000.0f}};

std::vector<float> inv_freq(int head_dim, float base) {
  std::vector<float> f(head_dim / 2);
  for (int i = 0; i < head_dim / 2; ++i) f[i] = 1.0f / std::pow(base, 2.0f * i / head_dim);
  return f;
}

template <typename T>
class RopeTest : public KernelTest<T> {};
TYPED_TEST_SUITE(RopeTest, StorageTypes, StorageTypeNames);

TYPED_TEST(RopeTest, ForwardAndInverseMatchTheCpuOp) {
  using T = TypeParam;
  for (const Shape& s : kShapes) {
    const size_t n = static_cast<size_t>(s.tokens) * s.heads * s.head_dim;
    const std::vector<float> x = rounded<T>(random_floats(n, -2, 2, n)), freq = inv_freq(s.head_dim, s.base);
    const std::vector<int32_t> positions = random_ints(s.tokens, 0, 16000, s.tokens);
    DeviceArray<int32_t> d_positions(positions);
    DeviceArray<float> d_freq(freq);
    const std::string name =
        std::to_string(s.tokens) + "x" + std::to_string(s.heads) + "x" + std::to_string(s.head_dim);
    for (bool inverse : {false, true}) {
      DeviceArray<T> d_x(to_storage<T>(x));
      rope<T>(d_x.get(), d_positions.get(), s.tokens, s.heads, s.head_dim, d_freq.get(), inverse, this->stream);
      this->sync();
      std::vector<float> want = x;
      if (inverse)
        cpu::rope_backward(this->pool, want.data(), positions.data(), s.tokens, s.heads, s.head_dim, freq.data());
      else
        cpu::rope_forward(this->pool, want.data(), positions.data(), s.tokens, s.heads, s.head_dim, freq.data());
      expect_close<T>(to_floats(d_x.download()), want, (inverse ? "rope inverse " : "rope forward ") + name);
    }
  }
}

}  // namespace
}  // namespace grove::cuda::test
