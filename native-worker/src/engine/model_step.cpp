#include "engine/model_step.h"

#include <cmath>

namespace grove {

ModelStep::ModelStep(Backend& backend, const Model& model, const FusedBatch& batch)
    : backend_(backend), model_(model), batch_(batch) {
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
  Buffer x = activation(static_cast<size_t>(T) * H);
  backend_.embedding_forward(model_.embed.data(), batch_.ids.data(), T, H, x.data());
  for (int l = 0; l < c.num_layers; ++l) {
    cache_[l].x_in = std::move(x);
    layer_forward(l, cache_[l].x_in.data(), x);
    if (!keep_activations) cache_[l] = LayerCache();
  }
  x_final = std::move(x);
  xf_ = activation(static_cast<size_t>(T) * H);
  rstd_f_ = activation(T);
  backend_.rmsnorm_forward(x_final.data(), model_.final_norm.data(), T, H, static_cast<float>(c.rms_norm_eps),
                           xf_.data(), rstd_f_.data());
  logits_ = activation(static_cast<size_t>(T) * V);
  backend_.gemm(false, true, T, V, H, 1.0f, xf_.data(), H, model_.lm_head, H, 0.0f, logits_.data(), V);
  Buffer loss = activation(T);
  lse_ = activation(T);
  backend_.cross_entropy_forward(logits_.data(), batch_.targets.data(), T, V, loss.data(), lse_.data());
  row_loss_.resize(T);
  backend_.copy_to_host(row_loss_.data(), loss.data(), T);
}

void ModelStep::layer_forward(int l, const float* x_in, Buffer& x_out) {
  const ModelConfig& c = model_.config;
  const LayerWeights& w = model_.layers[l];
  LayerCache& lc = cache_[l];
  const int T = batch_.tokens(), H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const int qd = c.num_heads * D, kvd = c.num_kv_heads * D;
  const float eps = static_cast<float>(c.rms_norm_eps);
  auto lin = [&](Proj p) -> LinearLora& { return linears_[l * kNumProj + static_cast<int>(p)]; };

  lc.h1 = activation(static_cast<size_t>(T) * H);
  lc.rstd1 = activation(T);
  backend_.rmsnorm_forward(x_in, w.input_norm.data(), T, H, eps, lc.h1.data(), lc.rstd1.data());
  lc.q = activation(static_cast<size_t>(T) * qd);
  lc.k = activation(static_cast<size_t>(T) * kvd);
  lc.v = activation(static_cast<size_t>(T) * kvd);
  lin(Proj::kQ).forward(batch_, lc.h1.data(), lc.q.data(), lc.lora[0]);
  lin(Proj::kK).forward(batch_, lc.h1.data(), lc.k.data(), lc.lora[1]);
  lin(Proj::kV).forward(batch_, lc.h1.data(), lc.v.data(), lc.lora[2]);
  backend_.rope_forward(lc.q.data(), batch_.positions.data(), T, c.num_heads, D, model_.inv_freq.data());
  backend_.rope_forward(lc.k.data(), batch_.positions.data(), T, c.num_kv_heads, D, model_.inv_freq.data());
  lc.attn = activation(static_cast<size_t>(T) * qd);
  lc.lse = activation(static_cast<size_t>(T) * c.num_heads);
  backend_.attention_forward(attention_shape(l), lc.q.data(), lc.k.data(), lc.v.data(), lc.attn.data(), lc.lse.data());

  Buffer scratch = activation(static_cast<size_t>(T) * H);
  lin(Proj::kO).forward(batch_, lc.attn.data(), scratch.data(), lc.lora[3]);
  lc.x_mid = activation(static_cast<size_t>(T) * H);
  backend_.copy(lc.x_mid.data(), x_in, static_cast<size_t>(T) * H);
  backend_.axpy(lc.x_mid.data(), scratch.data(), 1.0f, static_cast<size_t>(T) * H);

  lc.h2 = activation(static_cast<size_t>(T) * H);
  lc.rstd2 = activation(T);
  backend_.rmsnorm_forward(lc.x_mid.data(), w.post_norm.data(), T, H, eps, lc.h2.data(), lc.rstd2.data());
  lc.g = activation(static_cast<size_t>(T) * I);
  lc.u = activation(static_cast<size_t>(T) * I);
  lin(Proj::kGate).forward(batch_, lc.h2.data(), lc.g.data(), lc.lora[4]);
  lin(Proj::kUp).forward(batch_, lc.h2.data(), lc.u.data(), lc.lora[5]);
  lc.act = activation(static_cast<size_t>(T) * I);
  backend_.swiglu_forward(lc.g.data(), lc.u.data(), lc.act.data(), static_cast<size_t>(T) * I);
  lin(Proj::kDown).forward(batch_, lc.act.data(), scratch.data(), lc.lora[6]);
  x_out = activation(static_cast<size_t>(T) * H);
  backend_.copy(x_out.data(), lc.x_mid.data(), static_cast<size_t>(T) * H);
  backend_.axpy(x_out.data(), scratch.data(), 1.0f, static_cast<size_t>(T) * H);
}

std::vector<float> ModelStep::logits(int row_begin, int row_end) const {
  const size_t V = static_cast<size_t>(model_.config.vocab_size);
  std::vector<float> host(static_cast<size_t>(row_end - row_begin) * V);
  backend_.copy_to_host(host.data(), logits_.data() + static_cast<size_t>(row_begin) * V, host.size());
  return host;
}

void ModelStep::backward(const std::vector<float>& row_weight) {
  const ModelConfig& c = model_.config;
  const int T = batch_.tokens(), H = c.hidden_size, V = c.vocab_size;
  Buffer weights = activation(T);
  backend_.copy_from_host(weights.data(), row_weight.data(), T);
  backend_.cross_entropy_backward(logits_.data(), batch_.targets.data(), weights.data(), lse_.data(), T, V);
  Buffer dxf = activation(static_cast<size_t>(T) * H);
  backend_.gemm(false, false, T, H, V, 1.0f, logits_.data(), V, model_.lm_head, H, 0.0f, dxf.data(), H);
  logits_.reset();
  Buffer dx = activation(static_cast<size_t>(T) * H);
  backend_.rmsnorm_backward(dxf.data(), x_final.data(), model_.final_norm.data(), rstd_f_.data(), T, H, dx.data());
  dxf.reset();
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

  {  // MLP block: x_out = x_mid + down(silu(gate(h2)) * up(h2)), h2 = rmsnorm(x_mid)
    Buffer dact = activation(static_cast<size_t>(T) * I);
    lin(Proj::kDown).backward(batch_, lc.act.data(), dx.data(), dact.data(), false, lc.lora[6]);
    Buffer dg = activation(static_cast<size_t>(T) * I);
    Buffer du = activation(static_cast<size_t>(T) * I);
    backend_.swiglu_backward(dact.data(), lc.g.data(), lc.u.data(), dg.data(), du.data(), static_cast<size_t>(T) * I);
    dact.reset();
    Buffer dh2 = activation(static_cast<size_t>(T) * H);
    lin(Proj::kGate).backward(batch_, lc.h2.data(), dg.data(), dh2.data(), false, lc.lora[4]);
    lin(Proj::kUp).backward(batch_, lc.h2.data(), du.data(), dh2.data(), true, lc.lora[5]);
    backend_.rmsnorm_backward(dh2.data(), lc.x_mid.data(), w.post_norm.data(), lc.rstd2.data(), T, H, dx.data());
  }
  {  // attention block: x_mid = x_in + o(attn(rope(q(h1)), rope(k(h1)), v(h1))), h1 = rmsnorm(x_in)
    Buffer dattn = activation(static_cast<size_t>(T) * qd);
    lin(Proj::kO).backward(batch_, lc.attn.data(), dx.data(), dattn.data(), false, lc.lora[3]);
    Buffer dq = activation(static_cast<size_t>(T) * qd);
    Buffer dk = activation(static_cast<size_t>(T) * kvd);
    Buffer dv = activation(static_cast<size_t>(T) * kvd);
    backend_.attention_backward(attention_shape(l), dattn.data(), lc.q.data(), lc.k.data(), lc.v.data(),
                                lc.attn.data(), lc.lse.data(), dq.data(), dk.data(), dv.data());
    dattn.reset();
    backend_.rope_backward(dq.data(), batch_.positions.data(), T, c.num_heads, D, model_.inv_freq.data());
    backend_.rope_backward(dk.data(), batch_.positions.data(), T, c.num_kv_heads, D, model_.inv_freq.data());
    Buffer dh1 = activation(static_cast<size_t>(T) * H);
    lin(Proj::kQ).backward(batch_, lc.h1.data(), dq.data(), dh1.data(), false, lc.lora[0]);
    lin(Proj::kK).backward(batch_, lc.h1.data(), dk.data(), dh1.data(), true, lc.lora[1]);
    lin(Proj::kV).backward(batch_, lc.h1.data(), dv.data(), dh1.data(), true, lc.lora[2]);
    backend_.rmsnorm_backward(dh1.data(), lc.x_in.data(), w.input_norm.data(), lc.rstd1.data(), T, H, dx.data());
  }
}

}  // namespace grove
