// cross_entropy.cu against the CPU op: forward loss and lse over vocabularies smaller than a warp, of 256, and of
// about 32000 (not a multiple of the block), with ignored rows (target < 0: loss 0, lse 0); backward as fp32 (also
// in place over the logits) and bf16, with row weights including 0 and without row weights (nullptr = 1); and
// more rows than one pass of each grid.
#include "backend/cpu/ops/ops.h"
#include "backend/cuda/kernels/grid_limits.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

struct Case {
  int rows, vocab;
};
const Case kCases[] = {{1, 7}, {4, 256}, {3, 32003}};
// More rows than the forward grid has blocks, and than gridDim.y allows in the backward grid: the row loops.
const Case kManyRowsForward{kernel_util::kMaxBlocks + 3, 8};
const Case kManyRowsBackward{kernel_util::kMaxGridY + 2, 5};

// Targets in [0, vocab) with row 1 (when there is one) ignored.
std::vector<int32_t> targets_for(const Case& c) {
  std::vector<int32_t> t = random_ints(c.rows, 0, c.vocab - 1, c.vocab);
  if (c.rows > 1) t[1] = -100;
  return t;
}

// Logits spread over [-12, 12] with the target's logit raised, as in a model that is learning.
std::vector<float> logits_for(const Case& c, const std::vector<int32_t>& targets) {
  std::vector<float> l = random_floats(static_cast<size_t>(c.rows) * c.vocab, -12, 12, c.rows + c.vocab);
  for (int r = 0; r < c.rows; ++r)
    if (targets[r] >= 0) l[static_cast<size_t>(r) * c.vocab + targets[r]] += 8.0f;
  return l;
}

std::string case_name(const Case& c) { return std::to_string(c.rows) + "x" + std::to_string(c.vocab); }

class CrossEntropyForwardTest : public KernelTest<float> {
 protected:
  void check(const Case& c) {
    const std::vector<int32_t> targets = targets_for(c);
    const std::vector<float> logits = logits_for(c, targets);
    DeviceArray<float> d_logits(logits), d_loss(c.rows), d_lse(c.rows);
    DeviceArray<int32_t> d_targets(targets);
    d_loss.poison();
    d_lse.poison();
    cross_entropy_forward(d_logits.get(), d_targets.get(), c.rows, c.vocab, d_loss.get(), d_lse.get(), stream);
    sync();
    std::vector<float> loss(c.rows), lse(c.rows);
    cpu::cross_entropy_forward(pool, logits.data(), targets.data(), c.rows, c.vocab, loss.data(), lse.data());
    for (int r = 0; r < c.rows; ++r)
      if (targets[r] < 0) lse[r] = 0.0f;  // the kernel's contract; the CPU op keeps the row's lse
    expect_close<float>(d_loss.download(), loss, "cross_entropy loss " + case_name(c));
    expect_close<float>(d_lse.download(), lse, "cross_entropy lse " + case_name(c));
  }
};

TEST_F(CrossEntropyForwardTest, LossAndLse) {
  for (const Case& c : kCases) check(c);
  check(kManyRowsForward);
}

template <typename TG>
class CrossEntropyBackwardTest : public KernelTest<TG> {
 protected:
  // Compares dlogits with the CPU op's, with random row weights (one of them 0) or without (nullptr); in_place
  // writes over the logits (TG = float only).
  void check(const Case& c, bool with_weights, bool in_place) {
    const std::vector<int32_t> targets = targets_for(c);
    const std::vector<float> logits = logits_for(c, targets);
    std::vector<float> loss(c.rows), lse(c.rows);
    cpu::cross_entropy_forward(this->pool, logits.data(), targets.data(), c.rows, c.vocab, loss.data(), lse.data());
    std::vector<float> weights = random_floats(c.rows, 0.5f, 2.0f, c.rows);
    if (c.rows > 2) weights[2] = 0.0f;
    if (!with_weights) weights.assign(c.rows, 1.0f);
    std::vector<float> want = logits;
    cpu::cross_entropy_backward(this->pool, want.data(), targets.data(), weights.data(), lse.data(), c.rows,
                                c.vocab);

    DeviceArray<float> d_logits(logits), d_lse(lse), d_weights(weights);
    DeviceArray<int32_t> d_targets(targets);
    DeviceArray<TG> d_grad(logits.size());
    d_grad.poison();
    TG* out = d_grad.get();
    if constexpr (std::is_same_v<TG, float>)
      if (in_place) out = d_logits.get();
    cross_entropy_backward<TG>(d_logits.get(), d_targets.get(), with_weights ? d_weights.get() : nullptr,
                               d_lse.get(), c.rows, c.vocab, out, this->stream);
    this->sync();
    std::vector<float> got = to_floats(d_grad.download());
    if constexpr (std::is_same_v<TG, float>)
      if (in_place) got = d_logits.download();

    expect_close<TG>(got, want, "cross_entropy dlogits " + case_name(c) + (with_weights ? " weighted" : "") +
                                    (in_place ? " in place" : ""));
    // Ignored and zero-weight rows are exactly 0.
    for (int r = 0; r < c.rows; ++r) {
      if (targets[r] >= 0 && weights[r] != 0.0f) continue;
      const auto row = got.begin() + static_cast<size_t>(r) * c.vocab;
      EXPECT_TRUE(std::all_of(row, row + c.vocab, [](float g) { return g == 0.0f; })) << "row " << r;
    }
  }
};
TYPED_TEST_SUITE(CrossEntropyBackwardTest, StorageTypes, StorageTypeNames);

TYPED_TEST(CrossEntropyBackwardTest, MatchesTheCpuOp) {
  for (const Case& c : kCases) {
    for (bool with_weights : {true, false}) {
      this->check(c, with_weights, false);
      if (std::is_same_v<TypeParam, float>) this->check(c, with_weights, true);
    }
  }
  this->check(kManyRowsBackward, true, false);
}

}  // namespace
}  // namespace grove::cuda::test
