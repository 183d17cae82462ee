// grove-engine: the multi-LoRA training engine's executable. See native-worker/README.md for the commands.
#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "grove/backend.h"

namespace {

const char* kUsage =
    "usage:\n"
    "  grove-engine train SPEC.json             run every job of the spec to completion\n"
    "  grove-engine dump SPEC.json OUT_DIR      one fused forward+backward, tensors per job to OUT_DIR/<id>.safetensors\n"
    "  grove-engine serve --model DIR [--backend cpu|cuda] [--device N] [--threads N] [--memory-limit BYTES]\n"
    "                                           [--recompute none|norms|mlp]\n"
    "                                           JSON-lines protocol on stdin/stdout (docs/serve-protocol.md)\n"
    "  grove-engine make-tokens IN.jsonl OUT.gtok     token file from JSONL {\"tokens\": [...], \"mask\": [...]}\n"
    "  grove-engine make-model CONFIG.json OUT_DIR [--seed N]   random-weight model (benchmarks, tests)\n";

int run(const std::string& command, const std::vector<std::string>& args) {
  if (command == "train") return grove::cli::train_command(args);
  if (command == "dump") return grove::cli::dump_command(args);
  if (command == "serve") return grove::cli::serve_command(args);
  if (command == "make-tokens") return grove::cli::make_tokens_command(args);
  if (command == "make-model") return grove::cli::make_model_command(args);
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "grove-engine: unknown command '" << command << "'\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    return run(command, args);
  } catch (const grove::BackendError& e) {
    std::cerr << "grove-engine: backend error: " << e.what() << "\n";
    return 1;
  }
}
