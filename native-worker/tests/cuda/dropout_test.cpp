// dropout.cu against the CPU op: the mask must be the CPU's bit for bit, and so must the kept values (one fp32
// multiply by the same 1/(1-p), then the same rounding to bf16), so the comparison is exact equality. Covers p = 0
// and 1, odd sizes, in-place use (out aliasing in) and, for bf16, a misaligned start.
#include "backend/cpu/ops/ops.h"
#include "backend/cuda/kernels/grid_limits.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

template <typename T>
class DropoutTest : public KernelTest<T> {
 protected:
  // Runs the kernel on `x` (already rounded to T) at element offset `off` and returns its output.
  std::vector<float> run(const std::vector<float>& x, size_t off, float p, uint64_t key, bool in_place) {
    const size_t n = x.size();
    DeviceArray<T> d_in(n + off), d_out(n + off);
    d_in.poison();
    check_cuda(cudaMemcpy(d_in.get() + off, to_storage<T>(x).data(), n * sizeof(T), cudaMemcpyHostToDevice), "upload");
    d_out.poison();
    T* out = in_place ? d_in.get() : d_out.get();
    dropout<T>(d_in.get() + off, out + off, n, p, key, this->stream);
    this->sync();
    const std::vector<float> all = to_floats(in_place ? d_in.download() : d_out.download());
    return std::vector<float>(all.begin() + off, all.end());
  }

  std::vector<float> reference(const std::vector<float>& x, float p, uint64_t key) {
    std::vector<float> want(x.size());
    cpu::dropout(this->pool, x.data(), want.data(), x.size(), p, key);
    return rounded<T>(want);
  }
};
TYPED_TEST_SUITE(DropoutTest, StorageTypes, StorageTypeNames);

TYPED_TEST(DropoutTest, MaskAndValuesEqualTheCpuOp) {
  using T = TypeParam;
  const size_t sizes[] = {1, 2, 999, 4096 + 3};
  const float probabilities[] = {0.0f, 0.1f, 0.5f, 0.9f};
  const uint64_t key = 0x9e3779b97f4a7c15ULL;
  for (size_t n : sizes) {
    // Values away from 0, so a dropped element is told from a kept one.
    const std::vector<float> x = rounded<T>(random_floats(n, 0.5f, 2.0f, n));
    for (float p : probabilities) {
      for (size_t off : {0, 1}) {
        const std::vector<float> got = this->run(x, off, p, key + n, false);
        EXPECT_EQ(got, this->reference(x, p, key + n)) << "n=" << n << " p=" << p << " offset=" << off;
      }
    }
  }
}

TYPED_TEST(DropoutTest, InPlace) {
  using T = TypeParam;
  const std::vector<float> x = rounded<T>(random_floats(1001, -2.0f, 2.0f, 5));
  EXPECT_EQ(this->run(x, 0, 0.3f, 42, true), this->reference(x, 0.3f, 42));
  EXPECT_EQ(this->run(x, 1, 0.3f, 42, true), this->reference(x, 0.3f, 42));
}

TYPED_TEST(DropoutTest, DropsAboutAFractionP) {
  const std::vector<float> x(4000, 1.0f);
  const std::vector<float> got = this->run(x, 0, 0.25f, 7, false);
  const size_t dropped = std::count(got.begin(), got.end(), 0.0f);
  EXPECT_NEAR(static_cast<double>(dropped) / x.size(), 0.25, 0.03);  // 3 sigma of a binomial(4000, 0.25) is 0.02
}

TYPED_TEST(DropoutTest, ProbabilityOneDropsEverything) {
  using T = TypeParam;
  const std::vector<float> x = rounded<T>(random_floats(77, -2.0f, 2.0f, 9));
  EXPECT_EQ(this->run(x, 0, 1.0f, 3, false), std::vector<float>(x.size(), 0.0f));
}

TYPED_TEST(DropoutTest, GridStrideLoopCoversLargeArrays) {
  using T = TypeParam;
  // Two elements per thread: more than one pass of the largest grid.
  const size_t n = 2 * size_t{kernel_util::kMaxBlocks} * kernel_util::kBlock + 5;
  const std::vector<float> x = rounded<T>(random_floats(n, 0.5f, 2.0f, 13));
  EXPECT_TRUE(this->run(x, 0, 0.2f, 99, false) == this->reference(x, 0.2f, 99));
}

}  // namespace
}  // namespace grove::cuda::test
