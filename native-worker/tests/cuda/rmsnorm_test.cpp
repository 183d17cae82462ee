// rmsnorm.cu against the CPU op: forward y and rstd, backward dx accumulated onto a non-zero dx. Shapes cover one
// row, odd dims (the unpaired path), dims below one warp and LLaMA's 4096.
#include "backend/cpu/ops/ops.h"
#include "backend/cuda/kernels/grid_limits.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

// The last: more rows than the grid has blocks, so blocks loop over rows.
const int kShapes[][2] = {{1, 1}, {1, 37}, {3, 64}, {7, 333}, {4, 4096}, {kernel_util::kMaxBlocks + 3, 8}};
constexpr float kEps = 1e-5f;

template <typename T>
class RmsNormTest : public KernelTest<T> {};
TYPED_TEST_SUITE(RmsNormTest, StorageTypes, StorageTypeNames);

std::string shape_name(int rows, int dim) { return std::to_string(rows) + "x" + std::to_string(dim); }

TYPED_TEST(RmsNormTest, Forward) {
  using T = TypeParam;
  for (const auto& shape : kShapes) {
    const int rows = shape[0], dim = shape[1];
    const size_t n = static_cast<size_t>(rows) * dim;
    const std::vector<float> x = rounded<T>(random_floats(n, -2, 2, n)), w = rounded<T>(random_floats(dim, 0, 2, dim));
    DeviceArray<T> d_x(to_storage<T>(x)), d_w(to_storage<T>(w)), d_y(n);
    DeviceArray<float> d_rstd(rows);
    d_y.poison();
    d_rstd.poison();
    rmsnorm_forward<T>(d_x.get(), d_w.get(), rows, dim, kEps, d_y.get(), d_rstd.get(), this->stream);
    this->sync();
    std::vector<float> y(n), rstd(rows);
    cpu::rmsnorm_forward(this->pool, x.data(), w.data(), rows, dim, kEps, y.data(), rstd.data());
    expect_close<T>(to_floats(d_y.download()), y, "rmsnorm y " + shape_name(rows, dim));
    // rstd is fp32 from the same (rounded) inputs in both dtypes: only summation order differs.
    expect_close<float>(d_rstd.download(), rstd, "rmsnorm rstd " + shape_name(rows, dim));
  }
}

TYPED_TEST(RmsNormTest, BackwardAccumulatesIntoDx) {
  using T = TypeParam;
  for (const auto& shape : kShapes) {
    const int rows = shape[0], dim = shape[1];
    const size_t n = static_cast<size_t>(rows) * dim;
    const std::vector<float> x = rounded<T>(random_floats(n, -2, 2, n)), w = rounded<T>(random_floats(dim, 0, 2, dim));
    const std::vector<float> dy = rounded<T>(random_floats(n, -1, 1, n + 1));
    std::vector<float> dx = rounded<T>(random_floats(n, -1, 1, n + 2));
    std::vector<float> y(n), rstd(rows);
    cpu::rmsnorm_forward(this->pool, x.data(), w.data(), rows, dim, kEps, y.data(), rstd.data());
    // Both sides get the reference's rstd, so backward is checked on its own.
    DeviceArray<T> d_x(to_storage<T>(x)), d_w(to_storage<T>(w)), d_dy(to_storage<T>(dy)), d_dx(to_storage<T>(dx));
    DeviceArray<float> d_rstd(rstd);
    rmsnorm_backward<T>(d_dy.get(), d_x.get(), d_w.get(), d_rstd.get(), rows, dim, d_dx.get(), this->stream);
    this->sync();
    cpu::rmsnorm_backward(this->pool, dy.data(), x.data(), w.data(), rstd.data(), rows, dim, dx.data());
    expect_close<T>(to_floats(d_dx.download()), dx, "rmsnorm dx " + shape_name(rows, dim));
  }
}

}  // namespace
}  // namespace grove::cuda::test
