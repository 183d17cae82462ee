// embedding.cu against the CPU op: the forward lookup is a copy, so exact; the backward scatter-add (fp32 atomics
// in any order) by normalised error, with ids that repeat.
#include "backend/cpu/ops/ops.h"
#include "backend/cuda/kernels/grid_limits.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

struct Shape {
  int vocab, tokens, dim;
};
// The last two: more tokens than gridDim.y allows, and a full grid of tokens with rows wider than one block.
const Shape kShapes[] = {{1, 1, 1},      {50, 33, 37},
                         {16, 100, 256}, {300, 5, 1000},
                         {70, kernel_util::kMaxGridY + 2, 3}, {70, kernel_util::kMaxBlocks, 300}};

template <typename T>
class EmbeddingTest : public KernelTest<T> {};
TYPED_TEST_SUITE(EmbeddingTest, StorageTypes, StorageTypeNames);

TYPED_TEST(EmbeddingTest, ForwardCopiesRows) {
  using T = TypeParam;
  for (const Shape& s : kShapes) {
    const std::vector<float> table = rounded<T>(random_floats(static_cast<size_t>(s.vocab) * s.dim, -1, 1, s.dim));
    const std::vector<int32_t> ids = random_ints(s.tokens, 0, s.vocab - 1, s.tokens);
    DeviceArray<T> d_table(to_storage<T>(table)), d_out(static_cast<size_t>(s.tokens) * s.dim);
    DeviceArray<int32_t> d_ids(ids);
    d_out.poison();
    embedding_forward<T>(d_table.get(), d_ids.get(), s.tokens, s.dim, d_out.get(), this->stream);
    this->sync();
    std::vector<float> want(d_out.size());
    cpu::embedding_forward(this->pool, table.data(), ids.data(), s.tokens, s.dim, want.data());
    EXPECT_EQ(to_floats(d_out.download()), want) << s.tokens << " tokens, dim " << s.dim;
  }
}

TEST(EmbeddingBackwardTest, ScatterAddsRepeatedIds) {
  cudaStream_t stream = nullptr;
  check_cuda(cudaStreamCreate(&stream), "cudaStreamCreate");
  for (const Shape& s : kShapes) {
    const size_t table_size = static_cast<size_t>(s.vocab) * s.dim;
    std::vector<float> dtable = random_floats(table_size, -1, 1, 1);  // backward adds to what is there
    const std::vector<float> dout = random_floats(static_cast<size_t>(s.tokens) * s.dim, -1, 1, 2);
    // Ids from a small range, so most repeat.
    const std::vector<int32_t> ids = random_ints(s.tokens, 0, std::min(s.vocab - 1, 9), 3);
    DeviceArray<float> d_dtable(dtable), d_dout(dout);
    DeviceArray<int32_t> d_ids(ids);
    embedding_backward(d_dout.get(), d_ids.get(), s.tokens, s.dim, d_dtable.get(), stream);
    check_cuda(cudaStreamSynchronize(stream), "sync");
    cpu::embedding_backward(dout.data(), ids.data(), s.tokens, s.dim, dtable.data());
    expect_close<float>(d_dtable.download(), dtable,
                        "embedding dtable " + std::to_string(s.tokens) + "x" + std::to_string(s.dim));
  }
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace grove::cuda::test
