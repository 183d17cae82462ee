// A frozen linear layer with per-job LoRA: y = x W^T (+ b), and for each job segment of rows
// y[seg] += scale * dropout(x[seg]) A^T B^T. The base GEMM runs once over all jobs' rows; the LoRA shrink
// (x A^T -> [n, r]) and expand (u B^T) run per segment on row ranges of the same buffers (no gathers), every
// segment's GEMM of a stage in one Backend::gemm_grouped call (one launch on a GPU instead of one per job).
// Backward: dx = dy W once over all rows, plus per segment dB += scale dy^T u, du = scale dy B,
// dA += du^T dropout(x), dx[seg] += dropout'(du A). Base W and b get no gradient (frozen).
// LoRA GEMM operands are in the backend's activation type: on a bf16 backend they read the adapter's bf16 copies
// of A and B (LoraModule::a_act, b_act, refreshed once per forward pass for the whole adapter in one launch), and
// u, du are written in bf16, which is what a GEMM with a bf16 operand would round them to anyway: the values match
// casting per GEMM (up to cuBLAS picking another kernel for a bf16 output). Gradients of A and B accumulate in
// fp32. On the fp32 CPU backend nothing is cast or copied.
#pragma once

#include <vector>

#include "grove/backend.h"
#include "grove/fused_batch.h"
#include "grove/model.h"

namespace grove {

// What one segment's LoRA path keeps from forward for backward.
struct LoraSaved {
  LoraModule* module = nullptr;  // null: the job does not target this projection
  Buffer x_dropped;              // dropout(x[seg]); empty when dropout is 0 (x itself is used)
  Buffer u;                      // dropout(x[seg]) A^T, [n, r], activation type
  // A and B as the GEMMs read them: the activation-type copies, or the fp32 values on an fp32 backend.
  ConstTypedPtr a_op() const;
  ConstTypedPtr b_op() const;
};

class LinearLora {
 public:
  LinearLora(Backend& backend, const Linear& linear, Proj proj, int layer)
      : backend_(backend), linear_(linear), proj_(proj), layer_(layer) {}

  // y [T, out] = x [T, in] W^T (+ b) + LoRA per segment; fills `saved` (one entry per segment).
  void forward(const FusedBatch& batch, ConstTypedPtr x, TypedPtr y, std::vector<LoraSaved>& saved);
  // dx [T, in] (= or +=, per `accumulate`) from dy [T, out]; adds LoRA grads into each segment's adapter.
  void backward(const FusedBatch& batch, ConstTypedPtr x, ConstTypedPtr dy, TypedPtr dx, bool accumulate,
                std::vector<LoraSaved>& saved);

 private:
  uint64_t dropout_key(const JobSegment& seg) const;

  Backend& backend_;
  const Linear& linear_;
  Proj proj_;
  int layer_;
};

}  // namespace grove
