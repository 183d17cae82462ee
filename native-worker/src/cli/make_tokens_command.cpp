// `make-tokens IN.jsonl OUT.gtok`: builds a token file from pre-tokenised JSONL, one example per line:
// {"tokens": [ids...], "mask": [0/1...]} or {"prompt": [ids...], "completion": [ids...]} (mask 1 on completion).
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "grove/token_file.h"

namespace grove::cli {

namespace {

Status append_example(const nlohmann::json& j, TokenData& data) {
  auto ids = [](const nlohmann::json& a, std::vector<uint32_t>& out) {
    if (!a.is_array()) return false;
    for (const auto& v : a) {
      if (!v.is_number_unsigned()) return false;
      out.push_back(v.get<uint32_t>());
    }
    return true;
  };
  std::vector<uint32_t> tokens, part;
  std::vector<uint8_t> mask;
  if (j.contains("tokens")) {
    if (!ids(j["tokens"], tokens) || !j.contains("mask") || !j["mask"].is_array() || j["mask"].size() != tokens.size()) {
      return make_error(ErrorCode::kInvalidArgument, "'tokens' must be token ids and 'mask' 0/1 values of the same length");
    }
    for (const auto& m : j["mask"]) mask.push_back(m.get<int>() != 0);
  } else if (j.contains("prompt") && j.contains("completion")) {
    if (!ids(j["prompt"], tokens)) return make_error(ErrorCode::kInvalidArgument, "'prompt' must be token ids");
    mask.assign(tokens.size(), 0);
    if (!ids(j["completion"], part)) return make_error(ErrorCode::kInvalidArgument, "'completion' must be token ids");
    tokens.insert(tokens.end(), part.begin(), part.end());
    mask.resize(tokens.size(), 1);
  } else {
    return make_error(ErrorCode::kInvalidArgument, "needs 'tokens' + 'mask' or 'prompt' + 'completion'");
  }
  if (tokens.size() < 2) return make_error(ErrorCode::kInvalidArgument, "an example needs at least 2 tokens");
  data.tokens.insert(data.tokens.end(), tokens.begin(), tokens.end());
  data.mask.insert(data.mask.end(), mask.begin(), mask.end());
  data.offsets.push_back(data.tokens.size());
  return Status();
}

}  // namespace

int make_tokens_command(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    std::cerr << "usage: grove-engine make-tokens IN.jsonl OUT.gtok\n";
    return 2;
  }
  std::ifstream in(args[0]);
  if (!in) {
    std::cerr << "grove-engine: cannot open " << args[0] << "\n";
    return 1;
  }
  TokenData data;
  data.offsets.push_back(0);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    Status st = j.is_discarded() ? make_error(ErrorCode::kInvalidArgument, "not valid JSON") : append_example(j, data);
    if (!st.ok()) {
      std::cerr << "grove-engine: " << args[0] << ":" << n << ": " << st.message() << "\n";
      return 1;
    }
  }
  if (data.num_examples() == 0) {
    std::cerr << "grove-engine: " << args[0] << " has no examples\n";
    return 1;
  }
  Status st = write_token_file(args[1], data);
  if (!st.ok()) {
    std::cerr << "grove-engine: " << st.to_string() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace grove::cli
