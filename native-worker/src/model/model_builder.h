// Builds a Model in backend memory from any source of named fp32 tensors: a model folder's safetensors files
// (load_model) or generated random weights (random_model).
#pragma once

#include <string>
#include <vector>

#include "grove/model.h"

namespace grove {

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual bool has(const std::string& name) const = 0;
  // Fills `out` with the tensor `name`, which must have shape `expected`.
  virtual Status read(const std::string& name, const std::vector<int64_t>& expected, std::vector<float>* out) = 0;
};

StatusOr<Model> build_model(const ModelConfig& config, TensorSource& source, Backend& backend);

}  // namespace grove
