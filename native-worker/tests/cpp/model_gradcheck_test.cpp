// Finite-difference check of the whole LoRA gradient through a tiny model (every layer, all seven projections,
// two jobs fused in one batch, GQA, a bias-carrying Qwen2 variant): the gradient ModelStep::backward leaves in
// each adapter must match central differences of that job's step loss.
//
// Numeric gradient: Richardson-extrapolated central differences (h = 1e-2 and 5e-3), so truncation is O(h^4);
// weights are drawn with std 0.3 so the LoRA path matters and the loss is strongly curved.
// Tolerance: kTol = 5e-3 normalised error. Why: the loss is an fp32 forward through the whole model; its rounding
// noise (~1e-6 on a loss of ~3) becomes ~1.5e-6 / h = 1.5e-4 absolute after extrapolation, hence the absolute
// term kAbs = 2e-4 (it matters only for the smallest gradients, ~1e-2). A wrong term in a backward is off by O(1).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/model_step.h"
#include "grove/adapter.h"
#include "grove/rng.h"
#include "test_util.h"

namespace grove {
namespace {

constexpr float kH = 1e-2f;
constexpr double kTol = 5e-3;
constexpr double kAbs = 2e-4;

void run_gradcheck(nlohmann::json config) {
  auto backend = make_cpu_backend(2);
  test::TempDir dir;
  test::write_model(config, dir / "model", 3, 0.3f);
  auto model = load_model(dir / "model", *backend);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const Model& m = model.value();
  LoraConfig all;
  all.r = 2;
  all.alpha = 4;
  all.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  LoraConfig some = all;
  some.r = 3;
  some.target_modules = {"k_proj", "down_proj"};
  some.use_rslora = true;
  std::vector<std::unique_ptr<Adapter>> adapters;
  adapters.push_back(std::make_unique<Adapter>(*backend, m, all));
  adapters.push_back(std::make_unique<Adapter>(*backend, m, some));
  for (size_t a = 0; a < adapters.size(); ++a) {
    adapters[a]->init_default(a);
    for (auto& mod : adapters[a]->modules()) {  // non-zero B, as a trained adapter has
      std::vector<float> b(mod.b.numel());
      for (size_t i = 0; i < b.size(); ++i) b[i] = 0.5f * (2.0f * uniform01(hash_combine(a * 1000 + mod.layer * 10 + static_cast<int>(mod.proj), i)) - 1.0f);
      backend->copy_from_host(mod.b.value.data(), b.data(), b.size());
    }
  }
  auto data = test::random_tokens(3, 4, 7, config["vocab_size"].get<int>(), 5);
  FusedBatch batch;
  batch.begin_segment(adapters[0].get(), 1);
  batch.add_example(data.view(), 0);
  batch.add_example(data.view(), 1);
  batch.end_segment();
  batch.begin_segment(adapters[1].get(), 2);
  batch.add_example(data.view(), 2);
  batch.end_segment();
  std::vector<float> row_weight(batch.tokens(), 0.0f);
  for (const auto& seg : batch.segments) {
    const int64_t n = batch.segment_targets(seg);
    ASSERT_GT(n, 0);
    for (int t = seg.row_begin; t < seg.row_end; ++t)
      if (batch.targets[t] >= 0) row_weight[t] = 1.0f / static_cast<float>(n);
  }
  auto loss = [&] {
    ModelStep step(*backend, m, batch);
    step.forward();
    double l = 0.0;
    for (int t = 0; t < batch.tokens(); ++t) l += static_cast<double>(row_weight[t]) * step.row_loss()[t];
    return l;
  };
  {
    ModelStep step(*backend, m, batch);
    step.forward();
    step.backward(row_weight);
  }
  for (auto& adapter : adapters) {
    for (auto& mod : adapter->modules()) {
      for (LoraParam* p : {&mod.a, &mod.b}) {
        auto analytic = test::read_f32(*backend, p->grad);
        double max_diff = 0.0, max_grad = 1e-12;
        // Every third element keeps the test fast; the sampled set covers rows and columns of each matrix.
        for (size_t i = 0; i < p->numel(); i += 3) {
          float* x = p->value.data() + i;
          const float saved = *x;
          auto central = [&](float h) {
            *x = saved + h;
            const double up = loss();
            *x = saved - h;
            const double down = loss();
            *x = saved;
            return (up - down) / (2.0 * h);
          };
          // Richardson extrapolation cancels the h^2 truncation term of the central difference.
          const double numeric = (4.0 * central(kH / 2) - central(kH)) / 3.0;
          max_diff = std::max(max_diff, std::fabs(numeric - analytic[i]));
          max_grad = std::max(max_grad, std::fabs(static_cast<double>(analytic[i])));
        }
        EXPECT_LT(max_diff, kTol * max_grad + kAbs) << "layer " << mod.layer << " " << proj_name(mod.proj)
                                             << (p == &mod.a ? " A" : " B") << " max diff " << max_diff
                                             << " max grad " << max_grad;
        EXPECT_GT(max_grad, 1e-5) << "zero gradient proves nothing";
      }
    }
  }
}

TEST(ModelGradcheck, LlamaGqaTwoJobs) { run_gradcheck(test::tiny_llama_config()); }

TEST(ModelGradcheck, Qwen2BiasesTiedLlama3Rope) {
  auto c = test::tiny_llama_config();
  c["architectures"] = {"Qwen2ForCausalLM"};
  c["model_type"] = "qwen2";
  c["tie_word_embeddings"] = true;
  c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
  run_gradcheck(c);
}

}  // namespace
}  // namespace grove
