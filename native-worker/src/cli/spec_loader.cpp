#include "cli/spec_loader.h"

#include <iostream>

namespace grove::cli {

std::optional<LoadedSpec> load_spec_and_model(const std::string& spec_path) {
  auto spec = load_train_spec(spec_path);
  if (!spec.ok()) {
    std::cerr << "grove-engine: " << spec.status().to_string() << "\n";
    return std::nullopt;
  }
  auto backend = make_cpu_backend(spec.value().threads);
  auto model = load_model(spec.value().model, *backend);
  if (!model.ok()) {
    std::cerr << "grove-engine: " << model.status().to_string() << "\n";
    return std::nullopt;
  }
  return LoadedSpec{std::move(spec.value()), std::move(backend), std::move(model.value())};
}

}  // namespace grove::cli
