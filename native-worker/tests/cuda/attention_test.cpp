// attention.cu against the CPU op: forward out and lse, backward dq/dk/dv. Cases cover head_dim 16/32/64/128, GQA
// groups 1/2/4, packed sequences of length 0 and 1, lengths that are not multiples of the 32- and 64-row tiles,
// several tiles per sequence, and sliding windows that cut inside a tile and span tiles. fp32 runs the SIMT
// kernels, bf16 the tensor-core (WMMA) ones.
#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/ops/ops.h"
#include "backend/cuda/kernels/kernels.h"
#include "cuda_test_util.h"

namespace grove::cuda::test {
namespace {

struct Case {
  const char* name;
  int head_dim;
  int num_heads;
  int num_kv_heads;
  int sliding_window;
  std::vector<int> lens;
};

// Small enough for the emulator, which runs every CUDA thread of every block on one host thread.
const Case kCases[] = {
    {"d16 mha", 16, 2, 2, 0, {1, 5, 0, 37}},
    {"d16 gqa2 window40", 16, 2, 1, 40, {150, 2}},
    {"d32 gqa2 window5", 32, 2, 1, 5, {66, 1, 12}},
    {"d64 gqa2", 64, 4, 2, 0, {19, 70, 1}},
    {"d64 gqa4 window17", 64, 4, 1, 17, {80, 7}},
    {"d64 gqa4 whole tiles", 64, 8, 2, 0, {128, 64, 65}},
    {"d128 gqa4", 128, 4, 1, 0, {33, 3}},
    {"d128 gqa2 window20", 128, 2, 1, 20, {1, 45}},
    {"d128 mha long", 128, 2, 2, 0, {161}},
};

// Backward chains are longer than forward ones: in bf16, P and dS are also rounded to bf16 before the tensor-core
// products, on top of the rounded inputs and outputs, so 3e-2 (docs/cuda-backend.md). fp32 only reorders sums.
template <typename T>
constexpr double backward_tolerance() {
  return sizeof(T) == sizeof(float) ? 1e-5 : 3e-2;
}

void expect_within(const std::vector<float>& got, const std::vector<float>& want, double tolerance,
                   const std::string& what) {
  const double err = normalised_error(got, want);
  std::printf("  %-44s normalised error %.3g (tolerance %.0e)\n", what.c_str(), err, tolerance);
  EXPECT_TRUE(all_finite(got)) << what << ": non-finite output";
  EXPECT_LE(err, tolerance) << what;
}

// One case's shapes, random inputs rounded to T (what both sides see), and the CPU reference's forward.
template <typename T>
struct Problem {
  explicit Problem(const Case& c, cpu::ThreadPool& pool) {
    starts.push_back(0);
    for (int len : c.lens) starts.push_back(starts.back() + len);
    tokens = starts.back();
    shape = {tokens, c.num_heads, c.num_kv_heads, c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim)),
             c.sliding_window, starts.data(), static_cast<int>(c.lens.size())};
    const size_t nq = static_cast<size_t>(tokens) * c.num_heads * c.head_dim;
    const size_t nkv = static_cast<size_t>(tokens) * c.num_kv_heads * c.head_dim;
    const uint64_t seed = 1000 * c.head_dim + tokens;
    // |q| up to 2 so some rows' softmax is peaked, not near-uniform.
    q = rounded<T>(random_floats(nq, -2, 2, seed));
    k = rounded<T>(random_floats(nkv, -1, 1, seed + 1));
    v = rounded<T>(random_floats(nkv, -1, 1, seed + 2));
    dout = rounded<T>(random_floats(nq, -1, 1, seed + 3));
    out.resize(nq);
    lse.resize(static_cast<size_t>(tokens) * c.num_heads);
    cpu::attention_forward(pool, shape, q.data(), k.data(), v.data(), out.data(), lse.data());
  }

  AttentionArgs args(const int32_t* device_starts) const {
    AttentionArgs a;
    a.tokens = tokens;
    a.num_heads = shape.num_heads;
    a.num_kv_heads = shape.num_kv_heads;
    a.head_dim = shape.head_dim;
    a.scale = shape.scale;
    a.sliding_window = shape.sliding_window;
    a.seq_starts = device_starts;
    a.num_seqs = shape.num_seqs;
    for (int s = 0; s < shape.num_seqs; ++s) a.max_seq_len = std::max(a.max_seq_len, starts[s + 1] - starts[s]);
    return a;
  }

  std::vector<int32_t> starts;
  int tokens = 0;
  AttentionShape shape;
  std::vector<float> q, k, v, dout, out, lse;
};

template <typename T>
class AttentionTest : public KernelTest<T> {};
TYPED_TEST_SUITE(AttentionTest, StorageTypes, StorageTypeNames);

TYPED_TEST(AttentionTest, ForwardMatchesCpu) {
  using T = TypeParam;
  for (const Case& c : kCases) {
    const Problem<T> p(c, this->pool);
    DeviceArray<int32_t> d_starts(p.starts);
    DeviceArray<T> d_q(to_storage<T>(p.q)), d_k(to_storage<T>(p.k)), d_v(to_storage<T>(p.v)), d_out(p.out.size());
    DeviceArray<float> d_lse(p.lse.size());
    const AttentionArgs a = p.args(d_starts.get());
    DeviceArray<char> workspace(attention_forward_workspace_bytes(a));
    d_out.poison();
    d_lse.poison();
    attention_forward<T>(a, d_q.get(), d_k.get(), d_v.get(), d_out.get(), d_lse.get(), workspace.get(),
                         this->stream);
    this->sync();
    expect_close<T>(to_floats(d_out.download()), p.out, std::string("attention out ") + c.name);
    // lse is fp32 arithmetic on the same rounded inputs in both dtypes: only summation order differs.
    expect_close<float>(d_lse.download(), p.lse, std::string("attention lse ") + c.name);
  }
}

TYPED_TEST(AttentionTest, BackwardMatchesCpu) {
  using T = TypeParam;
  for (const Case& c : kCases) {
    const Problem<T> p(c, this->pool);
    // Both sides get the reference's out (as stored in T) and lse, so backward is checked on its own.
    const std::vector<float> out = rounded<T>(p.out);
    std::vector<float> dq(p.q.size()), dk(p.k.size()), dv(p.v.size());
    cpu::attention_backward(this->pool, p.shape, p.dout.data(), p.q.data(), p.k.data(), p.v.data(), out.data(),
                            p.lse.data(), dq.data(), dk.data(), dv.data());

    DeviceArray<int32_t> d_starts(p.starts);
    DeviceArray<T> d_q(to_storage<T>(p.q)), d_k(to_storage<T>(p.k)), d_v(to_storage<T>(p.v));
    DeviceArray<T> d_dout(to_storage<T>(p.dout)), d_out(to_storage<T>(out));
    DeviceArray<float> d_lse(p.lse);
    DeviceArray<T> d_dq(dq.size()), d_dk(dk.size()), d_dv(dv.size());
    const AttentionArgs a = p.args(d_starts.get());
    DeviceArray<char> workspace(attention_backward_workspace_bytes(a));
    d_dq.poison();
    d_dk.poison();
    d_dv.poison();
    workspace.poison();
    attention_backward<T>(a, d_dout.get(), d_q.get(), d_k.get(), d_v.get(), d_out.get(), d_lse.get(), d_dq.get(),
                          d_dk.get(), d_dv.get(), workspace.get(), this->stream);
    this->sync();
    const double tol = backward_tolerance<T>();
    const std::string suffix = std::string(" [") + dtype_name<T>() + "] " + c.name;
    expect_within(to_floats(d_dq.download()), dq, tol, "attention dq" + suffix);
    expect_within(to_floats(d_dk.download()), dk, tol, "attention dk" + suffix);
    expect_within(to_floats(d_dv.download()), dv, tol, "attention dv" + suffix);
  }
}

AttentionArgs valid_args() {
  AttentionArgs a;
  a.tokens = 4;
  a.num_heads = 4;
  a.num_kv_heads = 2;
  a.head_dim = 64;
  a.num_seqs = 1;
  a.max_seq_len = 4;
  static const int32_t kStarts[] = {0, 4};  // only compared with null here, never read
  a.seq_starts = kStarts;
  return a;
}

TEST(AttentionSupported, AcceptsTheKernelsShapes) {
  for (int d : {16, 32, 64, 128}) {
    AttentionArgs a = valid_args();
    a.head_dim = d;
    EXPECT_STREQ(attention_supported(a), "") << "head_dim " << d;
  }
}

TEST(AttentionSupported, RejectsHeadDim80NamingIt) {
  AttentionArgs a = valid_args();
  a.head_dim = 80;
  EXPECT_NE(std::string(attention_supported(a)).find("head_dim 80"), std::string::npos) << attention_supported(a);
  EXPECT_THROW(attention_forward<float>(a, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr),
               CudaError);
}

TEST(AttentionSupported, RejectsHeadsNotAMultipleOfKvHeads) {
  AttentionArgs a = valid_args();
  a.num_heads = 6;
  a.num_kv_heads = 4;
  EXPECT_NE(std::string(attention_supported(a)).find("num_kv_heads 4"), std::string::npos) << attention_supported(a);
}

}  // namespace
}  // namespace grove::cuda::test
