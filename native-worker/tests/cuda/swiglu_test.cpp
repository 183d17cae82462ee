// swiglu.cu against the CPU op, forward and backward, on sizes of 1, odd counts and more than a block, with gate
// values out to |g| = 12 (where exp(-g) is tiny or huge); bf16 also from a misaligned start (the unpaired path).
#include "backend/cpu/ops/ops.h"
#include "backend/cuda/kernels/grid_limits.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

// The last: more pairs than one pass of the largest grid.
const size_t kSizes[] = {1, 2, 7, 1000, 4097, 2 * size_t{kernel_util::kMaxBlocks} * kernel_util::kBlock + 5};

template <typename T>
class SwiGluTest : public KernelTest<T> {};
TYPED_TEST_SUITE(SwiGluTest, StorageTypes, StorageTypeNames);

// The last n elements of a device array of n + off.
template <typename T>
std::vector<float> tail(const DeviceArray<T>& d, size_t off) {
  const std::vector<float> all = to_floats(d.download());
  return std::vector<float>(all.begin() + off, all.end());
}

TYPED_TEST(SwiGluTest, ForwardAndBackward) {
  using T = TypeParam;
  for (size_t n : kSizes) {
    for (size_t off : {0, 1}) {
      const std::vector<float> gate = rounded<T>(random_floats(n + off, -12, 12, n)),
                               up = rounded<T>(random_floats(n + off, -2, 2, n + 1)),
                               dout = rounded<T>(random_floats(n + off, -1, 1, n + 2));
      DeviceArray<T> d_gate(to_storage<T>(gate)), d_up(to_storage<T>(up)), d_dout(to_storage<T>(dout));
      DeviceArray<T> d_out(n + off), d_dgate(n + off), d_dup(n + off);
      d_out.poison();
      d_dgate.poison();
      d_dup.poison();
      swiglu_forward<T>(d_gate.get() + off, d_up.get() + off, d_out.get() + off, n, this->stream);
      swiglu_backward<T>(d_dout.get() + off, d_gate.get() + off, d_up.get() + off, d_dgate.get() + off,
                         d_dup.get() + off, n, this->stream);
      this->sync();
      std::vector<float> out(n), dgate(n), dup(n);
      cpu::swiglu_forward(this->pool, gate.data() + off, up.data() + off, out.data(), n);
      cpu::swiglu_backward(this->pool, dout.data() + off, gate.data() + off, up.data() + off, dgate.data(),
                           dup.data(), n);
      const std::string name = " n=" + std::to_string(n) + " off=" + std::to_string(off);
      expect_close<T>(tail(d_out, off), out, "swiglu out" + name);
      expect_close<T>(tail(d_dgate, off), dgate, "swiglu dgate" + name);
      expect_close<T>(tail(d_dup, off), dup, "swiglu dup" + name);
    }
  }
}

}  // namespace
}  // namespace grove::cuda::test
