#include <iostream>

#include "cli/commands.h"

namespace grove::cli {

int serve_command(const std::vector<std::string>& args) {
  std::cerr << "serve: not built yet\n";
  return 2;
}

}  // namespace grove::cli
