#include "cli/spec_loader.h"

#include <iostream>

#include "cli/backend_choice.h"

namespace grove::cli {

std::optional<LoadedSpec> load_spec_and_model(const std::string& spec_path) {
  auto spec = load_train_spec(spec_path);
  if (!spec.ok()) {
    std::cerr << "grove-engine: " << spec.status().to_string() << "\n";
    return std::nullopt;
  }
  auto made = make_backend(spec.value().backend, spec.value().threads, spec.value().device);
  if (!made.ok()) {
    std::cerr << "grove-engine: " << made.status().to_string() << "\n";
    return std::nullopt;
  }
  std::unique_ptr<Backend> backend = std::move(made).value();
  auto model = load_model(spec.value().model, *backend);
  if (!model.ok()) {
    std::cerr << "grove-engine: " << model.status().to_string() << "\n";
    return std::nullopt;
  }
  return LoadedSpec{std::move(spec.value()), std::move(backend), std::move(model.value())};
}

}  // namespace grove::cli
