// `make-model CONFIG.json OUT_DIR [--seed N]`: a random-weight model folder for a config.json.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "grove/file_util.h"
#include "grove/random_model.h"

namespace grove::cli {

int make_model_command(const std::vector<std::string>& args) {
  if (args.size() != 2 && !(args.size() == 4 && args[2] == "--seed")) {
    std::cerr << "usage: grove-engine make-model CONFIG.json OUT_DIR [--seed N]\n";
    return 2;
  }
  auto text = read_text_file(args[0]);
  if (!text.ok()) {
    std::cerr << "grove-engine: " << text.status().to_string() << "\n";
    return 1;
  }
  auto config = nlohmann::json::parse(text.value(), nullptr, false);
  if (config.is_discarded()) {
    std::cerr << "grove-engine: " << args[0] << " is not valid JSON\n";
    return 1;
  }
  const uint64_t seed = args.size() == 4 ? std::stoull(args[3]) : 0;
  Status st = write_random_model(config, args[1], seed);
  if (!st.ok()) {
    std::cerr << "grove-engine: " << st.to_string() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace grove::cli
