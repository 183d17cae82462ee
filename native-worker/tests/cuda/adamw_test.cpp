// adamw.cu against the CPU op over a few consecutive steps (bias corrections change with the step), with weight
// decay, on sizes that do not fill whole blocks. fp32 only: master weights and optimizer states are fp32.
// adamw_step_many (one launch over an adapter's tensors) against the CPU op run tensor by tensor.
#include <memory>

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

TEST_F(AdamWTest, ManyTensorsInOneLaunchMatchTheCpuOpTensorByTensor) {
  // Empty tensors first, between and last; sizes that straddle blocks; more elements than one pass of the grid.
  const std::vector<size_t> sizes = {0, 1, 1000, 0, 4099, size_t{kernel_util::kMaxBlocks} * kernel_util::kBlock + 7, 3, 0};
  const float grad_scale = 0.37f;  // clipping
  std::vector<std::vector<float>> param, m, v;
  std::vector<std::unique_ptr<DeviceArray<float>>> d_param, d_grad, d_m, d_v;
  std::vector<AdamWTensor> tensors;
  std::vector<size_t> starts = {0};
  for (size_t t = 0; t < sizes.size(); ++t) {
    const size_t n = sizes[t];
    param.push_back(random_floats(n, -1.0f, 1.0f, 7 + t));
    m.push_back(std::vector<float>(n, 0.0f));
    v.push_back(std::vector<float>(n, 0.0f));
    d_param.push_back(std::make_unique<DeviceArray<float>>(param.back()));
    d_grad.push_back(std::make_unique<DeviceArray<float>>(n));
    d_m.push_back(std::make_unique<DeviceArray<float>>(m.back()));
    d_v.push_back(std::make_unique<DeviceArray<float>>(v.back()));
    tensors.push_back({d_param[t]->get(), d_grad[t]->get(), d_m[t]->get(), d_v[t]->get(), n});
    starts.push_back(starts.back() + n);
  }
  DeviceArray<AdamWTensor> d_tensors(tensors);
  DeviceArray<size_t> d_starts(starts);
  AdamWParams p;
  p.lr = 1e-3f;
  p.weight_decay = 0.01f;
  for (int64_t step = 1; step <= 3; ++step) {
    p.step = step;
    for (size_t t = 0; t < sizes.size(); ++t) {
      std::vector<float> grad = random_floats(sizes[t], -0.1f, 0.1f, 100 * step + t);
      d_grad[t]->upload(grad);
      for (float& g : grad) g *= grad_scale;
      cpu::adamw_step(pool, param[t].data(), grad.data(), m[t].data(), v[t].data(), sizes[t], p);
    }
    adamw_step_many(d_tensors.get(), d_starts.get(), static_cast<int>(sizes.size()), starts.back(), p, grad_scale,
                    stream);
  }
  sync();
  for (size_t t = 0; t < sizes.size(); ++t) {
    if (sizes[t] == 0) continue;
    const std::string which = " tensor " + std::to_string(t);
    expect_close<float>(d_param[t]->download(), param[t], "adamw param" + which);
    expect_close<float>(d_m[t]->download(), m[t], "adamw m" + which);
    expect_close<float>(d_v[t]->download(), v[t], "adamw v" + which);
    const std::vector<float> grad = d_grad[t]->download();
    EXPECT_TRUE(std::all_of(grad.begin(), grad.end(), [](float g) { return g == 0.0f; })) << "gradient" << which;
  }
}

}  // namespace
}  // namespace grove::cuda::test
