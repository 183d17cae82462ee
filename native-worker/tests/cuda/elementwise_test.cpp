// elementwise.cu against host computation: casts and fills exactly, BLAS-1 and row ops by normalised error, the
// reductions including NaN/Inf inputs. Sizes include 1, odd counts and counts past one block; bf16 runs also start
// one element into the buffer, so the unpaired (misaligned) path runs too.
#include <cmath>
#include <limits>
#include <memory>

#include "backend/cuda/kernels/grid_limits.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

using kernel_util::kBlock;
using kernel_util::kMaxBlocks;
using kernel_util::kMaxGridY;

const size_t kSizes[] = {1, 2, 7, 1000, 4097};
// More elements than one pass of the largest grid (two per thread), so every thread goes round its grid-stride
// loop more than once.
const size_t kPastOneGridPass = 2 * size_t{kMaxBlocks} * kBlock + 5;
// Element offsets into the buffer: 1 makes bf16 pointers 2 bytes off 4-byte alignment.
const size_t kOffsets[] = {0, 1};

template <typename T>
class ElementwiseTest : public KernelTest<T> {};
TYPED_TEST_SUITE(ElementwiseTest, StorageTypes, StorageTypeNames);

template <typename TD, typename TS>
void check_cast(cudaStream_t stream) {
  for (size_t n : kSizes) {
    for (size_t off : kOffsets) {
      const std::vector<float> src = rounded<TS>(random_floats(n + off, -3.0f, 3.0f, n));
      DeviceArray<TS> d_src(to_storage<TS>(src));
      DeviceArray<TD> d_dst(n + off);
      d_dst.poison();
      cast<TD, TS>(d_src.get() + off, d_dst.get() + off, n, stream);
      check_cuda(cudaStreamSynchronize(stream), "sync");
      const std::vector<float> got = to_floats(d_dst.download());
      // Both sides round to nearest even, so the cast is exact.
      EXPECT_EQ(std::vector<float>(got.begin() + off, got.end()),
                rounded<TD>(std::vector<float>(src.begin() + off, src.end())))
          << dtype_name<TS>() << " -> " << dtype_name<TD>() << " n=" << n << " offset=" << off;
    }
  }
}

TEST(CastTest, AllFourCombinationsAreExact) {
  cudaStream_t stream = nullptr;
  check_cuda(cudaStreamCreate(&stream), "cudaStreamCreate");
  check_cast<float, float>(stream);
  check_cast<float, bf16>(stream);
  check_cast<bf16, float>(stream);
  check_cast<bf16, bf16>(stream);
  cudaStreamDestroy(stream);
}

template <typename TY, typename TX>
void check_axpy(cudaStream_t stream) {
  const float alpha = -0.75f;
  for (size_t n : kSizes) {
    for (size_t off : kOffsets) {
      const std::vector<float> y = rounded<TY>(random_floats(n + off, -2.0f, 2.0f, 10 + n));
      const std::vector<float> x = rounded<TX>(random_floats(n + off, -2.0f, 2.0f, 20 + n));
      DeviceArray<TY> d_y(to_storage<TY>(y));
      DeviceArray<TX> d_x(to_storage<TX>(x));
      axpy<TY, TX>(d_y.get() + off, d_x.get() + off, alpha, n, stream);
      check_cuda(cudaStreamSynchronize(stream), "sync");
      std::vector<float> want = y;
      for (size_t i = off; i < n + off; ++i) want[i] = y[i] + alpha * x[i];
      expect_close<TY>(to_floats(d_y.download()), want,
                       std::string("axpy y ") + dtype_name<TY>() + " x " + dtype_name<TX>() + " n=" +
                           std::to_string(n) + " off=" + std::to_string(off));
    }
  }
}

TEST(AxpyTest, AllFourCombinations) {
  cudaStream_t stream = nullptr;
  check_cuda(cudaStreamCreate(&stream), "cudaStreamCreate");
  check_axpy<float, float>(stream);
  check_axpy<float, bf16>(stream);
  check_axpy<bf16, float>(stream);
  check_axpy<bf16, bf16>(stream);
  cudaStreamDestroy(stream);
}

TYPED_TEST(ElementwiseTest, FillWritesEveryElement) {
  using T = TypeParam;
  for (size_t n : kSizes) {
    for (size_t off : kOffsets) {
      DeviceArray<T> d(n + off);
      d.poison();
      fill<T>(d.get() + off, 0.3f, n, this->stream);
      this->sync();
      const std::vector<float> got = to_floats(d.download());
      EXPECT_EQ(std::vector<float>(got.begin() + off, got.end()), rounded<T>(std::vector<float>(n, 0.3f)))
          << "n=" << n << " offset=" << off;
    }
  }
}

TYPED_TEST(ElementwiseTest, Scale) {
  using T = TypeParam;
  for (size_t n : kSizes) {
    for (size_t off : kOffsets) {
      const std::vector<float> x = rounded<T>(random_floats(n + off, -2.0f, 2.0f, n));
      DeviceArray<T> d(to_storage<T>(x));
      scale<T>(d.get() + off, 1.7f, n, this->stream);
      this->sync();
      std::vector<float> want = x;
      for (size_t i = off; i < n + off; ++i) want[i] = 1.7f * x[i];
      expect_close<T>(to_floats(d.download()), want, "scale n=" + std::to_string(n) + " off=" + std::to_string(off));
    }
  }
}

TYPED_TEST(ElementwiseTest, ScaleRowsAndAddBias) {
  using T = TypeParam;
  // The last two: more rows than gridDim.y allows, and a full grid of rows with more columns than one block.
  const int shapes[][2] = {{1, 1}, {3, 37}, {5, 300}, {2, 1000}, {kMaxGridY + 2, 3}, {kMaxBlocks, 300}};
  for (const auto& shape : shapes) {
    const int rows = shape[0], cols = shape[1];
    const size_t n = static_cast<size_t>(rows) * cols;
    const std::vector<float> x = rounded<T>(random_floats(n, -2.0f, 2.0f, n));
    const std::vector<float> w = random_floats(rows, -1.5f, 1.5f, rows);
    const std::vector<float> bias = rounded<T>(random_floats(cols, -1.0f, 1.0f, cols));
    DeviceArray<T> d_x(to_storage<T>(x)), d_bias(to_storage<T>(bias));
    DeviceArray<float> d_w(w);
    const std::string shape_name = std::to_string(rows) + "x" + std::to_string(cols);

    scale_rows<T>(d_x.get(), d_w.get(), rows, cols, this->stream);
    this->sync();
    std::vector<float> want(n);
    for (size_t i = 0; i < n; ++i) want[i] = x[i] * w[i / cols];
    const std::vector<float> scaled = to_floats(d_x.download());
    expect_close<T>(scaled, want, "scale_rows " + shape_name);

    add_bias<T>(d_x.get(), d_bias.get(), rows, cols, this->stream);
    this->sync();
    for (size_t i = 0; i < n; ++i) want[i] = scaled[i] + bias[i % cols];
    expect_close<T>(to_floats(d_x.download()), want, "add_bias " + shape_name);
  }
}

// Host sum of squares in fp64, like the kernel.
double host_sum_squares(const std::vector<float>& x, size_t begin) {
  double s = 0.0;
  for (size_t i = begin; i < x.size(); ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

TYPED_TEST(ElementwiseTest, SumSquaresAccumulatesIntoOut) {
  using T = TypeParam;
  for (size_t n : kSizes) {
    for (size_t off : kOffsets) {
      const std::vector<float> x = rounded<T>(random_floats(n + off, -3.0f, 3.0f, n));
      DeviceArray<T> d_x(to_storage<T>(x));
      DeviceArray<double> d_out(std::vector<double>{1.5});
      sum_squares<T>(d_x.get() + off, n, d_out.get(), this->stream);
      this->sync();
      const double want = 1.5 + host_sum_squares(x, off);
      // fp64 accumulation of exactly representable squares: only the summation order differs.
      EXPECT_NEAR(d_out.download()[0], want, 1e-12 * want) << "n=" << n << " offset=" << off;
    }
  }
}

TEST(SumSquaresManyTest, AddsEveryElementOfEveryTensorOnce) {
  // Empty tensors first, between and last; one tensor longer than a pass of the largest grid; odd sizes.
  const std::vector<size_t> sizes = {0, 3, 1000, 0, size_t{kMaxBlocks} * kBlock + 5, 1, 0};
  std::vector<std::unique_ptr<DeviceArray<float>>> tensors;
  std::vector<const float*> pointers;
  std::vector<size_t> starts = {0};
  double want = 1.5;
  for (size_t t = 0; t < sizes.size(); ++t) {
    const std::vector<float> x = random_floats(sizes[t], -3.0f, 3.0f, 70 + t);
    want += host_sum_squares(x, 0);
    tensors.push_back(std::make_unique<DeviceArray<float>>(x));
    pointers.push_back(tensors.back()->get());
    starts.push_back(starts.back() + sizes[t]);
  }
  DeviceArray<const float*> d_pointers(pointers);
  DeviceArray<size_t> d_starts(starts);
  DeviceArray<double> d_out(std::vector<double>{1.5});
  cudaStream_t stream = nullptr;
  sum_squares_many(d_pointers.get(), d_starts.get(), static_cast<int>(sizes.size()), starts.back(), d_out.get(), stream);
  check_cuda(cudaStreamSynchronize(stream), "sync");
  EXPECT_NEAR(d_out.download()[0], want, 1e-12 * want);
}

TYPED_TEST(ElementwiseTest, SumSquaresPropagatesNanAndInf) {
  using T = TypeParam;
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = random_floats(1001, -1.0f, 1.0f, 3);
  x[500] = -inf;
  DeviceArray<double> d_out(1);
  {
    DeviceArray<T> d_x(to_storage<T>(x));
    d_out.upload({0.0});
    sum_squares<T>(d_x.get(), x.size(), d_out.get(), this->stream);
    this->sync();
    EXPECT_EQ(d_out.download()[0], std::numeric_limits<double>::infinity());
  }
  x[1000] = nan;
  {
    DeviceArray<T> d_x(to_storage<T>(x));
    d_out.upload({0.0});
    sum_squares<T>(d_x.get(), x.size(), d_out.get(), this->stream);
    this->sync();
    EXPECT_TRUE(std::isnan(d_out.download()[0]));
  }
  // The largest finite fp32 squared overflows fp32 but not the fp64 accumulator.
  if constexpr (std::is_same_v<T, float>) {
    const float big = std::numeric_limits<float>::max();
    DeviceArray<T> d_x(std::vector<float>{big, big, 1.0f});
    d_out.upload({0.0});
    sum_squares<T>(d_x.get(), 3, d_out.get(), this->stream);
    this->sync();
    const double want = 2.0 * big * static_cast<double>(big) + 1.0;
    EXPECT_NEAR(d_out.download()[0], want, 1e-12 * want);
  }
}

TYPED_TEST(ElementwiseTest, CountNonfiniteCountsNanAndBothInfinities) {
  using T = TypeParam;
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()};
  for (size_t n : kSizes) {
    for (size_t off : kOffsets) {
      std::vector<float> x = random_floats(n + off, -1e4f, 1e4f, n);
      const std::vector<int32_t> where = random_ints(n / 3 + 1, 0, static_cast<int32_t>(n + off - 1), n + 7);
      for (size_t k = 0; k < where.size(); ++k) x[where[k]] = specials[k % 3];
      unsigned want = 7;  // what *out held before: the kernel adds to it
      for (size_t i = off; i < x.size(); ++i) want += std::isfinite(x[i]) ? 0 : 1;
      DeviceArray<T> d_x(to_storage<T>(x));
      DeviceArray<unsigned> d_out(std::vector<unsigned>{7});
      count_nonfinite<T>(d_x.get() + off, n, d_out.get(), this->stream);
      this->sync();
      EXPECT_EQ(d_out.download()[0], want) << "n=" << n << " offset=" << off;
    }
  }
}

TYPED_TEST(ElementwiseTest, GridStrideLoopsCoverLargeArrays) {
  using T = TypeParam;
  const size_t n = kPastOneGridPass;
  std::vector<float> x = rounded<T>(random_floats(n, -2.0f, 2.0f, 11));
  DeviceArray<T> d_x(to_storage<T>(x));
  scale<T>(d_x.get(), -0.5f, n, this->stream);
  this->sync();
  std::vector<float> want(n);
  for (size_t i = 0; i < n; ++i) want[i] = -0.5f * x[i];
  expect_close<T>(to_floats(d_x.download()), want, "scale n=" + std::to_string(n));

  DeviceArray<double> d_sum(std::vector<double>{0.0});
  sum_squares<T>(d_x.get(), n, d_sum.get(), this->stream);
  this->sync();
  const double want_sum = host_sum_squares(to_floats(d_x.download()), 0);
  EXPECT_NEAR(d_sum.download()[0], want_sum, 1e-12 * want_sum);

  x[0] = x[n / 2] = x[n - 1] = std::numeric_limits<float>::infinity();
  d_x.upload(to_storage<T>(x));
  DeviceArray<unsigned> d_count(std::vector<unsigned>{0});
  count_nonfinite<T>(d_x.get(), n, d_count.get(), this->stream);
  this->sync();
  EXPECT_EQ(d_count.download()[0], 3u);
}

}  // namespace
}  // namespace grove::cuda::test
