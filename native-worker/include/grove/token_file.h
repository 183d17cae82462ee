// The `.gtok` token file (docs/token-file.md at the repository root): token ids, loss mask and example boundaries.
// Read fully validated (magic, version, sizes, offsets) into memory; write is used by tools and tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grove/status.h"

namespace grove {

struct TokenData {
  std::vector<uint64_t> offsets;  // n_examples + 1
  std::vector<uint32_t> tokens;
  std::vector<uint8_t> mask;
  size_t num_examples() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  size_t example_length(size_t i) const { return static_cast<size_t>(offsets[i + 1] - offsets[i]); }
};

StatusOr<TokenData> read_token_file(const std::string& path);
Status write_token_file(const std::string& path, const TokenData& data);
// Largest token id in the file (for checking against a model's vocabulary).
uint32_t max_token_id(const TokenData& data);

}  // namespace grove
