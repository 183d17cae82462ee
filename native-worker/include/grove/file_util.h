// Small file helpers: whole-file reads and atomic writes (temporary file + rename).
#pragma once

#include <string>

#include "grove/status.h"

namespace grove {

StatusOr<std::string> read_text_file(const std::string& path);
// Writes `bytes` to `path` through `path.tmp` + fsync + rename, so readers see the old or the new file, never half.
Status write_file_atomic(const std::string& path, const std::string& bytes);
Status make_dirs(const std::string& path);

}  // namespace grove
