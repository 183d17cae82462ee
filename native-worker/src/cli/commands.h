// The grove-engine subcommands. Each returns the process exit code and prints errors to stderr.
#pragma once

#include <string>
#include <vector>

namespace grove::cli {

int train_command(const std::vector<std::string>& args);
int dump_command(const std::vector<std::string>& args);
int serve_command(const std::vector<std::string>& args);
int make_tokens_command(const std::vector<std::string>& args);
int make_model_command(const std::vector<std::string>& args);

}  // namespace grove::cli
