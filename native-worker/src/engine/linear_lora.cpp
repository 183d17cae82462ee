#include "engine/linear_lora.h"

#include <string>

#include "grove/rng.h"

namespace grove {

ConstTypedPtr LoraSaved::a_op() const {
  return module->a_act.empty() ? ConstTypedPtr(module->a.value.ptr()) : ConstTypedPtr(module->a_act.ptr());
}
ConstTypedPtr LoraSaved::b_op() const {
  return module->b_act.empty() ? ConstTypedPtr(module->b.value.ptr()) : ConstTypedPtr(module->b_act.ptr());
}

uint64_t LinearLora::dropout_key(const JobSegment& seg) const {
  return hash_combine(seg.dropout_key, static_cast<uint64_t>(layer_) * kNumProj + static_cast<int>(proj_));
}

void LinearLora::forward(const FusedBatch& batch, ConstTypedPtr x, TypedPtr y, std::vector<LoraSaved>& saved) {
  const int T = batch.tokens(), in = linear_.in, out = linear_.out;
  backend_.gemm(false, true, T, out, in, 1.0f, x, in, linear_.weight.ptr(), in, 0.0f, y, out);
  if (!linear_.bias.empty()) backend_.add_bias(y, linear_.bias.ptr(), T, out);
  saved.clear();
  saved.resize(batch.segments.size());
  // Shrink u = dropout(x) A^T, then expand y += scale u B^T, each for every segment at once.
  std::vector<GemmGroup> lora = {{false, true, {}}, {false, true, {}}};
  for (size_t s = 0; s < batch.segments.size(); ++s) {
    const JobSegment& seg = batch.segments[s];
    LoraModule* mod = seg.adapter->find(layer_, proj_);
    const int n = seg.row_end - seg.row_begin;
    if (mod == nullptr || n == 0) continue;
    const LoraConfig& cfg = seg.adapter->config();
    const int r = cfg.r;
    LoraSaved& sv = saved[s];
    sv.module = mod;
    ConstTypedPtr xs = x.at(static_cast<size_t>(seg.row_begin) * in);
    if (batch.training && cfg.dropout > 0.0) {
      sv.x_dropped =
          backend_.alloc_for_overwrite(static_cast<size_t>(n) * in, MemoryCategory::kActivations, x.dtype);
      backend_.dropout(xs, sv.x_dropped.ptr(), sv.x_dropped.numel(), static_cast<float>(cfg.dropout), dropout_key(seg));
      xs = sv.x_dropped.ptr();
    }
    if (backend_.activation_dtype() != DType::kF32 && mod->a_act.empty()) {
      throw BackendError("LoRA layer " + std::to_string(layer_) + ": the adapter's activation-type copies were not "
                         "made before the forward pass (Adapter::refresh_activation_copies)");
    }
    sv.u = backend_.alloc_for_overwrite(static_cast<size_t>(n) * r, MemoryCategory::kActivations,
                                        backend_.activation_dtype());
    lora[0].problems.push_back({n, r, in, 1.0f, xs, in, sv.a_op(), in, 0.0f, sv.u.ptr(), r});
    lora[1].problems.push_back({n, out, r, seg.adapter->scale(), sv.u.ptr(), r, sv.b_op(), r, 1.0f,
                                y.at(static_cast<size_t>(seg.row_begin) * out), out});
  }
  backend_.gemm_grouped(lora);
}

void LinearLora::backward(const FusedBatch& batch, ConstTypedPtr x, ConstTypedPtr dy, TypedPtr dx, bool accumulate,
                          std::vector<LoraSaved>& saved) {
  const int T = batch.tokens(), in = linear_.in, out = linear_.out;
  backend_.gemm(false, false, T, in, out, 1.0f, dy, out, linear_.weight.ptr(), in, accumulate ? 1.0f : 0.0f, dx, in);
  // dB += scale dy^T u; du = scale dy B; dA += du^T dropout(x); dx[seg] += du A (segments without dropout).
  std::vector<GemmGroup> lora = {{true, false, {}}, {false, false, {}}, {true, false, {}}, {false, false, {}}};
  std::vector<Buffer> du(batch.segments.size());
  std::vector<size_t> dropped;  // segments whose input gradient goes back through dropout, one at a time
  for (size_t s = 0; s < batch.segments.size(); ++s) {
    LoraSaved& sv = saved[s];
    if (sv.module == nullptr) continue;
    const JobSegment& seg = batch.segments[s];
    const int n = seg.row_end - seg.row_begin, r = seg.adapter->config().r;
    const float scale = seg.adapter->scale();
    LoraModule* mod = sv.module;
    ConstTypedPtr dys = dy.at(static_cast<size_t>(seg.row_begin) * out);
    ConstTypedPtr xs = sv.x_dropped.empty() ? x.at(static_cast<size_t>(seg.row_begin) * in) : sv.x_dropped.ptr();
    du[s] = backend_.alloc_for_overwrite(static_cast<size_t>(n) * r, MemoryCategory::kActivations, sv.u.dtype());
    lora[0].problems.push_back({out, r, n, scale, dys, out, sv.u.ptr(), r, 1.0f, mod->b.grad.data(), r});
    lora[1].problems.push_back({n, r, out, scale, dys, out, sv.b_op(), r, 0.0f, du[s].ptr(), r});
    lora[2].problems.push_back({r, in, n, 1.0f, du[s].ptr(), r, xs, in, 1.0f, mod->a.grad.data(), in});
    if (sv.x_dropped.empty()) {
      lora[3].problems.push_back({n, in, r, 1.0f, du[s].ptr(), r, sv.a_op(), in, 1.0f,
                                  dx.at(static_cast<size_t>(seg.row_begin) * in), in});
    } else {
      dropped.push_back(s);
    }
  }
  backend_.gemm_grouped(lora);
  for (size_t s : dropped) {
    // The gradient through dropout is the same mask and scale applied to d(dropout output). One segment at a
    // time, so only one segment's [n, in] temporary is alive.
    const JobSegment& seg = batch.segments[s];
    const LoraSaved& sv = saved[s];
    const int n = seg.row_end - seg.row_begin, r = seg.adapter->config().r;
    const float p = static_cast<float>(seg.adapter->config().dropout);
    Buffer dxd = backend_.alloc_for_overwrite(static_cast<size_t>(n) * in, MemoryCategory::kActivations, dx.dtype);
    backend_.gemm(false, false, n, in, r, 1.0f, du[s].ptr(), r, sv.a_op(), in, 0.0f, dxd.ptr(), in);
    backend_.dropout(dxd.ptr(), dxd.ptr(), dxd.numel(), p, dropout_key(seg));
    backend_.axpy(dx.at(static_cast<size_t>(seg.row_begin) * in), dxd.ptr(), 1.0f, dxd.numel());
  }
  for (LoraSaved& sv : saved) sv = LoraSaved();
}

}  // namespace grove
