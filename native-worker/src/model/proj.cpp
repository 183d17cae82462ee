#include "grove/model.h"

namespace grove {

const char* proj_name(Proj p) {
  static const char* names[kNumProj] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  return names[static_cast<int>(p)];
}

const char* proj_parent(Proj p) { return static_cast<int>(p) <= static_cast<int>(Proj::kO) ? "self_attn" : "mlp"; }

bool parse_proj(const std::string& name, Proj* out) {
  for (int i = 0; i < kNumProj; ++i) {
    if (name == proj_name(static_cast<Proj>(i))) {
      *out = static_cast<Proj>(i);
      return true;
    }
  }
  return false;
}

int Model::proj_in(Proj p) const {
  const auto& c = config;
  switch (p) {
    case Proj::kO: return c.num_heads * c.head_dim;
    case Proj::kDown: return c.intermediate_size;
    default: return c.hidden_size;
  }
}

int Model::proj_out(Proj p) const {
  const auto& c = config;
  switch (p) {
    case Proj::kQ: return c.num_heads * c.head_dim;
    case Proj::kK:
    case Proj::kV: return c.num_kv_heads * c.head_dim;
    case Proj::kGate:
    case Proj::kUp: return c.intermediate_size;
    default: return c.hidden_size;
  }
}

}  // namespace grove
