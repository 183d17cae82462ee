// Emulated nvcuda::wmma for the 16x16x16 shape. A fragment keeps the whole tile in every thread (element i is
// row i / 16, column i % 16 of the logical tile), so element-wise loops over frag.x work as on the GPU as long as
// they treat every element alike. Loads, stores and mma_sync are warp-wide: all 32 lanes must call them with the
// same pointer and ldm, like the GPU requires; the last lane to arrive does the work for the warp. A store writes
// element i from lane i % 32's fragment, so a lane-dependent fragment shows up as it would on the GPU: mixed.
// Pointers must be 32-byte aligned and ldm a multiple of 16 bytes, as wmma requires.
#pragma once

#include "backend/cuda/emu/bf16.h"
#include "backend/cuda/emu/device.h"

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
class fragment {
  static_assert(M == 16 && N == 16 && K == 16, "the emulator has the 16x16x16 WMMA shape only");

 public:
  using element_type = T;
  static constexpr int num_elements = 256;
  T x[num_elements];
};

template <typename Use, int M, int N, int K, typename T, typename Layout, typename V>
void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const V& value) {
  const T v = static_cast<T>(value);
  for (int i = 0; i < f.num_elements; ++i) f.x[i] = v;
}

}  // namespace nvcuda::wmma

namespace grove::cuda::emu::wmma {

using nvcuda::wmma::layout_t;

// One lane's part of a warp-wide load or store: the tile in the fragment, where it is in memory, and how.
struct TileArg {
  void* frag;
  const void* mem;
  unsigned ldm;
  bool col_major;
  int elem_size;  // 2: bf16, 4: float
};

void load_op(void* const* args, int lanes);
void store_op(void* const* args, int lanes);

struct MmaArg {
  float* d;
  const void* a;
  const void* b;
  const float* c;
};
void mma_op(void* const* args, int lanes);

template <typename Layout>
constexpr bool is_col_major = std::is_same_v<Layout, nvcuda::wmma::col_major>;

}  // namespace grove::cuda::emu::wmma

namespace nvcuda::wmma {

template <typename Use, typename T, typename Layout>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout>& f, const T* p, unsigned ldm) {
  static_assert(!std::is_same_v<Use, accumulator>, "an accumulator load takes a layout_t");
  static_assert(std::is_same_v<T, __nv_bfloat16>, "matrix_a/matrix_b fragments hold __nv_bfloat16 here");
  namespace w = grove::cuda::emu::wmma;
  w::TileArg a{f.x, p, ldm, w::is_col_major<Layout>, sizeof(T)};
  grove::cuda::emu::warp_collective(grove::cuda::emu::WarpOp::wmma_load, &a, w::load_op);
}

inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float>& f, const float* p, unsigned ldm,
                             layout_t layout) {
  namespace w = grove::cuda::emu::wmma;
  w::TileArg a{f.x, p, ldm, layout == mem_col_major, sizeof(float)};
  grove::cuda::emu::warp_collective(grove::cuda::emu::WarpOp::wmma_load, &a, w::load_op);
}

inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm,
                              layout_t layout) {
  namespace w = grove::cuda::emu::wmma;
  w::TileArg a{const_cast<float*>(f.x), p, ldm, layout == mem_col_major, sizeof(float)};
  grove::cuda::emu::warp_collective(grove::cuda::emu::WarpOp::wmma_store, &a, w::store_op);
}

// d = a * b + c in fp32 (d may be c).
template <typename T, typename LA, typename LB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, T, LA>& a,
              const fragment<matrix_b, 16, 16, 16, T, LB>& b, const fragment<accumulator, 16, 16, 16, float>& c,
              bool satf = false) {
  static_assert(std::is_same_v<T, __nv_bfloat16>, "matrix_a/matrix_b fragments hold __nv_bfloat16 here");
  namespace w = grove::cuda::emu::wmma;
  w::MmaArg m{d.x, a.x, b.x, c.x};
  grove::cuda::emu::warp_collective(grove::cuda::emu::WarpOp::wmma_mma, &m, w::mma_op);
}

}  // namespace nvcuda::wmma
