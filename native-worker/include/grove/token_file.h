// The `.gtok` token file (docs/token-file.md at the repository root): token ids, loss mask and example boundaries.
// Read memory-mapped and fully validated (magic, version, sizes, offsets, mask); jobs read examples straight from the
// mapping. TokenData is the in-memory form that tools and tests build and write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grove/mapped_file.h"
#include "grove/status.h"

namespace grove {

// Read-only view of token data, wherever it lives.
struct TokenView {
  const uint64_t* offsets = nullptr;  // n_examples + 1
  const uint32_t* tokens = nullptr;
  const uint8_t* mask = nullptr;
  size_t n_examples = 0;
  size_t n_tokens = 0;
  size_t num_examples() const { return n_examples; }
};

struct TokenData {
  std::vector<uint64_t> offsets;  // n_examples + 1
  std::vector<uint32_t> tokens;
  std::vector<uint8_t> mask;
  size_t num_examples() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  TokenView view() const { return {offsets.data(), tokens.data(), mask.data(), num_examples(), tokens.size()}; }
};

// A validated token file, memory-mapped (the layout's fields are naturally aligned, so the view points into it).
class TokenFile {
 public:
  const TokenView& view() const { return view_; }

 private:
  friend StatusOr<TokenFile> read_token_file(const std::string& path);
  MappedFile file_;
  TokenView view_;
};

StatusOr<TokenFile> read_token_file(const std::string& path);
Status write_token_file(const std::string& path, const TokenData& data);
// Largest token id (for checking against a model's vocabulary).
uint32_t max_token_id(const TokenView& data);

}  // namespace grove
