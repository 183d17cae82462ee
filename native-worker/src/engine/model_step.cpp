#include "engine/model_step.h"

#include <cmath>

namespace grove {

const char* recompute_name(Recompute r) {
  switch (r) {
    case Recompute::kNone: return "none";
    case Recompute::kNorms: return "norms";
    case Recompute::kMlp: return "mlp";
  }
  return "?";
}

bool parse_recompute(const std::string& name, Recompute* out) {
  for (Recompute r : {Recompute::kNone, Recompute::kNorms, Recompute::kMlp}) {
    if (name == recompute_name(r)) {
      *out = r;
      return true;
    }
  }
  return false;
}

ModelStep::ModelStep(Backend& backend, const Model& model, const FusedBatch& batch, Recompute recompute)
    : backend_(backend), model_(model), batch_(batch), recompute_(recompute) {
  for (int l = 0; l < model.config.num_layers; ++l)
    for (int p = 0; p < kNumProj; ++p)
      linears_.emplace_back(backend, model.layers[l].proj[p], static_cast<Proj>(p), l);
}

AttentionShape ModelStep::attention_shape(int layer) const {
  const ModelConfig& c = model_.config;
  AttentionShape s;
  s.tokens = batch_.tokens();
  s.num_heads = c.num_heads;
  s.num_kv_heads = c.num_kv_heads;
  s.head_dim = c.head_dim;
  s.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  s.sliding_window = c.sliding_window[layer];
  s.seq_starts = batch_.seq_starts.data();
  s.num_seqs = batch_.num_seqs();
  return s;
}

void ModelStep::forward(bool keep_activations) {
  const ModelConfig& c = model_.config;
  const int T = batch_.tokens(), H = c.hidden_size, V = c.vocab_size;
  cache_.clear();
  cache_.resize(c.num_layers);
  backend_.begin_step();
  // The LoRA GEMMs read each adapter's activation-type copies of A and B: refreshed once per adapter (a job's
  // segments are adjacent; a repeat would only cost a launch).
  for (size_t s = 0; s < batch_.segments.size(); ++s) {
    Adapter* a = batch_.segments[s].adapter;
    if (s == 0 || a != batch_.segments[s - 1].adapter) a->refresh_activation_copies();
  }
  Buffer x = activation(static_cast<size_t>(T) * H);
  backend_.embedding_forward(model_.embed.ptr(), batch_.ids.data(), T, H, x.ptr());
  for (int l = 0; l < c.num_layers; ++l) {
    cache_[l].x_in = std::move(x);
    layer_forward(l, cache_[l].x_in.ptr(), x);
    if (!keep_activations) cache_[l] = LayerCache();
    else drop_recomputable(l);
  }
  x_final = std::move(x);
  xf_ = activation(static_cast<size_t>(T) * H);
  rstd_f_ = stat(T);
  backend_.rmsnorm_forward(x_final.ptr(), model_.final_norm.ptr(), T, H, static_cast<float>(c.rms_norm_eps),
                           xf_.ptr(), rstd_f_.data());
  // The head's gradient w.r.t. xf is computed here at weight 1 per row; backward scales rows by their weights.
  Buffer loss = stat(T);
  if (keep_activations) dxf_ = activation(static_cast<size_t>(T) * H);
  backend_.lm_head_loss(xf_.ptr(), model_.lm_head, batch_.targets.data(), T, H, V, loss.data(), dxf_.ptr());
  row_loss_.resize(T);
  backend_.copy_to_host(row_loss_.data(), loss.ptr(), T);
}

void ModelStep::layer_forward(int l, ConstTypedPtr x_in, Buffer& x_out) {
  const ModelConfig& c = model_.config;
  const LayerWeights& w = model_.layers[l];
  LayerCache& lc = cache_[l];
  const int T = batch_.tokens(), H = c.hidden_size, D = c.head_dim;
  const int qd = c.num_heads * D, kvd = c.num_kv_heads * D;
  const float eps = static_cast<float>(c.rms_norm_eps);
  auto lin = [&](Proj p) -> LinearLora& { return linears_[l * kNumProj + static_cast<int>(p)]; };

  lc.h1 = activation(static_cast<size_t>(T) * H);
  lc.rstd1 = stat(T);
  backend_.rmsnorm_forward(x_in, w.input_norm.ptr(), T, H, eps, lc.h1.ptr(), lc.rstd1.data());
  lc.q = activation(static_cast<size_t>(T) * qd);
  lc.k = activation(static_cast<size_t>(T) * kvd);
  lc.v = activation(static_cast<size_t>(T) * kvd);
  lin(Proj::kQ).forward(batch_, lc.h1.ptr(), lc.q.ptr(), lc.lora[0]);
  lin(Proj::kK).forward(batch_, lc.h1.ptr(), lc.k.ptr(), lc.lora[1]);
  lin(Proj::kV).forward(batch_, lc.h1.ptr(), lc.v.ptr(), lc.lora[2]);
  backend_.rope_forward(lc.q.ptr(), batch_.positions.data(), T, c.num_heads, D, model_.inv_freq.data());
  backend_.rope_forward(lc.k.ptr(), batch_.positions.data(), T, c.num_kv_heads, D, model_.inv_freq.data());
  lc.attn = activation(static_cast<size_t>(T) * qd);
  lc.lse = stat(static_cast<size_t>(T) * c.num_heads);
  backend_.attention_forward(attention_shape(l), lc.q.ptr(), lc.k.ptr(), lc.v.ptr(), lc.attn.ptr(), lc.lse.data());

  Buffer scratch = activation(static_cast<size_t>(T) * H);
  lin(Proj::kO).forward(batch_, lc.attn.ptr(), scratch.ptr(), lc.lora[3]);
  lc.x_mid = activation(static_cast<size_t>(T) * H);
  backend_.copy(lc.x_mid.ptr(), x_in, static_cast<size_t>(T) * H);
  backend_.axpy(lc.x_mid.ptr(), scratch.ptr(), 1.0f, static_cast<size_t>(T) * H);

  lc.h2 = activation(static_cast<size_t>(T) * H);
  lc.rstd2 = stat(T);
  backend_.rmsnorm_forward(lc.x_mid.ptr(), w.post_norm.ptr(), T, H, eps, lc.h2.ptr(), lc.rstd2.data());
  mlp_in(l);
  lin(Proj::kDown).forward(batch_, lc.act.ptr(), scratch.ptr(), lc.lora[6]);
  x_out = activation(static_cast<size_t>(T) * H);
  backend_.copy(x_out.ptr(), lc.x_mid.ptr(), static_cast<size_t>(T) * H);
  backend_.axpy(x_out.ptr(), scratch.ptr(), 1.0f, static_cast<size_t>(T) * H);
}

void ModelStep::mlp_in(int l) {
  LayerCache& lc = cache_[l];
  const size_t n = static_cast<size_t>(batch_.tokens()) * model_.config.intermediate_size;
  lc.g = activation(n);
  lc.u = activation(n);
  linears_[l * kNumProj + static_cast<int>(Proj::kGate)].forward(batch_, lc.h2.ptr(), lc.g.ptr(), lc.lora[4]);
  linears_[l * kNumProj + static_cast<int>(Proj::kUp)].forward(batch_, lc.h2.ptr(), lc.u.ptr(), lc.lora[5]);
  lc.act = activation(n);
  backend_.swiglu_forward(lc.g.ptr(), lc.u.ptr(), lc.act.ptr(), n);
}

void ModelStep::drop_recomputable(int l) {
  LayerCache& lc = cache_[l];
  if (recompute_ >= Recompute::kNorms) {
    lc.h1.reset();
    lc.h2.reset();
  }
  if (recompute_ >= Recompute::kMlp) {
    lc.g.reset();
    lc.u.reset();
    lc.act.reset();
    lc.lora[4].clear();  // gate's and up's LoRA state comes back with the recomputation
    lc.lora[5].clear();
  }
}

std::vector<float> ModelStep::logits(int row_begin, int row_end) const {
  const int H = model_.config.hidden_size, V = model_.config.vocab_size, n = row_end - row_begin;
  Buffer out = backend_.alloc(static_cast<size_t>(n) * V, MemoryCategory::kActivations);
  backend_.gemm(false, true, n, V, H, 1.0f, xf_.ptr().at(static_cast<size_t>(row_begin) * H), H, model_.lm_head, H,
                0.0f, out.ptr(), V);
  std::vector<float> host(out.numel());
  backend_.copy_to_host(host.data(), out.ptr(), host.size());
  return host;
}

void ModelStep::backward(const std::vector<float>& row_weight) {
  const ModelConfig& c = model_.config;
  const int T = batch_.tokens(), H = c.hidden_size;
  Buffer weights = stat(T);
  backend_.copy_from_host(weights.ptr(), row_weight.data(), T);
  backend_.scale_rows(dxf_.ptr(), weights.data(), T, H);
  Buffer dx = gradient_sum(static_cast<size_t>(T) * H);
  backend_.rmsnorm_backward(dxf_.ptr(), x_final.ptr(), model_.final_norm.ptr(), rstd_f_.data(), T, H, dx.ptr());
  dxf_.reset();
  xf_.reset();
  x_final.reset();
  for (int l = c.num_layers - 1; l >= 0; --l) {
    layer_backward(l, dx);
    cache_[l] = LayerCache();
  }
}

// On entry dx is the gradient w.r.t. the layer's output; on exit, w.r.t. its input (the residual stream).
void ModelStep::layer_backward(int l, Buffer& dx) {
  const ModelConfig& c = model_.config;
  const LayerWeights& w = model_.layers[l];
  LayerCache& lc = cache_[l];
  const int T = batch_.tokens(), H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const int qd = c.num_heads * D, kvd = c.num_kv_heads * D;
  auto lin = [&](Proj p) -> LinearLora& { return linears_[l * kNumProj + static_cast<int>(p)]; };

  const float eps = static_cast<float>(c.rms_norm_eps);
  if (lc.h2.empty()) {  // recomputed (Recompute::kNorms and up)
    lc.h2 = activation(static_cast<size_t>(T) * H);
    backend_.rmsnorm_forward(lc.x_mid.ptr(), w.post_norm.ptr(), T, H, eps, lc.h2.ptr(), lc.rstd2.data());
  }
  if (lc.act.empty()) mlp_in(l);  // recomputed (Recompute::kMlp), LoRA saved state included
  {  // MLP block: x_out = x_mid + down(silu(gate(h2)) * up(h2)), h2 = rmsnorm(x_mid)
    Buffer dact = activation(static_cast<size_t>(T) * I);
    lin(Proj::kDown).backward(batch_, lc.act.ptr(), dx.ptr(), dact.ptr(), false, lc.lora[6]);
    Buffer dg = activation(static_cast<size_t>(T) * I);
    Buffer du = activation(static_cast<size_t>(T) * I);
    backend_.swiglu_backward(dact.ptr(), lc.g.ptr(), lc.u.ptr(), dg.ptr(), du.ptr(), static_cast<size_t>(T) * I);
    dact.reset();
    Buffer dh2 = activation(static_cast<size_t>(T) * H);
    lin(Proj::kGate).backward(batch_, lc.h2.ptr(), dg.ptr(), dh2.ptr(), false, lc.lora[4]);
    lin(Proj::kUp).backward(batch_, lc.h2.ptr(), du.ptr(), dh2.ptr(), true, lc.lora[5]);
    backend_.rmsnorm_backward(dh2.ptr(), lc.x_mid.ptr(), w.post_norm.ptr(), lc.rstd2.data(), T, H, dx.ptr());
  }
  if (lc.h1.empty()) {  // recomputed (Recompute::kNorms and up)
    lc.h1 = activation(static_cast<size_t>(T) * H);
    backend_.rmsnorm_forward(lc.x_in.ptr(), w.input_norm.ptr(), T, H, eps, lc.h1.ptr(), lc.rstd1.data());
  }
  {  // attention block: x_mid = x_in + o(attn(rope(q(h1)), rope(k(h1)), v(h1))), h1 = rmsnorm(x_in)
    Buffer dattn = activation(static_cast<size_t>(T) * qd);
    lin(Proj::kO).backward(batch_, lc.attn.ptr(), dx.ptr(), dattn.ptr(), false, lc.lora[3]);
    Buffer dq = activation(static_cast<size_t>(T) * qd);
    Buffer dk = activation(static_cast<size_t>(T) * kvd);
    Buffer dv = activation(static_cast<size_t>(T) * kvd);
    backend_.attention_backward(attention_shape(l), dattn.ptr(), lc.q.ptr(), lc.k.ptr(), lc.v.ptr(),
                                lc.attn.ptr(), lc.lse.data(), dq.ptr(), dk.ptr(), dv.ptr());
    dattn.reset();
    backend_.rope_backward(dq.ptr(), batch_.positions.data(), T, c.num_heads, D, model_.inv_freq.data());
    backend_.rope_backward(dk.ptr(), batch_.positions.data(), T, c.num_kv_heads, D, model_.inv_freq.data());
    Buffer dh1 = activation(static_cast<size_t>(T) * H);
    lin(Proj::kQ).backward(batch_, lc.h1.ptr(), dq.ptr(), dh1.ptr(), false, lc.lora[0]);
    lin(Proj::kK).backward(batch_, lc.h1.ptr(), dk.ptr(), dh1.ptr(), true, lc.lora[1]);
    lin(Proj::kV).backward(batch_, lc.h1.ptr(), dv.ptr(), dh1.ptr(), true, lc.lora[2]);
    backend_.rmsnorm_backward(dh1.ptr(), lc.x_in.ptr(), w.input_norm.ptr(), lc.rstd1.data(), T, H, dx.ptr());
  }
}

}  // namespace grove
