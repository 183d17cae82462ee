#include "grove/token_file.h"

#include <algorithm>
#include <cstring>

#include "grove/file_util.h"
#include "grove/mapped_file.h"

namespace grove {

namespace {
constexpr char kMagic[8] = {'G', 'R', 'O', 'V', 'E', 'T', 'O', 'K'};
constexpr size_t kHeaderBytes = 32;

template <typename T>
T read_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace

StatusOr<TokenFile> read_token_file(const std::string& path) {
  TokenFile result;
  GROVE_ASSIGN_OR_RETURN(result.file_, MappedFile::open(path));
  const MappedFile& file = result.file_;
  auto corrupt = [&](const std::string& why) { return make_error(ErrorCode::kCorruptFile, path + ": " + why); };
  if (file.size() == 0) return corrupt("empty token file");
  if (file.size() < kHeaderBytes) return corrupt("truncated token file (" + std::to_string(file.size()) + " bytes, header needs 32)");
  const uint8_t* p = file.data();
  if (std::memcmp(p, kMagic, 8) != 0) return corrupt("not a token file (magic is not GROVETOK)");
  const uint32_t version = read_le<uint32_t>(p + 8);
  if (version != 1) return corrupt("unsupported token file version " + std::to_string(version));
  const uint64_t n_examples = read_le<uint64_t>(p + 16);
  const uint64_t n_tokens = read_le<uint64_t>(p + 24);
  if (n_examples == 0) return corrupt("token file has no examples");
  // Guard the size arithmetic against absurd counts before multiplying.
  if (n_examples > file.size() / 8 || n_tokens > file.size() / 5) {
    return corrupt("header counts (" + std::to_string(n_examples) + " examples, " + std::to_string(n_tokens) +
                   " tokens) do not fit the file size " + std::to_string(file.size()));
  }
  const uint64_t expected = kHeaderBytes + 8 * (n_examples + 1) + 5 * n_tokens;
  if (file.size() != expected) {
    return corrupt("file size " + std::to_string(file.size()) + " != expected " + std::to_string(expected) +
                   " for " + std::to_string(n_examples) + " examples and " + std::to_string(n_tokens) + " tokens");
  }
  // The mapping is page-aligned and every field starts at a multiple of its size, so these casts are aligned.
  TokenView& v = result.view_;
  v.n_examples = n_examples;
  v.n_tokens = n_tokens;
  v.offsets = reinterpret_cast<const uint64_t*>(p + kHeaderBytes);
  v.tokens = reinterpret_cast<const uint32_t*>(p + kHeaderBytes + 8 * (n_examples + 1));
  v.mask = p + kHeaderBytes + 8 * (n_examples + 1) + 4 * n_tokens;
  if (v.offsets[0] != 0 || v.offsets[n_examples] != n_tokens) {
    return corrupt("offsets must start at 0 and end at n_tokens");
  }
  for (uint64_t i = 0; i < n_examples; ++i) {
    if (v.offsets[i + 1] < v.offsets[i] + 2) {
      return corrupt("example " + std::to_string(i) + " has fewer than 2 tokens (or offsets decrease)");
    }
  }
  for (uint64_t i = 0; i < n_tokens; ++i) {
    if (v.mask[i] > 1) return corrupt("loss mask byte " + std::to_string(i) + " is " + std::to_string(v.mask[i]) + " (must be 0 or 1)");
  }
  return result;
}

Status write_token_file(const std::string& path, const TokenData& data) {
  const uint64_t n_examples = data.num_examples(), n_tokens = data.tokens.size();
  if (n_examples == 0 || data.mask.size() != n_tokens || data.offsets.back() != n_tokens) {
    return make_error(ErrorCode::kInvalidArgument, "token data is inconsistent (examples, tokens and mask sizes)");
  }
  std::string bytes(kMagic, 8);
  uint32_t version = 1, flags = 0;
  bytes.append(reinterpret_cast<const char*>(&version), 4);
  bytes.append(reinterpret_cast<const char*>(&flags), 4);
  bytes.append(reinterpret_cast<const char*>(&n_examples), 8);
  bytes.append(reinterpret_cast<const char*>(&n_tokens), 8);
  bytes.append(reinterpret_cast<const char*>(data.offsets.data()), 8 * data.offsets.size());
  bytes.append(reinterpret_cast<const char*>(data.tokens.data()), 4 * n_tokens);
  bytes.append(reinterpret_cast<const char*>(data.mask.data()), n_tokens);
  return write_file_atomic(path, bytes);
}

uint32_t max_token_id(const TokenView& data) {
  return data.n_tokens == 0 ? 0 : *std::max_element(data.tokens, data.tokens + data.n_tokens);
}

}  // namespace grove
