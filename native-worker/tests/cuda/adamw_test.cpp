// adamw.cu against the CPU op over a few consecutive steps (bias corrections change with the step), with weight
// decay, on sizes that do not fill whole blocks. fp32 only: master weights and optimizer states are fp32.
#include "backend/cpu/ops/ops.h"
#include "backend/cuda/kernels/grid_limits.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

using AdamWTest = KernelTest<float>;

TEST_F(AdamWTest, MatchesTheCpuOpOverSeveralSteps) {
  // The last size is past one pass of the largest grid (one element per thread).
  const size_t past_one_pass = size_t{kernel_util::kMaxBlocks} * kernel_util::kBlock + 3;
  for (size_t n : {size_t{1}, size_t{1000}, size_t{4099}, past_one_pass}) {
    std::vector<float> param = random_floats(n, -1.0f, 1.0f, n), m(n, 0.0f), v(n, 0.0f);
    DeviceArray<float> d_param(param), d_grad(n), d_m(m), d_v(v);
    AdamWParams p;
    p.lr = 1e-3f;
    p.weight_decay = 0.01f;
    for (int64_t step = 1; step <= 3; ++step) {
      p.step = step;
      const std::vector<float> grad = random_floats(n, -0.1f, 0.1f, 100 * step + n);
      d_grad.upload(grad);
      adamw_step(d_param.get(), d_grad.get(), d_m.get(), d_v.get(), n, p, stream);
      cpu::adamw_step(pool, param.data(), grad.data(), m.data(), v.data(), n, p);
    }
    sync();
    const std::string size = " n=" + std::to_string(n);
    expect_close<float>(d_param.download(), param, "adamw param" + size);
    expect_close<float>(d_m.download(), m, "adamw m" + size);
    expect_close<float>(d_v.download(), v, "adamw v" + size);
  }
}

}  // namespace
}  // namespace grove::cuda::test
