// One job's LoRA adapter: for every (layer, target projection) an A [r, in] and B [out, r] with their gradients
// and AdamW moments, all in backend memory. PEFT key names and file formats live in peft_io.h.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "grove/backend.h"
#include "grove/job_spec.h"
#include "grove/model.h"

namespace grove {

struct LoraParam {
  Buffer value, grad, m, v;
  size_t numel() const { return value.numel(); }
};

struct LoraModule {
  int layer = 0;
  Proj proj = Proj::kQ;
  int in = 0;
  int out = 0;
  LoraParam a;  // [r, in]
  LoraParam b;  // [out, r]
  // A and B in the backend's activation type when that is not fp32 (bf16 on a GPU), what the LoRA GEMMs read;
  // refreshed from the fp32 values before every forward pass. Empty on an fp32 backend.
  Buffer a_act, b_act;

  LoraParam& param(char which) { return which == 'A' ? a : b; }
  const LoraParam& param(char which) const { return which == 'A' ? a : b; }
  std::vector<int64_t> shape(char which, int64_t r) const {
    return which == 'A' ? std::vector<int64_t>{r, in} : std::vector<int64_t>{out, r};
  }
};

class Adapter {
 public:
  // Allocates zeroed A, B, grads and moments for every targeted projection of every layer.
  Adapter(Backend& backend, const Model& model, const LoraConfig& config);

  const LoraConfig& config() const { return config_; }
  float scale() const { return scale_; }
  std::vector<LoraModule>& modules() { return modules_; }
  const std::vector<LoraModule>& modules() const { return modules_; }
  // The module for (layer, proj), or nullptr when the job does not target that projection.
  LoraModule* find(int layer, Proj proj);

  // PEFT default init: A ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)) drawn from the seed, B = 0.
  void init_default(uint64_t seed);
  void zero_grads();
  // Rounds every module's fp32 A and B into a_act, b_act (allocated on first use) in one backend call; nothing on
  // an fp32 backend. Called before each forward pass, so the copies always hold the current weights.
  void refresh_activation_copies();

 private:
  Backend& backend_;
  LoraConfig config_;
  float scale_;
  std::vector<LoraModule> modules_;
  std::vector<std::array<int, kNumProj>> index_;  // [layer][proj] -> module index or -1
};

// PEFT's name for a LoRA weight: base_model.model.model.layers.<l>.<parent>.<proj>.lora_<A|B>.weight
std::string peft_key(int layer, Proj proj, char which);

}  // namespace grove
