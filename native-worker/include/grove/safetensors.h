// Safetensors reading (memory-mapped, header validated against the file size) and writing (fp32, atomic rename).
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}}, then the data.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "grove/dtype.h"
#include "grove/mapped_file.h"
#include "grove/status.h"

namespace grove {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapping
  size_t bytes = 0;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  static StatusOr<SafetensorsFile> open(const std::string& path);
  const TensorInfo* find(const std::string& name) const;
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::string& path() const { return file_.path(); }
  // Tells the OS the tensor's mapped pages are no longer needed (after converting it), so loading a model does not
  // hold the whole file resident next to its fp32 copy.
  void release(const TensorInfo& tensor) const;

 private:
  MappedFile file_;
  std::map<std::string, TensorInfo> tensors_;
};

// Converts n elements of `src` (any supported dtype) to fp32.
void convert_to_f32(const TensorInfo& src, float* dst);

struct TensorToWrite {
  std::string name;
  std::vector<int64_t> shape;
  const float* data;
};

// Writes fp32 tensors to `path` via a temporary file and rename, so a crash never leaves a half-written file.
Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace grove
