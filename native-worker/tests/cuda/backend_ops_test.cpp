// The CUDA backend's Backend interface (the glue around the kernels: type dispatch, mixed-type GEMMs, row-major
// to cuBLAS mapping, sub-matrix leading dimensions, index uploads, the chunked LM head) against the CPU backend,
// op by op on the same random inputs. The CUDA side keeps activations in bf16 as the engine does, so inputs are
// rounded to bf16 for both backends and the tolerance is bf16's: kTol 2e-2 (normalised error; one or two bf16
// roundings of the output, ≤ 2^-8 relative each, plus fp32 accumulation-order differences).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "cuda_test_util.h"
#include "grove/cuda_backend.h"

namespace grove {
namespace {

using cuda::test::random_floats;
using cuda::test::random_ints;

constexpr double kTol = 2e-2;

std::vector<float> round_bf16(std::vector<float> v) {
  for (float& x : v) x = __bfloat162float(__float2bfloat16(x));
  return v;
}

double norm_err(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num = std::max(num, static_cast<double>(std::fabs(got[i] - want[i])));
    den = std::max(den, static_cast<double>(std::fabs(want[i])));
  }
  return num / std::max(den, 1e-30);
}

// Packed causal attention over the sequences `seq_starts` delimits (scale 1/4).
AttentionShape attention_shape(const std::vector<int32_t>& seq_starts, int heads, int kv_heads, int head_dim) {
  AttentionShape shape;
  shape.tokens = seq_starts.back();
  shape.num_heads = heads;
  shape.num_kv_heads = kv_heads;
  shape.head_dim = head_dim;
  shape.scale = 0.25f;
  shape.seq_starts = seq_starts.data();
  shape.num_seqs = static_cast<int>(seq_starts.size()) - 1;
  return shape;
}

class BackendOps : public ::testing::Test {
 protected:
  void SetUp() override {
    cpu = make_cpu_backend(1);
    auto made = make_cuda_backend(0);
    ASSERT_TRUE(made.ok()) << made.status().to_string();
    gpu = std::move(made).value();
  }
  Buffer put(Backend& b, const std::vector<float>& host, DType dtype) {
    Buffer buf = b.alloc(host.size(), MemoryCategory::kActivations, dtype);
    b.copy_from_host(buf.ptr(), host.data(), host.size());
    return buf;
  }
  std::vector<float> get(Backend& b, const Buffer& buf) {
    std::vector<float> host(buf.numel());
    b.copy_to_host(host.data(), buf.ptr(), host.size());
    return host;
  }
  // The CPU backend keeps everything in fp32; the CUDA one gets `dtype`.
  DType cpu_type(DType) { return DType::kF32; }

  std::unique_ptr<Backend> cpu, gpu;
};

struct GemmCase {
  bool ta, tb;
  DType a, b, c;
  float beta;
};

TEST_F(BackendOps, ReportsDeviceMemoryIncludingTheAllocatorCache) {
  EXPECT_FALSE(cpu->device_used_bytes().has_value());  // no device: the logical figures are all there is
  const size_t before = gpu->device_used_bytes().value();
  const size_t n = size_t{8} << 20;
  {
    Buffer big = gpu->alloc(n, MemoryCategory::kActivations, DType::kF32);
    EXPECT_GE(gpu->device_used_bytes().value(), before + n * 4);
  }
  // Freed to the pool's cache, still held on the device until the cache is released.
  EXPECT_GE(gpu->device_used_bytes().value(), before + n * 4);
  EXPECT_EQ(gpu->memory_stats().current_total, 0u);
  gpu->release_cached_memory();
  EXPECT_LT(gpu->device_used_bytes().value(), before + n * 4);
}

TEST_F(BackendOps, GemmEveryTransposeAndTypeMix) {
  const int m = 37, n = 19, k = 45;
  const GemmCase cases[] = {
      {false, true, DType::kBF16, DType::kBF16, DType::kBF16, 0.0f},  // frozen projection y = x W^T
      {false, false, DType::kBF16, DType::kBF16, DType::kBF16, 1.0f},  // dx (+)= dy W
      {false, true, DType::kBF16, DType::kF32, DType::kF32, 0.0f},    // LoRA shrink u = x A^T
      {false, true, DType::kF32, DType::kF32, DType::kBF16, 1.0f},    // LoRA expand y += u B^T
      {true, false, DType::kBF16, DType::kF32, DType::kF32, 1.0f},    // dB += dy^T u
      {true, false, DType::kF32, DType::kBF16, DType::kF32, 1.0f},    // dA += du^T x
      {false, false, DType::kF32, DType::kF32, DType::kF32, 0.5f},    // fp32 only
      {true, true, DType::kBF16, DType::kBF16, DType::kF32, 0.0f},
  };
  int i = 0;
  for (const GemmCase& g : cases) {
    SCOPED_TRACE(::testing::Message() << "case " << i++);
    const int a_rows = g.ta ? k : m, a_cols = g.ta ? m : k, b_rows = g.tb ? n : k, b_cols = g.tb ? k : n;
    auto a = round_bf16(random_floats(static_cast<size_t>(a_rows) * a_cols, -1, 1, 1 + i));
    auto b = round_bf16(random_floats(static_cast<size_t>(b_rows) * b_cols, -1, 1, 2 + i));
    auto c = round_bf16(random_floats(static_cast<size_t>(m) * n, -1, 1, 3 + i));
    std::vector<float> want, got;
    for (Backend* be : {cpu.get(), gpu.get()}) {
      const bool is_gpu = be == gpu.get();
      Buffer ba = put(*be, a, is_gpu ? g.a : DType::kF32), bb = put(*be, b, is_gpu ? g.b : DType::kF32);
      Buffer bc = put(*be, c, is_gpu ? g.c : DType::kF32);
      be->gemm(g.ta, g.tb, m, n, k, 0.75f, ba.ptr(), a_cols, bb.ptr(), b_cols, g.beta, bc.ptr(), n);
      (is_gpu ? got : want) = get(*be, bc);
    }
    EXPECT_LT(norm_err(got, want), kTol);
  }
}

TEST_F(BackendOps, GemmOnRowRangesWithLeadingDimensions) {
  // A LoRA segment: rows [5, 17) of a [24, 40] activation, against an fp32 [8, 40] A.
  const int rows = 24, in = 40, r = 8, begin = 5, n = 12;
  auto x = round_bf16(random_floats(static_cast<size_t>(rows) * in, -1, 1, 11));
  auto a = random_floats(static_cast<size_t>(r) * in, -1, 1, 12);
  std::vector<float> want, got;
  for (Backend* be : {cpu.get(), gpu.get()}) {
    const bool is_gpu = be == gpu.get();
    Buffer bx = put(*be, x, is_gpu ? DType::kBF16 : DType::kF32), ba = put(*be, a, DType::kF32);
    Buffer u = be->alloc(static_cast<size_t>(n) * r, MemoryCategory::kActivations);
    be->gemm(false, true, n, r, in, 1.0f, bx.ptr().at(static_cast<size_t>(begin) * in), in, ba.ptr(), in, 0.0f,
             u.ptr(), r);
    (is_gpu ? got : want) = get(*be, u);
  }
  EXPECT_LT(norm_err(got, want), kTol);
}

// The LoRA path's grouped GEMMs: one problem per job segment, each on its own row range of shared buffers, with
// its own sizes, scale and leading dimensions. Grouped (one cuBLAS call per group), one by one, and the CPU agree.
TEST_F(BackendOps, GemmGroupedMatchesOneByOneAndTheCpu) {
  const int rows = 30, in = 40, out = 24, r = 8;
  const int begin[] = {0, 7, 19}, count[] = {7, 12, 11};
  const float scale[] = {2.0f, 0.5f, 1.0f};
  auto x = round_bf16(random_floats(static_cast<size_t>(rows) * in, -1, 1, 51));
  auto dy = round_bf16(random_floats(static_cast<size_t>(rows) * r, -1, 1, 52));
  auto y = round_bf16(random_floats(static_cast<size_t>(rows) * out, -1, 1, 53));
  std::vector<std::vector<float>> a(3), b(3), g(3);
  for (int s = 0; s < 3; ++s) {
    a[s] = round_bf16(random_floats(static_cast<size_t>(r) * in, -1, 1, 54 + s));
    b[s] = random_floats(static_cast<size_t>(out) * r, -1, 1, 57 + s);
    g[s] = random_floats(static_cast<size_t>(r) * in, -1, 1, 60 + s);
  }
  // u[seg] = scale x[seg] A^T (bf16, beta 0: u starts as NaN); dA += dy[seg]^T x[seg] (fp32 result); then
  // y[seg] += u[seg] B^T with an fp32 B, which no single cuBLAS call takes (one by one, after the groups before it).
  auto run = [&](Backend& be, bool grouped) {
    be.set_grouped_gemm(grouped);
    const DType act = &be == cpu.get() ? DType::kF32 : DType::kBF16;
    Buffer bx = put(be, x, act), bdy = put(be, dy, act), by = put(be, y, act);
    Buffer u = put(be, std::vector<float>(static_cast<size_t>(rows) * r, NAN), act);
    std::vector<Buffer> ba, bb, bg;
    std::vector<GemmGroup> groups = {{false, true, {}}, {true, false, {}}, {false, true, {}}};
    for (int s = 0; s < 3; ++s) {
      ba.push_back(put(be, a[s], act));
      bb.push_back(put(be, b[s], DType::kF32));
      bg.push_back(put(be, g[s], DType::kF32));
      const size_t off = static_cast<size_t>(begin[s]);
      groups[0].problems.push_back(
          {count[s], r, in, scale[s], bx.ptr().at(off * in), in, ba[s].ptr(), in, 0.0f, u.ptr().at(off * r), r});
      groups[1].problems.push_back(
          {r, in, count[s], 1.0f, bdy.ptr().at(off * r), r, bx.ptr().at(off * in), in, 1.0f, bg[s].ptr(), in});
      groups[2].problems.push_back(
          {count[s], out, r, 1.0f, u.ptr().at(off * r), r, bb[s].ptr(), r, 1.0f, by.ptr().at(off * out), out});
    }
    be.gemm_grouped(groups);
    std::vector<float> result = get(be, u);
    for (const Buffer* buf : {&by, &bg[0], &bg[1], &bg[2]}) {
      const std::vector<float> v = get(be, *buf);
      result.insert(result.end(), v.begin(), v.end());
    }
    return result;
  };
  const std::vector<float> want = run(*cpu, true), grouped = run(*gpu, true);
  EXPECT_EQ(gpu->grouped_gemm_refusals(), 0) << "cuBLAS refused a grouped call (see stderr)";
  const std::vector<float> alone = run(*gpu, false);
  gpu->set_grouped_gemm(true);
  EXPECT_LT(norm_err(grouped, want), kTol);
  EXPECT_LT(norm_err(alone, want), kTol);
  EXPECT_LT(norm_err(grouped, alone), kTol);  // different kernels on a GPU may round a bf16 output differently
#ifdef GROVE_CUDA_EMU
  // A cuBLAS that refuses grouping: each refused kind is counted once and runs one GEMM at a time, same results.
  cuda::emu::set_grouped_gemm_unsupported(true);
  auto fresh = make_cuda_backend(0);
  ASSERT_TRUE(fresh.ok());
  const std::vector<float> refused = run(*fresh.value(), true), again = run(*fresh.value(), true);
  cuda::emu::set_grouped_gemm_unsupported(false);
  EXPECT_EQ(fresh.value()->grouped_gemm_refusals(), 2);  // the two groupable groups (the third mixes types)
  EXPECT_EQ(refused, alone);
  EXPECT_EQ(again, alone);
#endif
}

// Op timing for benchmarks: each op family once per call, an op run through another counted under the outer
// one, nothing while off, nothing at all on the CPU backend.
// alloc zeroes; alloc_for_overwrite does not, and where it can be checked (the CPU backend, the emulated GPU one)
// hands out NaN, so an engine op that reads an element it did not write fails the tests.
TEST_F(BackendOps, OnlyAllocZeroesBuffersForOverwriteArePoisoned) {
  for (Backend* be : {cpu.get(), gpu.get()}) {
    SCOPED_TRACE(be->name());
    for (DType t : {DType::kF32, DType::kBF16}) {
      if (be == cpu.get() && t != DType::kF32) continue;
      const std::vector<float> zeroed = get(*be, be->alloc(37, MemoryCategory::kActivations, t));
      const std::vector<float> fresh = get(*be, be->alloc_for_overwrite(37, MemoryCategory::kActivations, t));
      EXPECT_EQ(zeroed, std::vector<float>(37, 0.0f));
      EXPECT_TRUE(std::all_of(fresh.begin(), fresh.end(), [](float v) { return std::isnan(v); }));
    }
  }
}

TEST_F(BackendOps, TimesOpsByFamilyWhenAsked) {
  const int m = 16, n = 8, k = 32;
  Buffer a = put(*gpu, random_floats(static_cast<size_t>(m) * k, -1, 1, 71), DType::kBF16);
  Buffer b = put(*gpu, random_floats(static_cast<size_t>(n) * k, -1, 1, 72), DType::kBF16);
  Buffer c = gpu->alloc(static_cast<size_t>(m) * n, MemoryCategory::kActivations, DType::kBF16);
  auto gemm = [&] { gpu->gemm(false, true, m, n, k, 1.0f, a.ptr(), k, b.ptr(), k, 0.0f, c.ptr(), n); };
  gemm();  // timing off: not counted
  gpu->set_op_timing(true);
  gemm();
  gemm();
  gpu->set_grouped_gemm(false);  // one by one: its GEMMs are nested in the grouped op and count under it
  const GemmProblem p{m, n, k, 1.0f, a.ptr(), k, b.ptr(), k, 0.0f, c.ptr(), n};
  gpu->gemm_grouped({{false, true, {p, p, p}}});
  gpu->set_grouped_gemm(true);
  std::map<std::string, OpTime> got;
  for (const OpTime& t : gpu->op_times()) got[t.op] = t;
  gpu->set_op_timing(false);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["GEMM (frozen projections)"].calls, 2);
  EXPECT_EQ(got["GEMM (LoRA, grouped)"].calls, 1);
  for (const auto& [op, t] : got) EXPECT_GE(t.seconds, 0.0) << op;
  gpu->set_op_timing(true);  // on again: the totals start over
  EXPECT_TRUE(gpu->op_times().empty());
  gpu->set_op_timing(false);
  cpu->set_op_timing(true);
  EXPECT_TRUE(cpu->op_times().empty());
}

TEST_F(BackendOps, CopiesConvertAndReductionsSeeEveryElement) {
  auto x = random_floats(1001, -2, 2, 21);
  Buffer f = put(*gpu, x, DType::kF32);
  Buffer h = gpu->alloc(x.size(), MemoryCategory::kActivations, DType::kBF16);
  gpu->copy(h.ptr(), f.ptr(), x.size());
  EXPECT_LT(norm_err(get(*gpu, h), x), 4e-3);  // one bf16 rounding
  // Several copies in one call: fp32 -> bf16 ones (one launch) beside a same-type one, an empty one and one
  // starting mid-buffer.
  Buffer h2 = put(*gpu, std::vector<float>(x.size(), NAN), DType::kBF16);
  Buffer tail = put(*gpu, std::vector<float>(7, NAN), DType::kBF16);
  Buffer same = put(*gpu, std::vector<float>(x.size(), NAN), DType::kBF16);
  gpu->copy({{h2.ptr(), f.ptr(), x.size()}, {tail.ptr(), f.ptr().at(990), 7}, {same.ptr(), h.ptr(), x.size()},
             {tail.ptr(), f.ptr(), 0}});
  EXPECT_EQ(get(*gpu, h2), get(*gpu, h));  // the same rounding as the single copy
  EXPECT_EQ(get(*gpu, same), get(*gpu, h));
  const std::vector<float> tail_got = get(*gpu, tail), h_got = get(*gpu, h);
  EXPECT_EQ(tail_got, std::vector<float>(h_got.begin() + 990, h_got.begin() + 997));
  double sq = 0;
  for (float v : round_bf16(x)) sq += static_cast<double>(v) * v;
  EXPECT_NEAR(gpu->sum_squares(h.ptr(), x.size()), sq, 1e-6 * sq);
  // Several tensors, one readback: the bf16 copy, the fp32 original's first 500 elements, and an empty one.
  double sq_f = 0;
  for (size_t i = 0; i < 500; ++i) sq_f += static_cast<double>(x[i]) * x[i];
  EXPECT_NEAR(gpu->sum_squares({{h.ptr(), x.size()}, {f.ptr(), 500}, {f.ptr(), 0}}), sq + sq_f, 1e-6 * (sq + sq_f));
  EXPECT_TRUE(gpu->all_finite(h.ptr(), x.size()));
  x[1000] = NAN;
  Buffer bad = put(*gpu, x, DType::kBF16);
  EXPECT_FALSE(gpu->all_finite(bad.ptr(), x.size()));
  gpu->fill(h.ptr(), 3.0f, x.size());
  EXPECT_EQ(get(*gpu, h), std::vector<float>(x.size(), 3.0f));
  // axpy of an fp32 source into a bf16 destination, and scale_rows.
  auto y = round_bf16(random_floats(64, -1, 1, 22)), z = random_floats(64, -1, 1, 23), w = random_floats(8, 0, 1, 24);
  std::vector<float> want(64);
  for (int i = 0; i < 64; ++i) want[i] = (y[i] + 0.5f * z[i]) * w[i / 8];
  Buffer by = put(*gpu, y, DType::kBF16), bz = put(*gpu, z, DType::kF32), bw = put(*gpu, w, DType::kF32);
  gpu->axpy(by.ptr(), bz.ptr(), 0.5f, 64);
  gpu->scale_rows(by.ptr(), bw.data(), 8, 8);
  EXPECT_LT(norm_err(get(*gpu, by), want), kTol);
}

TEST_F(BackendOps, LmHeadLossMatchesInChunks) {
  const int rows = 9, hidden = 32, vocab = 300;
  auto x = round_bf16(random_floats(static_cast<size_t>(rows) * hidden, -1, 1, 31));
  auto w = round_bf16(random_floats(static_cast<size_t>(vocab) * hidden, -0.2f, 0.2f, 32));
  auto t = random_ints(rows, -1, vocab - 1, 33);
  t[0] = -1;
  std::vector<float> loss_want, loss_got, dx_want, dx_got;
  for (Backend* be : {cpu.get(), gpu.get()}) {
    const bool is_gpu = be == gpu.get();
    be->set_logits_chunk_bytes(4 * static_cast<size_t>(vocab) * 4);  // 4 rows per chunk: 3 chunks, the last short
    const DType act = is_gpu ? DType::kBF16 : DType::kF32;
    Buffer bx = put(*be, x, act), bw = put(*be, w, act);
    Buffer loss = be->alloc(rows, MemoryCategory::kActivations);
    Buffer dx = be->alloc(static_cast<size_t>(rows) * hidden, MemoryCategory::kActivations, act);
    be->lm_head_loss(bx.ptr(), bw.ptr(), t.data(), rows, hidden, vocab, loss.data(), dx.ptr());
    (is_gpu ? loss_got : loss_want) = get(*be, loss);
    (is_gpu ? dx_got : dx_want) = get(*be, dx);
  }
  EXPECT_EQ(loss_got[0], 0.0f);
  EXPECT_LT(norm_err(loss_got, loss_want), kTol);
  EXPECT_LT(norm_err(dx_got, dx_want), kTol);
}

TEST_F(BackendOps, NormRopeAttentionThroughTheInterface) {
  const int T = 21, heads = 4, kv = 2, D = 16, H = heads * D;
  const std::vector<int32_t> seq_starts = {0, 7, 8, 21};
  std::vector<int32_t> positions(T);
  for (int s = 0; s < 3; ++s)
    for (int i = seq_starts[s]; i < seq_starts[s + 1]; ++i) positions[i] = i - seq_starts[s];
  std::vector<float> inv_freq(D / 2);
  for (int i = 0; i < D / 2; ++i) inv_freq[i] = std::pow(10000.0f, -2.0f * i / D);
  auto x = round_bf16(random_floats(static_cast<size_t>(T) * H, -1, 1, 41));
  auto nw = round_bf16(random_floats(H, 0.5f, 1.5f, 42));
  auto kvx = round_bf16(random_floats(static_cast<size_t>(T) * kv * D, -1, 1, 43));
  const AttentionShape shape = attention_shape(seq_starts, heads, kv, D);
  std::vector<float> want, got;
  for (Backend* be : {cpu.get(), gpu.get()}) {
    const DType act = be == gpu.get() ? DType::kBF16 : DType::kF32;
    Buffer bx = put(*be, x, act), bw = put(*be, nw, act), bk = put(*be, kvx, act);
    Buffer q = be->alloc(static_cast<size_t>(T) * H, MemoryCategory::kActivations, act);
    Buffer rstd = be->alloc(T, MemoryCategory::kActivations);
    be->rmsnorm_forward(bx.ptr(), bw.ptr(), T, H, 1e-5f, q.ptr(), rstd.data());
    be->rope_forward(q.ptr(), positions.data(), T, heads, D, inv_freq.data());
    be->rope_forward(bk.ptr(), positions.data(), T, kv, D, inv_freq.data());
    Buffer out = be->alloc(static_cast<size_t>(T) * H, MemoryCategory::kActivations, act);
    Buffer lse = be->alloc(static_cast<size_t>(T) * heads, MemoryCategory::kActivations);
    be->attention_forward(shape, q.ptr(), bk.ptr(), bk.ptr(), out.ptr(), lse.data());
    (be == gpu.get() ? got : want) = get(*be, out);
  }
  EXPECT_LT(norm_err(got, want), kTol);
}

TEST_F(BackendOps, BackwardOpsThroughTheInterface) {
  const int T = 21, heads = 4, kv = 2, D = 16, H = heads * D, I = 48;
  const std::vector<int32_t> seq_starts = {0, 7, 8, 21};
  const AttentionShape shape = attention_shape(seq_starts, heads, kv, D);
  auto q = round_bf16(random_floats(static_cast<size_t>(T) * H, -1, 1, 51));
  auto k = round_bf16(random_floats(static_cast<size_t>(T) * kv * D, -1, 1, 52));
  auto v = round_bf16(random_floats(static_cast<size_t>(T) * kv * D, -1, 1, 53));
  auto dout = round_bf16(random_floats(static_cast<size_t>(T) * H, -1, 1, 54));
  auto nw = round_bf16(random_floats(H, 0.5f, 1.5f, 55));
  auto g = round_bf16(random_floats(static_cast<size_t>(T) * I, -2, 2, 56));
  auto u = round_bf16(random_floats(static_cast<size_t>(T) * I, -2, 2, 57));
  auto du = round_bf16(random_floats(static_cast<size_t>(T) * I, -1, 1, 58));
  auto table = round_bf16(random_floats(static_cast<size_t>(40) * H, -1, 1, 59));
  auto ids = random_ints(T, 0, 39, 60);
  std::map<std::string, std::vector<float>> results[2];
  for (Backend* be : {cpu.get(), gpu.get()}) {
    auto& res = results[be == gpu.get()];
    const DType act = be == gpu.get() ? DType::kBF16 : DType::kF32;
    auto buf = [&](size_t n) { return be->alloc(n, MemoryCategory::kActivations, act); };
    Buffer bq = put(*be, q, act), bk = put(*be, k, act), bv = put(*be, v, act), bdo = put(*be, dout, act);
    Buffer out = buf(q.size()), lse = be->alloc(static_cast<size_t>(T) * heads, MemoryCategory::kActivations);
    be->attention_forward(shape, bq.ptr(), bk.ptr(), bv.ptr(), out.ptr(), lse.data());
    Buffer dq = buf(q.size()), dk = buf(k.size()), dv = buf(v.size());
    be->attention_backward(shape, bdo.ptr(), bq.ptr(), bk.ptr(), bv.ptr(), out.ptr(), lse.data(), dq.ptr(), dk.ptr(),
                           dv.ptr());
    res["dq"] = get(*be, dq);
    res["dk"] = get(*be, dk);
    res["dv"] = get(*be, dv);
    Buffer bw = put(*be, nw, act), y = buf(q.size()), rstd = be->alloc(T, MemoryCategory::kActivations);
    be->rmsnorm_forward(bq.ptr(), bw.ptr(), T, H, 1e-5f, y.ptr(), rstd.data());
    Buffer dx = put(*be, dout, act);  // accumulates onto the residual gradient
    be->rmsnorm_backward(bdo.ptr(), bq.ptr(), bw.ptr(), rstd.data(), T, H, dx.ptr());
    res["rmsnorm dx"] = get(*be, dx);
    Buffer bg = put(*be, g, act), bu = put(*be, u, act), act_out = buf(g.size()), bdu = put(*be, du, act);
    be->swiglu_forward(bg.ptr(), bu.ptr(), act_out.ptr(), g.size());
    res["swiglu"] = get(*be, act_out);
    Buffer dgate = buf(g.size()), dup = buf(g.size());
    be->swiglu_backward(bdu.ptr(), bg.ptr(), bu.ptr(), dgate.ptr(), dup.ptr(), g.size());
    res["swiglu dgate"] = get(*be, dgate);
    res["swiglu dup"] = get(*be, dup);
    Buffer dropped = buf(g.size());
    be->dropout(bg.ptr(), dropped.ptr(), g.size(), 0.25f, 1234);
    res["dropout"] = get(*be, dropped);
    Buffer bt = put(*be, table, act), emb = buf(static_cast<size_t>(T) * H);
    be->embedding_forward(bt.ptr(), ids.data(), T, H, emb.ptr());
    res["embedding"] = get(*be, emb);
  }
  for (const auto& [name, want] : results[0]) {
    EXPECT_LT(norm_err(results[1][name], want), name[0] == 'd' && name[1] != 'r' ? 3e-2 : kTol) << name;
  }
}

}  // namespace
}  // namespace grove
