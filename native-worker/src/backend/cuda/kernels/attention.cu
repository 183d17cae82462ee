// Packed variable-length causal attention with grouped-query heads, flash-attention-2 style.
//
// What it computes (the CPU reference is src/backend/cpu/ops/attention.cpp): sequence s owns rows
// [seq_starts[s], seq_starts[s+1]); query row i of head h sees key row j of the same sequence iff j <= i and, when
// sliding_window W > 0, i - j < W; its keys and values are those of kv head h / (H / KV).
//   forward:  s_ij = scale * q_i . k_j,  out_i = sum_j softmax_j(s_ij) v_j,  lse_i = log sum_j exp(s_ij)
//   backward: p_ij = exp(s_ij - lse_i),  D_i = dout_i . out_i,  ds_ij = p_ij (dout_i . v_j - D_i) scale,
//             dq_i = sum_j ds_ij k_j,  dk_j = sum_{h in group, i} ds_ij q_i,  dv_j = sum_{h in group, i} p_ij dout_i
// Layout: q/out/dq [T, H*D] and k/v/dk/dv [T, KV*D] row-major, head h in columns [h*D, (h+1)*D); lse [T, H] fp32.
// Workspace: forward none; backward dq_acc fp32 [T, H*D] (zeroed here), then D fp32 [T, H].
//
// Tiling: the forward grid is (query tile, sequence, head) over max_seq_len, so no host-side metadata is needed;
// blocks past their sequence's end exit at once, and tile indices run backwards so the long causal rows start first.
// A block keeps its query tile and walks the visible key tiles with an online softmax (running max m, sum l, output
// rescaled by exp(m_old - m_new)); no [L, L] matrix exists anywhere. The backward grid is (key tile, sequence, kv
// head): a block keeps dk/dv of its key tile for all query heads of its group, walks the query tiles that see it,
// recomputes p from lse, and adds its dq share into dq_acc with atomics; a last pass converts dq_acc to T.
// Two versions, 4 warps per block, fp32 accumulation everywhere:
//   v1 (SIMT, T = float; the tight reference path): 32x32 tiles converted to fp32 in shared memory, one thread per
//      score, per-thread fp32 output/dk/dv registers. Shared memory at D = 128: 52.5 KiB forward, 73 KiB backward.
//   v2 (WMMA, T = bf16): 16x16x16 bf16 -> fp32 tensor-core tiles for QK^T, PV, and in the backward K Q^T, V dO^T,
//      P^T dO, dS^T Q and dS K; each warp owns 16 rows (queries forward, keys backward); scores and the softmax
//      live as fp32 tiles in shared memory, P / dS are rounded to bf16 to feed the tensor cores, and the output
//      stays in register fragments, staged through shared memory only when a row's max grows (a fragment's
//      element layout is unspecified, so rows cannot be rescaled in registers).
//      Forward 64x64 tiles: 110 KiB at D = 128. Backward 64 keys x 64 queries (32 at D = 128): at most 92.5 KiB
//      (D = 64); dk/dv stay in register fragments for the whole block. Every layout leaves room for two blocks
//      per H200 SM (228 KiB).
#include <cstdint>
#include <string>
#include <type_traits>

#include "backend/cuda/kernels/kernel_util.cuh"
#include "backend/cuda/kernels/kernels.h"

#ifdef __CUDACC__
#define GROVE_UNROLL _Pragma("unroll")
#else
#define GROVE_UNROLL
#endif

namespace grove::cuda {

namespace {

using namespace nvcuda;

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFullMask = 0xffffffffu;

// ---- device helpers -----------------------------------------------------------------------------------------

using kernel_util::from_float;
using kernel_util::to_float;

__host__ __device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }
__host__ __device__ __forceinline__ int imax(int a, int b) { return a > b ? a : b; }

// Key j is visible from query i (both positions within one sequence).
__device__ __forceinline__ bool key_visible(int i, int j, int window) {
  return j <= i && (window <= 0 || i - j < window);
}

// First key visible from any query at or after q0.
__device__ __forceinline__ int first_visible_key(int q0, int window) {
  return window > 0 ? imax(0, q0 - window + 1) : 0;
}

// One past the last query that sees key j_last, clipped to the sequence.
__device__ __forceinline__ int query_end(int j_last, int len, int window) {
  return window > 0 ? imin(len, j_last + window) : len;
}

// Reductions over all 32 lanes (width 32) or over each half-warp (width 16); every lane calls them.
template <int WIDTH>
__device__ __forceinline__ float group_max(float v) {
  for (int o = WIDTH / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
  return v;
}
template <int WIDTH>
__device__ __forceinline__ float group_sum(float v) {
  for (int o = WIDTH / 2; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}

// Rows [0, rows) of a [rows, D] slice of global memory (row stride src_ld) into fp32 shared memory (row stride ld);
// rows >= valid are zero, so padded rows give finite scores that the mask removes.
template <typename T, int D>
__device__ __forceinline__ void load_rows_f32(float* dst, int ld, const T* src, size_t src_ld, int rows, int valid) {
  for (int e = threadIdx.x; e < rows * D; e += kThreads) {
    const int r = e / D, d = e % D;
    dst[r * ld + d] = r < valid ? to_float(src[r * src_ld + d]) : 0.0f;
  }
}

// 16 bytes: eight bf16 copied as one vector load and store.
struct alignas(16) Pack16 {
  unsigned w[4];
};

// The bf16 version of load_rows_f32, 16 bytes at a time (global rows and ld * 2 bytes must be 16-byte aligned).
template <int D>
__device__ __forceinline__ void load_rows_bf16(bf16* dst, int ld, const bf16* src, size_t src_ld, int rows,
                                               int valid) {
  constexpr int kChunks = D / 8;
  for (int e = threadIdx.x; e < rows * kChunks; e += kThreads) {
    const int r = e / kChunks, c = e % kChunks;
    Pack16 x{};
    if (r < valid) x = *reinterpret_cast<const Pack16*>(src + r * src_ld + c * 8);
    *reinterpret_cast<Pack16*>(dst + r * ld + c * 8) = x;
  }
}

constexpr size_t align128(size_t bytes) { return (bytes + 127) / 128 * 128; }
// Shared memory one block may use for two to fit on an SM of compute capability 9.0 (228 KiB, 1 KiB reserved each).
constexpr size_t kSmemForTwoBlocks = 113 * 1024;

// ---- v1: SIMT kernels ---------------------------------------------------------------------------------------

// Shared memory of the v1 forward, in floats. K is padded so a warp reading 32 different key rows hits 32 banks.
template <int D>
struct SimtForwardLayout {
  static constexpr int BQ = 32, BK = 32, LDK = D + 1, LDP = BK + 1;
  static constexpr int Q = 0, K = Q + BQ * D, V = K + BK * LDK, P = V + BK * D, ALPHA = P + BQ * LDP,
                       SUM = ALPHA + BQ, FLOATS = SUM + BQ;
  static constexpr size_t BYTES = FLOATS * sizeof(float);
  static_assert(BYTES <= kSmemForTwoBlocks, "two blocks per SM");
};

// Scores: warp w owns query rows w + 4 * rr and lane c owns key column c of the tile, so each row's softmax is a
// warp reduction held in registers. Output: thread owns column tid % D of rows tid / D + rr * (128 / D).
template <typename T, int D>
__global__ void __launch_bounds__(kThreads)
    attention_forward_simt(const AttentionArgs a, const T* __restrict__ q, const T* __restrict__ k,
                           const T* __restrict__ v, T* __restrict__ out, float* __restrict__ lse) {
  using L = SimtForwardLayout<D>;
  constexpr int BQ = L::BQ, BK = L::BK;
  constexpr int kRowsPerWarp = BQ / kWarps;
  constexpr int kRowStep = kThreads / D;
  constexpr int kOutRows = BQ * D / kThreads;
  static_assert(BK == 32 && kThreads % D == 0, "one lane per key column; whole rows per thread group");

  const int seq = blockIdx.y, h = blockIdx.z;
  const int begin = a.seq_starts[seq], len = a.seq_starts[seq + 1] - begin;
  const int q0 = (gridDim.x - 1 - blockIdx.x) * BQ;
  if (q0 >= len) return;

  GROVE_DYNAMIC_SMEM(float, smem);
  float* Qs = smem + L::Q;
  float* Ks = smem + L::K;
  float* Vs = smem + L::V;
  float* Ps = smem + L::P;
  float* alpha_s = smem + L::ALPHA;
  float* sum_s = smem + L::SUM;

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int kvh = h / (a.num_heads / a.num_kv_heads);
  const size_t q_ld = static_cast<size_t>(a.num_heads) * D, kv_ld = static_cast<size_t>(a.num_kv_heads) * D;
  const T* k_base = k + static_cast<size_t>(begin) * kv_ld + static_cast<size_t>(kvh) * D;
  const T* v_base = v + static_cast<size_t>(begin) * kv_ld + static_cast<size_t>(kvh) * D;

  load_rows_f32<T, D>(Qs, D, q + static_cast<size_t>(begin + q0) * q_ld + static_cast<size_t>(h) * D, q_ld, BQ,
                      len - q0);

  float m_row[kRowsPerWarp], l_row[kRowsPerWarp], o[kOutRows];
  GROVE_UNROLL
  for (int rr = 0; rr < kRowsPerWarp; ++rr) m_row[rr] = -INFINITY, l_row[rr] = 0.0f;
  GROVE_UNROLL
  for (int rr = 0; rr < kOutRows; ++rr) o[rr] = 0.0f;
  const int d_own = tid % D;

  const int k_end = imin(len, q0 + BQ);
  for (int k0 = first_visible_key(q0, a.sliding_window) / BK * BK; k0 < k_end; k0 += BK) {
    __syncthreads();  // the previous tile's P and V are no longer read
    load_rows_f32<T, D>(Ks, L::LDK, k_base + static_cast<size_t>(k0) * kv_ld, kv_ld, BK, len - k0);
    load_rows_f32<T, D>(Vs, D, v_base + static_cast<size_t>(k0) * kv_ld, kv_ld, BK, len - k0);
    __syncthreads();

    GROVE_UNROLL
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
      const int r = warp + kWarps * rr;
      const float* qr = Qs + r * D;
      const float* kc = Ks + lane * L::LDK;
      float s = 0.0f;
      for (int d = 0; d < D; ++d) s += qr[d] * kc[d];
      const bool visible = key_visible(q0 + r, k0 + lane, a.sliding_window);
      s = visible ? s * a.scale : -INFINITY;
      const float m_new = fmaxf(m_row[rr], group_max<32>(s));
      const float m_use = m_new == -INFINITY ? 0.0f : m_new;  // a row with nothing visible yet stays at zero
      const float p = visible ? expf(s - m_use) : 0.0f;
      const float alpha = expf(m_row[rr] - m_use);
      l_row[rr] = l_row[rr] * alpha + group_sum<32>(p);
      m_row[rr] = m_new;
      Ps[r * L::LDP + lane] = p;
      if (lane == 0) alpha_s[r] = alpha;
    }
    __syncthreads();

    GROVE_UNROLL
    for (int rr = 0; rr < kOutRows; ++rr) {
      const int r = tid / D + rr * kRowStep;
      const float* pr = Ps + r * L::LDP;
      float acc = o[rr] * alpha_s[r];
      for (int j = 0; j < BK; ++j) acc += pr[j] * Vs[j * D + d_own];
      o[rr] = acc;
    }
  }

  GROVE_UNROLL
  for (int rr = 0; rr < kRowsPerWarp; ++rr) {
    const int r = warp + kWarps * rr;
    if (lane == 0) {
      sum_s[r] = l_row[rr];
      if (q0 + r < len) lse[static_cast<size_t>(begin + q0 + r) * a.num_heads + h] = m_row[rr] + logf(l_row[rr]);
    }
  }
  __syncthreads();
  GROVE_UNROLL
  for (int rr = 0; rr < kOutRows; ++rr) {
    const int r = tid / D + rr * kRowStep;
    if (q0 + r < len) {
      out[static_cast<size_t>(begin + q0 + r) * q_ld + static_cast<size_t>(h) * D + d_own] =
          from_float<T>(o[rr] / sum_s[r]);
    }
  }
}

// Shared memory of the v1 backward, in floats. K and V are padded: both are read one key row per lane.
template <int D>
struct SimtBackwardLayout {
  static constexpr int BQ = 32, BK = 32, LDK = D + 1, LDP = BK + 1;
  static constexpr int K = 0, V = K + BK * LDK, Q = V + BK * LDK, DO = Q + BQ * D, P = DO + BQ * D,
                       DS = P + BQ * LDP, LSE = DS + BQ * LDP, DVEC = LSE + BQ, FLOATS = DVEC + BQ;
  static constexpr size_t BYTES = FLOATS * sizeof(float);
  static_assert(BYTES <= kSmemForTwoBlocks, "two blocks per SM");
};

// P and dS: warp w owns query rows w + 4 * rr, lane c key c. dk/dv: thread owns column tid % D of key rows
// tid / D + jj * (128 / D); dq: the same mapping over query rows, added into dq_acc.
template <typename T, int D>
__global__ void __launch_bounds__(kThreads)
    attention_backward_simt(const AttentionArgs a, const T* __restrict__ dout, const T* __restrict__ q,
                            const T* __restrict__ k, const T* __restrict__ v, const float* __restrict__ lse,
                            const float* __restrict__ dvec, float* __restrict__ dq_acc, T* __restrict__ dk,
                            T* __restrict__ dv) {
  using L = SimtBackwardLayout<D>;
  constexpr int BQ = L::BQ, BK = L::BK;
  constexpr int kRowsPerWarp = BQ / kWarps;
  constexpr int kRowStep = kThreads / D;
  constexpr int kKeyRows = BK * D / kThreads;
  constexpr int kQueryRows = BQ * D / kThreads;
  static_assert(BK == 32 && kThreads % D == 0, "one lane per key column; whole rows per thread group");

  const int seq = blockIdx.y, kvh = blockIdx.z;
  const int begin = a.seq_starts[seq], len = a.seq_starts[seq + 1] - begin;
  const int k0 = (gridDim.x - 1 - blockIdx.x) * BK;
  if (k0 >= len) return;

  GROVE_DYNAMIC_SMEM(float, smem);
  float* Ks = smem + L::K;
  float* Vs = smem + L::V;
  float* Qs = smem + L::Q;
  float* dOs = smem + L::DO;
  float* Ps = smem + L::P;
  float* dSs = smem + L::DS;
  float* lse_s = smem + L::LSE;
  float* dvec_s = smem + L::DVEC;

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int group = a.num_heads / a.num_kv_heads;
  const size_t q_ld = static_cast<size_t>(a.num_heads) * D, kv_ld = static_cast<size_t>(a.num_kv_heads) * D;
  const size_t kv_off = static_cast<size_t>(begin + k0) * kv_ld + static_cast<size_t>(kvh) * D;
  load_rows_f32<T, D>(Ks, L::LDK, k + kv_off, kv_ld, BK, len - k0);
  load_rows_f32<T, D>(Vs, L::LDK, v + kv_off, kv_ld, BK, len - k0);

  float dk_r[kKeyRows], dv_r[kKeyRows];
  GROVE_UNROLL
  for (int jj = 0; jj < kKeyRows; ++jj) dk_r[jj] = dv_r[jj] = 0.0f;
  const int d_own = tid % D;
  const int q_end = query_end(k0 + BK - 1, len, a.sliding_window);

  for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
    for (int q0 = k0 / BQ * BQ; q0 < q_end; q0 += BQ) {
      __syncthreads();  // the previous tile's Q, dO, P and dS are no longer read
      const size_t q_off = static_cast<size_t>(begin + q0) * q_ld + static_cast<size_t>(h) * D;
      load_rows_f32<T, D>(Qs, D, q + q_off, q_ld, BQ, len - q0);
      load_rows_f32<T, D>(dOs, D, dout + q_off, q_ld, BQ, len - q0);
      for (int r = tid; r < BQ; r += kThreads) {
        const bool in = q0 + r < len;
        const size_t row = static_cast<size_t>(begin + q0 + r) * a.num_heads + h;
        lse_s[r] = in ? lse[row] : 0.0f;
        dvec_s[r] = in ? dvec[row] : 0.0f;
      }
      __syncthreads();

      GROVE_UNROLL
      for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        const int r = warp + kWarps * rr;
        const float* qr = Qs + r * D;
        const float* dor = dOs + r * D;
        const float* kc = Ks + lane * L::LDK;
        const float* vc = Vs + lane * L::LDK;
        float s = 0.0f, dp = 0.0f;
        for (int d = 0; d < D; ++d) s += qr[d] * kc[d], dp += dor[d] * vc[d];
        const bool visible = q0 + r < len && key_visible(q0 + r, k0 + lane, a.sliding_window);
        const float p = visible ? expf(s * a.scale - lse_s[r]) : 0.0f;
        Ps[r * L::LDP + lane] = p;
        dSs[r * L::LDP + lane] = p * (dp - dvec_s[r]) * a.scale;
      }
      __syncthreads();

      GROVE_UNROLL
      for (int jj = 0; jj < kKeyRows; ++jj) {
        const int j = tid / D + jj * kRowStep;
        float acc_v = 0.0f, acc_k = 0.0f;
        for (int r = 0; r < BQ; ++r) {
          acc_v += Ps[r * L::LDP + j] * dOs[r * D + d_own];
          acc_k += dSs[r * L::LDP + j] * Qs[r * D + d_own];
        }
        dv_r[jj] += acc_v;
        dk_r[jj] += acc_k;
      }
      GROVE_UNROLL
      for (int rr = 0; rr < kQueryRows; ++rr) {
        const int r = tid / D + rr * kRowStep;
        if (q0 + r >= len) continue;
        float acc = 0.0f;
        for (int j = 0; j < BK; ++j) acc += dSs[r * L::LDP + j] * Ks[j * L::LDK + d_own];
        atomicAdd(dq_acc + q_off + static_cast<size_t>(r) * q_ld + d_own, acc);
      }
    }
  }

  GROVE_UNROLL
  for (int jj = 0; jj < kKeyRows; ++jj) {
    const int j = tid / D + jj * kRowStep;
    if (k0 + j >= len) continue;
    const size_t o = kv_off + static_cast<size_t>(j) * kv_ld + d_own;
    dk[o] = from_float<T>(dk_r[jj]);
    dv[o] = from_float<T>(dv_r[jj]);
  }
}

// ---- v2: WMMA kernels (bf16) --------------------------------------------------------------------------------

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major>;
using FragAT = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::col_major>;
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major>;
using FragBT = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

// A warp's 16x16 fp32 fragment to rows [0, valid) of a bf16 tile at dst (row stride ld), through the warp's
// 16x16 fp32 scratch in shared memory (where each element lands in a fragment is unspecified).
__device__ __forceinline__ void store_rows_bf16(const FragC& f, float* scratch, bf16* dst, size_t ld, int valid) {
  wmma::store_matrix_sync(scratch, f, 16, wmma::mem_row_major);
  __syncwarp();
  for (int e = threadIdx.x & 31; e < 256; e += 32) {
    if (e / 16 < valid) dst[(e / 16) * ld + e % 16] = __float2bfloat16(scratch[e]);
  }
  __syncwarp();
}

// Shared memory of the v2 forward, in bytes. Row strides are padded by 16 bytes so consecutive rows start in
// different banks; every WMMA tile pointer stays 32-byte aligned.
template <int D>
struct WmmaForwardLayout {
  static constexpr int BQ = 16 * kWarps, BK = 64;
  static constexpr int LDT = D + 8, LDS = BK + 4, LDP = BK + 8, LDO = D + 4;
  static constexpr size_t Q = 0;
  static constexpr size_t K = align128(Q + sizeof(bf16) * BQ * LDT);
  static constexpr size_t V = align128(K + sizeof(bf16) * BK * LDT);
  static constexpr size_t S = align128(V + sizeof(bf16) * BK * LDT);
  static constexpr size_t P = align128(S + sizeof(float) * BQ * LDS);
  static constexpr size_t O = align128(P + sizeof(bf16) * BQ * LDP);
  static constexpr size_t BYTES = align128(O + sizeof(float) * BQ * LDO);
  static_assert(BYTES <= kSmemForTwoBlocks, "two blocks per SM");
};

// Warp w owns query rows [16w, 16w + 16) of the tile and their output in register fragments. Per key tile:
// S = Q K^T into shared fp32; the online softmax with one row per half-warp (m, l in registers) writes P as bf16;
// O += P V on the tensor cores. Rescaling O by exp(m_old - m_new) needs its rows, which a fragment does not expose,
// so O goes through shared memory for it, and only when a row's max grew. Key tiles run from the diagonal back:
// a causal row's largest scores are usually near it, so the max mostly settles in the first tile.
template <int D>
__global__ void __launch_bounds__(kThreads)
    attention_forward_wmma(const AttentionArgs a, const bf16* __restrict__ q, const bf16* __restrict__ k,
                           const bf16* __restrict__ v, bf16* __restrict__ out, float* __restrict__ lse) {
  using L = WmmaForwardLayout<D>;
  constexpr int BQ = L::BQ, BK = L::BK, KB = BK / 16, DB = D / 16;
  constexpr int kRowPairs = 8;  // 16 rows per warp, two per step (one per half-warp)

  const int seq = blockIdx.y, h = blockIdx.z;
  const int begin = a.seq_starts[seq], len = a.seq_starts[seq + 1] - begin;
  const int q0 = (gridDim.x - 1 - blockIdx.x) * BQ;
  if (q0 >= len) return;

  GROVE_DYNAMIC_SMEM(char, smem);
  bf16* Qs = reinterpret_cast<bf16*>(smem + L::Q);
  bf16* Ks = reinterpret_cast<bf16*>(smem + L::K);
  bf16* Vs = reinterpret_cast<bf16*>(smem + L::V);
  float* Ss = reinterpret_cast<float*>(smem + L::S);
  bf16* Ps = reinterpret_cast<bf16*>(smem + L::P);
  float* Os = reinterpret_cast<float*>(smem + L::O);

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int half = lane >> 4, hl = lane & 15;
  const int kvh = h / (a.num_heads / a.num_kv_heads);
  const size_t q_ld = static_cast<size_t>(a.num_heads) * D, kv_ld = static_cast<size_t>(a.num_kv_heads) * D;
  const bf16* k_base = k + static_cast<size_t>(begin) * kv_ld + static_cast<size_t>(kvh) * D;
  const bf16* v_base = v + static_cast<size_t>(begin) * kv_ld + static_cast<size_t>(kvh) * D;

  load_rows_bf16<D>(Qs, L::LDT, q + static_cast<size_t>(begin + q0) * q_ld + static_cast<size_t>(h) * D, q_ld, BQ,
                    len - q0);

  const int row0 = 16 * warp;                    // the warp's first row in the tile
  const int i_lo = q0 + row0, i_hi = i_lo + 15;  // its query positions
  const bool warp_active = i_lo < len;
  float m_row[kRowPairs], l_row[kRowPairs], alpha_row[kRowPairs];
  GROVE_UNROLL
  for (int rr = 0; rr < kRowPairs; ++rr) m_row[rr] = -INFINITY, l_row[rr] = 0.0f;
  FragC of[DB];
  GROVE_UNROLL
  for (int db = 0; db < DB; ++db) wmma::fill_fragment(of[db], 0.0f);

  const int k_first = first_visible_key(q0, a.sliding_window) / BK * BK;
  for (int k0 = (imin(len, q0 + BQ) - 1) / BK * BK; k0 >= k_first; k0 -= BK) {
    __syncthreads();  // every warp is done with the previous K and V
    load_rows_bf16<D>(Ks, L::LDT, k_base + static_cast<size_t>(k0) * kv_ld, kv_ld, BK, len - k0);
    load_rows_bf16<D>(Vs, L::LDT, v_base + static_cast<size_t>(k0) * kv_ld, kv_ld, BK, len - k0);
    __syncthreads();
    if (!warp_active) continue;

    // Key blocks [kb_begin, kb_end) of this tile hold a key visible from one of the warp's rows; the others are
    // skipped by the tensor cores and masked by the softmax.
    const int lo = first_visible_key(i_lo, a.sliding_window) - k0;
    const int kb_begin = lo < 0 ? 0 : imin(KB, lo / 16);
    const int kb_end = i_hi < k0 ? 0 : imin(KB, (i_hi - k0) / 16 + 1);

    FragA qf[DB];
    GROVE_UNROLL
    for (int kk = 0; kk < DB; ++kk) wmma::load_matrix_sync(qf[kk], Qs + row0 * L::LDT + kk * 16, L::LDT);
    for (int kb = kb_begin; kb < kb_end; ++kb) {
      FragC sf;
      wmma::fill_fragment(sf, 0.0f);
      GROVE_UNROLL
      for (int kk = 0; kk < DB; ++kk) {
        FragBT kf;
        wmma::load_matrix_sync(kf, Ks + kb * 16 * L::LDT + kk * 16, L::LDT);
        wmma::mma_sync(sf, qf[kk], kf, sf);
      }
      wmma::store_matrix_sync(Ss + row0 * L::LDS + kb * 16, sf, L::LDS, wmma::mem_row_major);
    }
    __syncwarp();

    bool grew = false;  // some row of this lane already holds output and its max grew
    GROVE_UNROLL
    for (int rr = 0; rr < kRowPairs; ++rr) {
      const int r = row0 + 2 * rr + half, i = q0 + r;
      float s[KB];
      float mx = -INFINITY;
      GROVE_UNROLL
      for (int c = 0; c < KB; ++c) {
        const int j = k0 + c * 16 + hl;
        const bool visible = c >= kb_begin && c < kb_end && key_visible(i, j, a.sliding_window);
        s[c] = visible ? Ss[r * L::LDS + c * 16 + hl] * a.scale : -INFINITY;
        mx = fmaxf(mx, s[c]);
      }
      const float m_new = fmaxf(m_row[rr], group_max<16>(mx));
      const float m_use = m_new == -INFINITY ? 0.0f : m_new;  // a row with nothing visible yet stays at zero
      float sum = 0.0f;
      GROVE_UNROLL
      for (int c = 0; c < KB; ++c) {
        const float p = __expf(s[c] - m_use);
        sum += p;
        Ps[r * L::LDP + c * 16 + hl] = __float2bfloat16(p);
      }
      alpha_row[rr] = __expf(m_row[rr] - m_use);
      grew = grew || (l_row[rr] > 0.0f && alpha_row[rr] != 1.0f);
      l_row[rr] = l_row[rr] * alpha_row[rr] + group_sum<16>(sum);
      m_row[rr] = m_new;
    }
    if (group_max<32>(grew ? 1.0f : 0.0f) > 0.0f) {  // the same answer in every lane
      GROVE_UNROLL
      for (int db = 0; db < DB; ++db) {
        wmma::store_matrix_sync(Os + row0 * L::LDO + db * 16, of[db], L::LDO, wmma::mem_row_major);
      }
      __syncwarp();
      GROVE_UNROLL
      for (int rr = 0; rr < kRowPairs; ++rr) {
        float* o_row = Os + (row0 + 2 * rr + half) * L::LDO;
        for (int d = hl; d < D; d += 16) o_row[d] *= alpha_row[rr];
      }
      __syncwarp();
      GROVE_UNROLL
      for (int db = 0; db < DB; ++db) {
        wmma::load_matrix_sync(of[db], Os + row0 * L::LDO + db * 16, L::LDO, wmma::mem_row_major);
      }
    }
    __syncwarp();  // P complete before the tensor cores read it

    for (int kb = kb_begin; kb < kb_end; ++kb) {
      FragA pf;
      wmma::load_matrix_sync(pf, Ps + row0 * L::LDP + kb * 16, L::LDP);
      GROVE_UNROLL
      for (int db = 0; db < DB; ++db) {
        FragB vf;
        wmma::load_matrix_sync(vf, Vs + kb * 16 * L::LDT + db * 16, L::LDT);
        wmma::mma_sync(of[db], pf, vf, of[db]);
      }
    }
  }

  if (!warp_active) return;
  GROVE_UNROLL
  for (int db = 0; db < DB; ++db) {
    wmma::store_matrix_sync(Os + row0 * L::LDO + db * 16, of[db], L::LDO, wmma::mem_row_major);
  }
  __syncwarp();
  GROVE_UNROLL
  for (int rr = 0; rr < kRowPairs; ++rr) {
    const int r = row0 + 2 * rr + half, i = q0 + r;
    if (i >= len) continue;
    const float inv = 1.0f / l_row[rr];
    const size_t row = static_cast<size_t>(begin + i);
    bf16* o = out + row * q_ld + static_cast<size_t>(h) * D;
    for (int d = 2 * hl; d < D; d += 32) {
      *reinterpret_cast<__nv_bfloat162*>(o + d) =
          __floats2bfloat162_rn(Os[r * L::LDO + d] * inv, Os[r * L::LDO + d + 1] * inv);
    }
    if (hl == 0) lse[row * a.num_heads + h] = m_row[rr] + logf(l_row[rr]);
  }
}

// Shared memory of the v2 backward, in bytes. The query tile is 32 rows at D = 128 (83 KiB instead of 125).
template <int D>
struct WmmaBackwardLayout {
  static constexpr int BK = 16 * kWarps, BQ = D <= 64 ? 64 : 32;
  static constexpr int LDT = D + 8, LDS = BQ + 4, LDP = BQ + 8;
  static constexpr size_t K = 0;
  static constexpr size_t V = align128(K + sizeof(bf16) * BK * LDT);
  static constexpr size_t Q = align128(V + sizeof(bf16) * BK * LDT);
  static constexpr size_t DO = align128(Q + sizeof(bf16) * BQ * LDT);
  static constexpr size_t LSE = align128(DO + sizeof(bf16) * BQ * LDT);
  static constexpr size_t DVEC = align128(LSE + sizeof(float) * BQ);
  static constexpr size_t ST = align128(DVEC + sizeof(float) * BQ);
  static constexpr size_t DPT = align128(ST + sizeof(float) * BK * LDS);
  static constexpr size_t PT = align128(DPT + sizeof(float) * BK * LDS);
  static constexpr size_t DST = align128(PT + sizeof(bf16) * BK * LDP);
  static constexpr size_t SCRATCH = align128(DST + sizeof(bf16) * BK * LDP);  // one 16x16 fp32 tile per warp
  static constexpr size_t BYTES = align128(SCRATCH + sizeof(float) * kWarps * 256);
  static_assert(BYTES <= kSmemForTwoBlocks, "two blocks per SM");
};

// Warp w owns key rows [16w, 16w + 16) of the tile and their dk/dv fragments. Per query tile: S^T = K Q^T and
// dP^T = V dO^T into shared fp32, P^T and dS^T as bf16, dV += P^T dO and dK += dS^T Q; then, with the whole block,
// dQ = dS K split into 16x16 output tiles over the warps and added into dq_acc.
template <int D>
__global__ void __launch_bounds__(kThreads)
    attention_backward_wmma(const AttentionArgs a, const bf16* __restrict__ dout, const bf16* __restrict__ q,
                            const bf16* __restrict__ k, const bf16* __restrict__ v, const float* __restrict__ lse,
                            const float* __restrict__ dvec, float* __restrict__ dq_acc, bf16* __restrict__ dk,
                            bf16* __restrict__ dv) {
  using L = WmmaBackwardLayout<D>;
  constexpr int BQ = L::BQ, BK = L::BK, QB = BQ / 16, KB = BK / 16, DB = D / 16;

  const int seq = blockIdx.y, kvh = blockIdx.z;
  const int begin = a.seq_starts[seq], len = a.seq_starts[seq + 1] - begin;
  const int k0 = (gridDim.x - 1 - blockIdx.x) * BK;
  if (k0 >= len) return;

  GROVE_DYNAMIC_SMEM(char, smem);
  bf16* Ks = reinterpret_cast<bf16*>(smem + L::K);
  bf16* Vs = reinterpret_cast<bf16*>(smem + L::V);
  bf16* Qs = reinterpret_cast<bf16*>(smem + L::Q);
  bf16* dOs = reinterpret_cast<bf16*>(smem + L::DO);
  float* lse_s = reinterpret_cast<float*>(smem + L::LSE);
  float* dvec_s = reinterpret_cast<float*>(smem + L::DVEC);
  float* STs = reinterpret_cast<float*>(smem + L::ST);
  float* dPTs = reinterpret_cast<float*>(smem + L::DPT);
  bf16* PTs = reinterpret_cast<bf16*>(smem + L::PT);
  bf16* dSTs = reinterpret_cast<bf16*>(smem + L::DST);
  float* scratch = reinterpret_cast<float*>(smem + L::SCRATCH) + 256 * (threadIdx.x >> 5);

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int group = a.num_heads / a.num_kv_heads;
  const size_t q_ld = static_cast<size_t>(a.num_heads) * D, kv_ld = static_cast<size_t>(a.num_kv_heads) * D;
  const size_t kv_off = static_cast<size_t>(begin + k0) * kv_ld + static_cast<size_t>(kvh) * D;
  load_rows_bf16<D>(Ks, L::LDT, k + kv_off, kv_ld, BK, len - k0);
  load_rows_bf16<D>(Vs, L::LDT, v + kv_off, kv_ld, BK, len - k0);

  const int row0 = 16 * warp;                // the warp's first key row in the tile
  const int j_lo = k0 + row0, j_hi = j_lo + 15;  // its key positions
  const bool warp_active = j_lo < len;
  FragC dkf[DB], dvf[DB];
  GROVE_UNROLL
  for (int db = 0; db < DB; ++db) wmma::fill_fragment(dkf[db], 0.0f), wmma::fill_fragment(dvf[db], 0.0f);

  const int q_end = query_end(k0 + BK - 1, len, a.sliding_window);
  for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
    for (int q0 = k0 / BQ * BQ; q0 < q_end; q0 += BQ) {
      __syncthreads();  // every warp is done with the previous Q, dO and dS^T
      const size_t q_off = static_cast<size_t>(begin + q0) * q_ld + static_cast<size_t>(h) * D;
      load_rows_bf16<D>(Qs, L::LDT, q + q_off, q_ld, BQ, len - q0);
      load_rows_bf16<D>(dOs, L::LDT, dout + q_off, q_ld, BQ, len - q0);
      for (int r = tid; r < BQ; r += kThreads) {
        const bool in = q0 + r < len;
        const size_t row = static_cast<size_t>(begin + q0 + r) * a.num_heads + h;
        lse_s[r] = in ? lse[row] : 0.0f;
        dvec_s[r] = in ? dvec[row] : 0.0f;
      }
      __syncthreads();

      // Query blocks [qb_begin, qb_end) hold a query that sees one of the warp's keys; elsewhere P = dS = 0.
      int qb_begin = 0, qb_end = 0;
      if (warp_active) {
        const int last = query_end(j_hi, len, a.sliding_window) - 1 - q0;  // last query seeing a warp key
        qb_begin = imax(0, j_lo - q0) / 16;
        qb_end = last < 0 ? 0 : imin(QB, last / 16 + 1);
      }
      for (int qb = qb_begin; qb < qb_end; ++qb) {
        FragC sf, dpf;
        wmma::fill_fragment(sf, 0.0f);
        wmma::fill_fragment(dpf, 0.0f);
        GROVE_UNROLL
        for (int kk = 0; kk < DB; ++kk) {
          FragA kf, vf;
          FragBT qf, dof;
          wmma::load_matrix_sync(kf, Ks + row0 * L::LDT + kk * 16, L::LDT);
          wmma::load_matrix_sync(qf, Qs + qb * 16 * L::LDT + kk * 16, L::LDT);
          wmma::mma_sync(sf, kf, qf, sf);
          wmma::load_matrix_sync(vf, Vs + row0 * L::LDT + kk * 16, L::LDT);
          wmma::load_matrix_sync(dof, dOs + qb * 16 * L::LDT + kk * 16, L::LDT);
          wmma::mma_sync(dpf, vf, dof, dpf);
        }
        wmma::store_matrix_sync(STs + row0 * L::LDS + qb * 16, sf, L::LDS, wmma::mem_row_major);
        wmma::store_matrix_sync(dPTs + row0 * L::LDS + qb * 16, dpf, L::LDS, wmma::mem_row_major);
      }
      __syncwarp();

      // Every warp writes all of its rows of P^T and dS^T (zeros where nothing is visible): dQ reads them all.
      for (int e = lane; e < 16 * BQ; e += 32) {
        const int r = row0 + e / BQ, c = e % BQ, i = q0 + c, qb = c / 16;
        const bool visible = qb >= qb_begin && qb < qb_end && i < len && key_visible(i, k0 + r, a.sliding_window);
        float p = 0.0f, ds = 0.0f;
        if (visible) {
          p = __expf(STs[r * L::LDS + c] * a.scale - lse_s[c]);
          ds = p * (dPTs[r * L::LDS + c] - dvec_s[c]) * a.scale;
        }
        PTs[r * L::LDP + c] = __float2bfloat16(p);
        dSTs[r * L::LDP + c] = __float2bfloat16(ds);
      }
      __syncwarp();

      GROVE_UNROLL
      for (int db = 0; db < DB; ++db) {
        for (int qb = qb_begin; qb < qb_end; ++qb) {
          FragA pf, dsf;
          FragB dof, qf;
          wmma::load_matrix_sync(pf, PTs + row0 * L::LDP + qb * 16, L::LDP);
          wmma::load_matrix_sync(dof, dOs + qb * 16 * L::LDT + db * 16, L::LDT);
          wmma::mma_sync(dvf[db], pf, dof, dvf[db]);
          wmma::load_matrix_sync(dsf, dSTs + row0 * L::LDP + qb * 16, L::LDP);
          wmma::load_matrix_sync(qf, Qs + qb * 16 * L::LDT + db * 16, L::LDT);
          wmma::mma_sync(dkf[db], dsf, qf, dkf[db]);
        }
      }
      __syncthreads();  // dS^T complete for all keys

      for (int t = warp; t < QB * DB; t += kWarps) {
        const int qb = t / DB, db = t % DB;
        if (q0 + qb * 16 >= len) continue;
        FragC qf;
        wmma::fill_fragment(qf, 0.0f);
        GROVE_UNROLL
        for (int kb = 0; kb < KB; ++kb) {
          FragAT dsf;
          FragB kf;
          wmma::load_matrix_sync(dsf, dSTs + kb * 16 * L::LDP + qb * 16, L::LDP);
          wmma::load_matrix_sync(kf, Ks + kb * 16 * L::LDT + db * 16, L::LDT);
          wmma::mma_sync(qf, dsf, kf, qf);
        }
        wmma::store_matrix_sync(scratch, qf, 16, wmma::mem_row_major);
        __syncwarp();
        for (int e = lane; e < 256; e += 32) {
          const int r = qb * 16 + e / 16;
          if (q0 + r < len) atomicAdd(dq_acc + q_off + static_cast<size_t>(r) * q_ld + db * 16 + e % 16, scratch[e]);
        }
        __syncwarp();
      }
    }
  }

  if (!warp_active) return;
  const int valid = len - k0 - row0;
  bf16* dk_rows = dk + kv_off + static_cast<size_t>(row0) * kv_ld;
  bf16* dv_rows = dv + kv_off + static_cast<size_t>(row0) * kv_ld;
  GROVE_UNROLL
  for (int db = 0; db < DB; ++db) {
    store_rows_bf16(dkf[db], scratch, dk_rows + db * 16, kv_ld, valid);
    store_rows_bf16(dvf[db], scratch, dv_rows + db * 16, kv_ld, valid);
  }
}

// ---- shared passes of the backward --------------------------------------------------------------------------

// D[row] = dout[row] . out[row] for each (token, head) row of D elements; one warp per row.
template <typename T>
__global__ void __launch_bounds__(256)
    attention_dout_dot_out(const T* __restrict__ dout, const T* __restrict__ out, size_t rows, int head_dim,
                           float* __restrict__ dvec) {
  const size_t row = static_cast<size_t>(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (row >= rows) return;  // whole warps leave together
  const int lane = threadIdx.x & 31;
  float acc = 0.0f;
  const T* dout_row = dout + row * head_dim;
  const T* out_row = out + row * head_dim;
  for (int d = lane; d < head_dim; d += 32) acc += to_float(dout_row[d]) * to_float(out_row[d]);
  acc = group_sum<32>(acc);
  if (lane == 0) dvec[row] = acc;
}

template <typename T>
__global__ void __launch_bounds__(kernel_util::kBlock)
    attention_store_dq(const float* __restrict__ dq_acc, T* __restrict__ dq, size_t n) {
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    dq[i] = from_float<T>(dq_acc[i]);
  }
}

// ---- host side ----------------------------------------------------------------------------------------------

size_t dq_acc_elems(const AttentionArgs& a) {
  return static_cast<size_t>(a.tokens) * a.num_heads * a.head_dim;
}

void require_supported(const AttentionArgs& a, const char* op) {
  const char* why = attention_supported(a);
  if (*why != '\0') throw CudaError(std::string(op) + ": " + why);
}

bool nothing_to_do(const AttentionArgs& a) { return a.tokens == 0 || a.num_seqs == 0 || a.max_seq_len == 0; }

template <typename P>
bool aligned16(const P* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

template <typename Kernel>
void allow_dynamic_smem(Kernel* kernel, size_t bytes, const char* op) {
  check_cuda(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(bytes)),
             op);
}

template <typename T, int D>
void launch_forward(const AttentionArgs& a, const T* q, const T* k, const T* v, T* out, float* lse,
                    cudaStream_t stream) {
  if constexpr (std::is_same_v<T, bf16>) {
    using L = WmmaForwardLayout<D>;
    const dim3 grid((a.max_seq_len + L::BQ - 1) / L::BQ, a.num_seqs, a.num_heads);
    allow_dynamic_smem(attention_forward_wmma<D>, L::BYTES, "attention_forward");
    GROVE_LAUNCH(grid, kThreads, L::BYTES, stream, attention_forward_wmma<D>)(a, q, k, v, out, lse);
  } else {
    using L = SimtForwardLayout<D>;
    const dim3 grid((a.max_seq_len + L::BQ - 1) / L::BQ, a.num_seqs, a.num_heads);
    allow_dynamic_smem(attention_forward_simt<T, D>, L::BYTES, "attention_forward");
    GROVE_LAUNCH(grid, kThreads, L::BYTES, stream, attention_forward_simt<T, D>)(a, q, k, v, out, lse);
  }
  GROVE_CHECK_LAUNCH("attention_forward");
}

template <typename T, int D>
void launch_backward(const AttentionArgs& a, const T* dout, const T* q, const T* k, const T* v, const float* lse,
                     const float* dvec, float* dq_acc, T* dk, T* dv, cudaStream_t stream) {
  if constexpr (std::is_same_v<T, bf16>) {
    using L = WmmaBackwardLayout<D>;
    const dim3 grid((a.max_seq_len + L::BK - 1) / L::BK, a.num_seqs, a.num_kv_heads);
    allow_dynamic_smem(attention_backward_wmma<D>, L::BYTES, "attention_backward");
    GROVE_LAUNCH(grid, kThreads, L::BYTES, stream, attention_backward_wmma<D>)(a, dout, q, k, v, lse, dvec, dq_acc,
                                                                              dk, dv);
  } else {
    using L = SimtBackwardLayout<D>;
    const dim3 grid((a.max_seq_len + L::BK - 1) / L::BK, a.num_seqs, a.num_kv_heads);
    allow_dynamic_smem(attention_backward_simt<T, D>, L::BYTES, "attention_backward");
    GROVE_LAUNCH(grid, kThreads, L::BYTES, stream, attention_backward_simt<T, D>)(a, dout, q, k, v, lse, dvec,
                                                                                 dq_acc, dk, dv);
  }
  GROVE_CHECK_LAUNCH("attention_backward");
}

}  // namespace

const char* attention_supported(const AttentionArgs& a) {
  // The reason names the offending value, so it lives in a per-thread buffer until this thread's next call.
  thread_local std::string reason;
  reason.clear();
  if (a.head_dim != 16 && a.head_dim != 32 && a.head_dim != 64 && a.head_dim != 128) {
    reason = "head_dim " + std::to_string(a.head_dim) + " is not one of 16, 32, 64, 128";
  } else if (a.num_heads <= 0 || a.num_kv_heads <= 0 || a.num_heads % a.num_kv_heads != 0) {
    reason = "num_heads " + std::to_string(a.num_heads) + " is not a positive multiple of num_kv_heads " +
             std::to_string(a.num_kv_heads);
  } else if (a.num_heads > static_cast<int>(kernel_util::kMaxGridY) ||
             a.num_seqs > static_cast<int>(kernel_util::kMaxGridY)) {  // grid y and z share the limit
    reason = "num_heads " + std::to_string(a.num_heads) + " or num_seqs " + std::to_string(a.num_seqs) +
             " exceeds the grid limit " + std::to_string(kernel_util::kMaxGridY);
  } else if (a.tokens < 0 || a.num_seqs < 0 || a.max_seq_len < 0 || a.sliding_window < 0) {
    reason = "tokens, num_seqs, max_seq_len and sliding_window must not be negative";
  } else if (a.num_seqs > 0 && a.seq_starts == nullptr) {
    reason = "seq_starts is null";
  }
  return reason.c_str();
}

size_t attention_forward_workspace_bytes(const AttentionArgs&) { return 0; }

size_t attention_backward_workspace_bytes(const AttentionArgs& a) {
  return (dq_acc_elems(a) + static_cast<size_t>(a.tokens) * a.num_heads) * sizeof(float);
}

template <typename T>
void attention_forward(const AttentionArgs& a, const T* q, const T* k, const T* v, T* out, float* lse,
                       void* /*workspace*/, cudaStream_t stream) {
  require_supported(a, "attention_forward");
  if (nothing_to_do(a)) return;
  if (std::is_same_v<T, bf16> && !(aligned16(q) && aligned16(k) && aligned16(v))) {
    throw CudaError("attention_forward: q, k and v must be 16-byte aligned");
  }
  switch (a.head_dim) {
    case 16: return launch_forward<T, 16>(a, q, k, v, out, lse, stream);
    case 32: return launch_forward<T, 32>(a, q, k, v, out, lse, stream);
    case 64: return launch_forward<T, 64>(a, q, k, v, out, lse, stream);
    default: return launch_forward<T, 128>(a, q, k, v, out, lse, stream);
  }
}

template <typename T>
void attention_backward(const AttentionArgs& a, const T* dout, const T* q, const T* k, const T* v, const T* out,
                        const float* lse, T* dq, T* dk, T* dv, void* workspace, cudaStream_t stream) {
  require_supported(a, "attention_backward");
  if (nothing_to_do(a)) return;
  if (std::is_same_v<T, bf16> && !(aligned16(dout) && aligned16(q) && aligned16(k) && aligned16(v))) {
    throw CudaError("attention_backward: dout, q, k and v must be 16-byte aligned");
  }
  float* dq_acc = static_cast<float*>(workspace);
  float* dvec = dq_acc + dq_acc_elems(a);
  const size_t rows = static_cast<size_t>(a.tokens) * a.num_heads;
  check_cuda(cudaMemsetAsync(dq_acc, 0, dq_acc_elems(a) * sizeof(float), stream), "attention_backward: zero dq");
  GROVE_LAUNCH(static_cast<unsigned>((rows + 7) / 8), 256, 0, stream, attention_dout_dot_out<T>)(dout, out, rows,
                                                                                                  a.head_dim, dvec);
  GROVE_CHECK_LAUNCH("attention_backward");
  switch (a.head_dim) {
    case 16: launch_backward<T, 16>(a, dout, q, k, v, lse, dvec, dq_acc, dk, dv, stream); break;
    case 32: launch_backward<T, 32>(a, dout, q, k, v, lse, dvec, dq_acc, dk, dv, stream); break;
    case 64: launch_backward<T, 64>(a, dout, q, k, v, lse, dvec, dq_acc, dk, dv, stream); break;
    default: launch_backward<T, 128>(a, dout, q, k, v, lse, dvec, dq_acc, dk, dv, stream); break;
  }
  const size_t n = dq_acc_elems(a);
  GROVE_LAUNCH(kernel_util::blocks_for(n), kernel_util::kBlock, 0, stream, attention_store_dq<T>)(dq_acc, dq, n);
  GROVE_CHECK_LAUNCH("attention_backward");
}

template void attention_forward<float>(const AttentionArgs&, const float*, const float*, const float*, float*, float*,
                                       void*, cudaStream_t);
template void attention_forward<bf16>(const AttentionArgs&, const bf16*, const bf16*, const bf16*, bf16*, float*,
                                      void*, cudaStream_t);
template void attention_backward<float>(const AttentionArgs&, const float*, const float*, const float*, const float*,
                                        const float*, const float*, float*, float*, float*, void*, cudaStream_t);
template void attention_backward<bf16>(const AttentionArgs&, const bf16*, const bf16*, const bf16*, const bf16*,
                                       const bf16*, const float*, bf16*, bf16*, bf16*, void*, cudaStream_t);

}  // namespace grove::cuda
