#include <cstring>
#include <nlohmann/json.hpp>

#include "grove/file_util.h"
#include "grove/safetensors.h"

namespace grove {

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    uint64_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + 4 * n}}};
    offset += 4 * n;
  }
  std::string hjson = header.dump();
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  while ((8 + hjson.size()) % 8 != 0) hjson.push_back(' ');
  std::string bytes;
  bytes.reserve(8 + hjson.size() + offset);
  uint64_t hlen = hjson.size();
  bytes.append(reinterpret_cast<const char*>(&hlen), 8);
  bytes += hjson;
  for (const auto& t : tensors) {
    uint64_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    bytes.append(reinterpret_cast<const char*>(t.data), 4 * n);
  }
  return write_file_atomic(path, bytes);
}

}  // namespace grove
