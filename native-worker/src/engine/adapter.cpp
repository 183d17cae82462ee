#include "grove/adapter.h"

#include <cmath>

#include "grove/rng.h"

namespace grove {

std::string peft_key(int layer, Proj proj, char which) {
  return "base_model.model.model.layers." + std::to_string(layer) + "." + proj_parent(proj) + "." + proj_name(proj) +
         ".lora_" + which + ".weight";
}

Adapter::Adapter(Backend& backend, const Model& model, const LoraConfig& config)
    : backend_(backend), config_(config), scale_(config.scale()) {
  const int layers = model.config.num_layers;
  index_.assign(layers, {});
  for (auto& row : index_) row.fill(-1);
  for (int l = 0; l < layers; ++l) {
    // Modules follow the model's order (q, k, v, o, gate, up, down), not the spec's, so files are stable.
    for (int p = 0; p < kNumProj; ++p) {
      bool targeted = false;
      for (const auto& name : config.target_modules) targeted |= name == proj_name(static_cast<Proj>(p));
      if (!targeted) continue;
      LoraModule m;
      m.layer = l;
      m.proj = static_cast<Proj>(p);
      m.in = model.proj_in(m.proj);
      m.out = model.proj_out(m.proj);
      for (LoraParam* param : {&m.a, &m.b}) {
        const size_t n = static_cast<size_t>(config.r) * (param == &m.a ? m.in : m.out);
        param->value = backend.alloc(n, MemoryCategory::kAdapterOptimizer);
        param->grad = backend.alloc(n, MemoryCategory::kAdapterOptimizer);
        param->m = backend.alloc(n, MemoryCategory::kAdapterOptimizer);
        param->v = backend.alloc(n, MemoryCategory::kAdapterOptimizer);
      }
      index_[l][p] = static_cast<int>(modules_.size());
      modules_.push_back(std::move(m));
    }
  }
}

LoraModule* Adapter::find(int layer, Proj proj) {
  const int i = index_[layer][static_cast<int>(proj)];
  return i < 0 ? nullptr : &modules_[i];
}

void Adapter::init_default(uint64_t seed) {
  const uint64_t key = stream_key(seed, RngStream::kLoraInit);
  std::vector<float> host;
  for (auto& m : modules_) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(m.in));
    host.resize(m.a.numel());
    const uint64_t module_key = hash_combine(key, static_cast<uint64_t>(m.layer) * kNumProj + static_cast<int>(m.proj));
    for (size_t i = 0; i < host.size(); ++i) host[i] = (2.0f * uniform01(hash_combine(module_key, i)) - 1.0f) * bound;
    backend_.copy_from_host(m.a.value.data(), host.data(), host.size());
    backend_.fill(m.b.value.data(), 0.0f, m.b.numel());
  }
}

void Adapter::refresh_activation_copies() {
  const DType act = backend_.activation_dtype();
  if (act == DType::kF32) return;
  std::vector<TensorCopy> copies;
  for (auto& m : modules_) {
    if (m.a_act.empty()) m.a_act = backend_.alloc(m.a.numel(), MemoryCategory::kActivations, act);
    if (m.b_act.empty()) m.b_act = backend_.alloc(m.b.numel(), MemoryCategory::kActivations, act);
    copies.push_back({m.a_act.ptr(), m.a.value.ptr(), m.a.numel()});
    copies.push_back({m.b_act.ptr(), m.b.value.ptr(), m.b.numel()});
  }
  backend_.copy(copies);
}

void Adapter::zero_grads() {
  for (auto& m : modules_) {
    backend_.fill(m.a.grad.data(), 0.0f, m.a.numel());
    backend_.fill(m.b.grad.data(), 0.0f, m.b.numel());
  }
}

}  // namespace grove
