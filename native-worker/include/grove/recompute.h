// Selective recomputation: which activations a training step drops in forward and recomputes in backward.
#pragma once

#include <string>

namespace grove {

// Which activations forward drops and backward recomputes, trading compute for memory:
//   kNone   keep everything;
//   kNorms  drop both RMSNorm outputs per layer (2 x [T, hidden]); backward recomputes them (two cheap kernels);
//   kMlp    also drop the MLP's gate, up and SwiGLU outputs (3 x [T, intermediate], the largest activations);
//           backward recomputes them: the gate and up projections (with LoRA) run twice, ~+20% FLOPs.
// Results are the same as kNone: recomputation repeats the same ops on the same inputs.
enum class Recompute { kNone = 0, kNorms = 1, kMlp = 2 };
const char* recompute_name(Recompute r);
bool parse_recompute(const std::string& name, Recompute* out);

}  // namespace grove
