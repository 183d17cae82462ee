// Finite-difference gradient checks of every op's backward against its forward (CPU backend).
// Each case defines a scalar L = sum(W * op(inputs)) with fixed random W, gets dL/dinput from the op's backward,
// and compares it with central differences (L(x+h) - L(x-h)) / 2h on every (or every k-th) input element.
//
// Tolerance: kTol = 2e-3 normalised error (max abs diff / max |analytic grad|). Why: the ops run in fp32, so each
// evaluation of L carries ~1e-7 relative rounding per output; summed over <= ~1000 outputs and divided by
// 2h = 2e-2 that is <= ~1e-4 of a unit-scale gradient, and the O(h^2) truncation term adds ~1e-4 more.
// A wrong backward (missing term, wrong sign or index) shows up as O(1) error, far above 2e-3.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "engine/linear_lora.h"
#include "grove/adapter.h"
#include "grove/backend.h"
#include "grove/rng.h"
#include "test_util.h"

namespace grove {
namespace {

constexpr double kH = 1e-2;
constexpr double kTol = 2e-3;

std::vector<float> random_vec(size_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (2.0f * uniform01(hash_combine(seed, i)) - 1.0f) * scale;
  return v;
}

double weighted_sum(const std::vector<float>& w, const float* out) {
  double s = 0.0;
  for (size_t i = 0; i < w.size(); ++i) s += static_cast<double>(w[i]) * out[i];
  return s;
}

// Compares `analytic` with central differences of `loss` w.r.t. x (x is perturbed in place and restored).
void expect_gradient(const char* what, float* x, size_t n, const std::vector<float>& analytic,
                     const std::function<double()>& loss) {
  ASSERT_EQ(analytic.size(), n) << what;
  const size_t stride = n > 400 ? n / 200 : 1;
  double max_diff = 0.0, max_grad = 1e-12;
  for (size_t i = 0; i < n; i += stride) {
    const float saved = x[i];
    x[i] = saved + static_cast<float>(kH);
    const double up = loss();
    x[i] = saved - static_cast<float>(kH);
    const double down = loss();
    x[i] = saved;
    const double numeric = (up - down) / (2.0 * kH);
    max_diff = std::max(max_diff, std::fabs(numeric - analytic[i]));
    max_grad = std::max(max_grad, std::fabs(static_cast<double>(analytic[i])));
  }
  EXPECT_LT(max_diff / max_grad, kTol) << what << ": max |numeric - analytic| = " << max_diff
                                       << ", max |analytic| = " << max_grad;
  EXPECT_GT(max_grad, 1e-6) << what << ": gradient is all zero, the check would prove nothing";
}

class OpsGradcheck : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> backend = make_cpu_backend(2);
};

TEST_F(OpsGradcheck, RmsNorm) {
  const int rows = 5, dim = 12;
  auto x = random_vec(rows * dim, 1), w = random_vec(dim, 2), W = random_vec(rows * dim, 3);
  std::vector<float> y(rows * dim), rstd(rows), dx(rows * dim, 0.0f);
  auto loss = [&] {
    backend->rmsnorm_forward(x.data(), w.data(), rows, dim, 1e-5f, y.data(), rstd.data());
    return weighted_sum(W, y.data());
  };
  loss();
  backend->rmsnorm_backward(W.data(), x.data(), w.data(), rstd.data(), rows, dim, dx.data());
  expect_gradient("rmsnorm dx", x.data(), x.size(), dx, loss);
}

TEST_F(OpsGradcheck, Rope) {
  const int tokens = 6, heads = 3, hd = 8;
  auto x = random_vec(tokens * heads * hd, 4), W = random_vec(tokens * heads * hd, 5);
  std::vector<int32_t> pos{0, 1, 2, 3, 0, 7};
  std::vector<float> inv_freq{1.0f, 0.3f, 0.05f, 0.01f};
  auto loss = [&] {
    std::vector<float> y = x;
    backend->rope_forward(y.data(), pos.data(), tokens, heads, hd, inv_freq.data());
    return weighted_sum(W, y.data());
  };
  std::vector<float> dx = W;
  backend->rope_backward(dx.data(), pos.data(), tokens, heads, hd, inv_freq.data());
  expect_gradient("rope dx", x.data(), x.size(), dx, loss);
}

void attention_case(Backend& backend, int window) {
  const int H = 4, KV = 2, D = 4;
  std::vector<int32_t> starts{0, 5, 8, 12};
  const int T = starts.back();
  AttentionShape s;
  s.tokens = T;
  s.num_heads = H;
  s.num_kv_heads = KV;
  s.head_dim = D;
  s.scale = 0.5f;
  s.sliding_window = window;
  s.seq_starts = starts.data();
  s.num_seqs = 3;
  auto q = random_vec(T * H * D, 6), k = random_vec(T * KV * D, 7), v = random_vec(T * KV * D, 8);
  auto W = random_vec(T * H * D, 9);
  std::vector<float> out(T * H * D), lse(T * H);
  auto loss = [&] {
    backend.attention_forward(s, q.data(), k.data(), v.data(), out.data(), lse.data());
    return weighted_sum(W, out.data());
  };
  loss();
  std::vector<float> dq(q.size()), dk(k.size()), dv(v.size());
  backend.attention_backward(s, W.data(), q.data(), k.data(), v.data(), out.data(), lse.data(), dq.data(), dk.data(),
                             dv.data());
  expect_gradient("attention dq", q.data(), q.size(), dq, loss);
  expect_gradient("attention dk", k.data(), k.size(), dk, loss);
  expect_gradient("attention dv", v.data(), v.size(), dv, loss);
}

TEST_F(OpsGradcheck, AttentionPackedCausalGqa) { attention_case(*backend, 0); }
TEST_F(OpsGradcheck, AttentionSlidingWindow) { attention_case(*backend, 2); }

TEST_F(OpsGradcheck, AttentionNeverCrossesSequences) {
  // Changing a token of sequence 0 must not change any output of sequence 1.
  const int D = 4;
  std::vector<int32_t> starts{0, 3, 6};
  AttentionShape s;
  s.tokens = 6;
  s.num_heads = s.num_kv_heads = 1;
  s.head_dim = D;
  s.scale = 0.5f;
  s.seq_starts = starts.data();
  s.num_seqs = 2;
  auto q = random_vec(6 * D, 10), k = random_vec(6 * D, 11), v = random_vec(6 * D, 12);
  std::vector<float> out1(6 * D), out2(6 * D), lse(6);
  backend->attention_forward(s, q.data(), k.data(), v.data(), out1.data(), lse.data());
  for (int i = 0; i < 3 * D; ++i) k[i] += 1.0f, v[i] -= 1.0f;
  backend->attention_forward(s, q.data(), k.data(), v.data(), out2.data(), lse.data());
  for (int i = 3 * D; i < 6 * D; ++i) EXPECT_EQ(out1[i], out2[i]);
}

TEST_F(OpsGradcheck, SwiGlu) {
  const size_t n = 40;
  auto g = random_vec(n, 13, 3.0f), u = random_vec(n, 14), W = random_vec(n, 15);
  std::vector<float> out(n), dg(n), du(n);
  auto loss = [&] {
    backend->swiglu_forward(g.data(), u.data(), out.data(), n);
    return weighted_sum(W, out.data());
  };
  backend->swiglu_backward(W.data(), g.data(), u.data(), dg.data(), du.data(), n);
  expect_gradient("swiglu dgate", g.data(), n, dg, loss);
  expect_gradient("swiglu dup", u.data(), n, du, loss);
}

TEST_F(OpsGradcheck, CrossEntropyMasked) {
  const int rows = 6, vocab = 11;
  auto logits = random_vec(rows * vocab, 16, 2.0f);
  std::vector<int32_t> targets{3, -1, 0, 10, -1, 5};
  std::vector<float> weight{0.5f, 0.5f, 0.25f, 0.25f, 1.0f, 0.0f};
  std::vector<float> row_loss(rows), lse(rows);
  auto loss = [&] {
    backend->cross_entropy_forward(logits.data(), targets.data(), rows, vocab, row_loss.data(), lse.data());
    return weighted_sum(weight, row_loss.data());
  };
  loss();
  std::vector<float> grad = logits;
  backend->cross_entropy_backward(grad.data(), targets.data(), weight.data(), lse.data(), rows, vocab);
  expect_gradient("cross-entropy dlogits", logits.data(), logits.size(), grad, loss);
  EXPECT_EQ(row_loss[1], 0.0f) << "a non-target row must have zero loss";
}

TEST_F(OpsGradcheck, Embedding) {
  const int vocab = 7, dim = 5, tokens = 6;
  auto table = random_vec(vocab * dim, 17), W = random_vec(tokens * dim, 18);
  std::vector<int32_t> ids{1, 4, 1, 6, 0, 4};  // repeated ids must accumulate
  std::vector<float> out(tokens * dim), dtable(vocab * dim, 0.0f);
  auto loss = [&] {
    backend->embedding_forward(table.data(), ids.data(), tokens, dim, out.data());
    return weighted_sum(W, out.data());
  };
  backend->embedding_backward(W.data(), ids.data(), tokens, dim, dtable.data());
  expect_gradient("embedding dtable", table.data(), table.size(), dtable, loss);
}

TEST_F(OpsGradcheck, LinearLoraTwoJobsWithDropout) {
  test::TempDir dir;
  auto config = test::tiny_llama_config();
  test::write_model(config, dir / "model");
  auto model = load_model(dir / "model", *backend);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const Model& m = model.value();
  LoraConfig c1;
  c1.r = 3;
  c1.alpha = 6;
  c1.target_modules = {"gate_proj"};
  LoraConfig c2 = c1;
  c2.r = 2;
  c2.dropout = 0.3;  // the dropout mask must be the same in forward and backward
  c2.use_rslora = true;
  Adapter a1(*backend, m, c1), a2(*backend, m, c2);
  a1.init_default(1);
  a2.init_default(2);
  for (Adapter* a : {&a1, &a2}) {  // non-zero B so that A gets a gradient
    LoraModule* mod = a->find(1, Proj::kGate);
    auto b = random_vec(mod->b.numel(), 19, 0.5f);
    backend->copy_from_host(mod->b.value.data(), b.data(), b.size());
  }
  FusedBatch batch;
  auto data = test::random_tokens(3, 3, 4, 40, 20);
  batch.begin_segment(&a1, 111);
  batch.add_example(data.view(), 0);
  batch.end_segment();
  batch.begin_segment(&a2, 222);
  batch.add_example(data.view(), 1);
  batch.add_example(data.view(), 2);
  batch.end_segment();
  const Linear& lin = m.layers[1].proj[static_cast<int>(Proj::kGate)];
  LinearLora op(*backend, lin, Proj::kGate, 1);
  const int T = batch.tokens();
  auto x = random_vec(static_cast<size_t>(T) * lin.in, 21), W = random_vec(static_cast<size_t>(T) * lin.out, 22);
  std::vector<float> y(W.size()), dx(x.size(), 0.0f);
  std::vector<LoraSaved> saved;
  auto loss = [&] {
    std::vector<LoraSaved> s;
    op.forward(batch, x.data(), y.data(), s);
    return weighted_sum(W, y.data());
  };
  op.forward(batch, x.data(), y.data(), saved);
  op.backward(batch, x.data(), W.data(), dx.data(), false, saved);
  expect_gradient("linear+lora dx", x.data(), x.size(), dx, loss);
  for (Adapter* a : {&a1, &a2}) {
    LoraModule* mod = a->find(1, Proj::kGate);
    expect_gradient("lora dA", mod->a.value.data(), mod->a.numel(), test::read_f32(*backend, mod->a.grad), loss);
    expect_gradient("lora dB", mod->b.value.data(), mod->b.numel(), test::read_f32(*backend, mod->b.grad), loss);
  }
}

TEST_F(OpsGradcheck, AdamWMatchesTorchFormula) {
  // Three steps against torch.optim.AdamW's update written out in double.
  AdamWParams p;
  p.lr = 0.01f;
  p.beta1 = 0.8f;
  p.beta2 = 0.99f;
  p.eps = 1e-6f;
  p.weight_decay = 0.1f;
  auto param = random_vec(10, 23);
  std::vector<double> ref(param.begin(), param.end()), rm(10, 0.0), rv(10, 0.0);
  std::vector<float> m(10, 0.0f), v(10, 0.0f);
  for (int step = 1; step <= 3; ++step) {
    auto grad = random_vec(10, 24 + step);
    p.step = step;
    backend->adamw_step(param.data(), grad.data(), m.data(), v.data(), 10, p);
    for (int i = 0; i < 10; ++i) {
      ref[i] *= 1.0 - 0.01 * 0.1;
      rm[i] = 0.8 * rm[i] + 0.2 * grad[i];
      rv[i] = 0.99 * rv[i] + 0.01 * grad[i] * grad[i];
      const double denom = std::sqrt(rv[i]) / std::sqrt(1.0 - std::pow(0.99, step)) + 1e-6;
      ref[i] -= 0.01 / (1.0 - std::pow(0.8, step)) * rm[i] / denom;
    }
  }
  // fp32 state vs a double reference over 3 steps: ~1e-7 relative per op, a few dozen ops.
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(param[i], ref[i], 1e-5 * std::max(1.0, std::fabs(ref[i])));
}

TEST_F(OpsGradcheck, DropoutMaskIsDeterministicAndScaled) {
  std::vector<float> x(10000, 1.0f), a(10000), b(10000);
  backend->dropout(x.data(), a.data(), x.size(), 0.25f, 42);
  backend->dropout(x.data(), b.data(), x.size(), 0.25f, 42);
  EXPECT_EQ(a, b);
  int kept = 0;
  for (float f : a) {
    EXPECT_TRUE(f == 0.0f || std::fabs(f - 1.0f / 0.75f) < 1e-6f);
    kept += f != 0.0f;
  }
  EXPECT_NEAR(kept / 10000.0, 0.75, 0.02);  // binomial sd is 0.0043; 0.02 is > 4 sd
}

}  // namespace
}  // namespace grove
