// Forward and backward of the whole model over one fused batch. Forward keeps per-layer activations and the
// logits, and computes each row's token loss; the caller then chooses each row's loss weight (1 / the job's
// target count, or 0 for a job that failed) and runs backward, which adds LoRA gradients into the adapters.
// Activation gradients flow through every frozen layer; base weights get none.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/linear_lora.h"
#include "grove/backend.h"
#include "grove/fused_batch.h"
#include "grove/model.h"
#include "grove/recompute.h"

namespace grove {

class ModelStep {
 public:
  ModelStep(Backend& backend, const Model& model, const FusedBatch& batch, Recompute recompute = Recompute::kNone);

  // keep_activations = false (evaluation): each layer's activations are freed once the next layer has its input,
  // so only row_loss() and logits() are valid afterwards and backward() must not be called.
  void forward(bool keep_activations = true);
  // Per-row cross-entropy (0 for rows that are not targets), on the host.
  const std::vector<float>& row_loss() const { return row_loss_; }
  // Logits of rows [begin, end), recomputed from the final hidden states and copied to the host (valid between
  // forward and backward).
  std::vector<float> logits(int row_begin, int row_end) const;
  void backward(const std::vector<float>& row_weight);

 private:
  struct LayerCache {
    Buffer x_in, h1, rstd1, q, k, v, attn, lse, x_mid, h2, rstd2, g, u, act;
    std::array<std::vector<LoraSaved>, kNumProj> lora;
  };

  // Activations in the backend's activation type; per-row statistics (rstd, lse, losses, weights) in fp32. All are
  // outputs the next op writes in full (not zeroed: Backend::alloc_for_overwrite), except gradient_sum: the
  // residual stream's gradient, which the norms' backward ops accumulate into.
  Buffer activation(size_t numel) {
    return backend_.alloc_for_overwrite(numel, MemoryCategory::kActivations, backend_.activation_dtype());
  }
  Buffer stat(size_t numel) { return backend_.alloc_for_overwrite(numel, MemoryCategory::kActivations); }
  Buffer gradient_sum(size_t numel) {
    return backend_.alloc(numel, MemoryCategory::kActivations, backend_.activation_dtype());
  }
  AttentionShape attention_shape(int layer) const;
  void layer_forward(int l, ConstTypedPtr x_in, Buffer& x_out);
  void layer_backward(int l, Buffer& dx);
  // Runs gate, up and SwiGLU of layer l from lc.h2 into lc.g, lc.u, lc.act (forward, and kMlp's backward).
  void mlp_in(int l);
  // Drops what `recompute_` says forward need not keep, once layer l's forward is done.
  void drop_recomputable(int l);

  Backend& backend_;
  const Model& model_;
  const FusedBatch& batch_;
  Recompute recompute_;
  std::vector<LinearLora> linears_;  // [layer * kNumProj + proj]
  std::vector<LayerCache> cache_;
  Buffer x_final, xf_, rstd_f_, dxf_;
  std::vector<float> row_loss_;
};

}  // namespace grove
