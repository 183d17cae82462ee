#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "grove/safetensors.h"

namespace grove {

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {

StatusOr<DType> parse_dtype(const std::string& s, const std::string& tensor) {
  if (s == "F32") return DType::kF32;
  if (s == "F16") return DType::kF16;
  if (s == "BF16") return DType::kBF16;
  return make_error(ErrorCode::kUnsupported,
                    "tensor '" + tensor + "' has dtype " + s + "; supported dtypes are F32, F16 and BF16");
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

void convert_to_f32(const TensorInfo& src, float* dst) {
  const int64_t n = src.numel();
  switch (src.dtype) {
    case DType::kF32:
      std::memcpy(dst, src.data, static_cast<size_t>(n) * 4);
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, src.data + 2 * i, 2);
        uint32_t bits = static_cast<uint32_t>(v) << 16;
        std::memcpy(&dst[i], &bits, 4);
      }
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, src.data + 2 * i, 2);
        dst[i] = half_to_float(v);
      }
      return;
  }
}

StatusOr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  SafetensorsFile st;
  GROVE_ASSIGN_OR_RETURN(st.file_, MappedFile::open(path));
  const size_t size = st.file_.size();
  if (size < 8) {
    return make_error(ErrorCode::kCorruptFile, path + ": truncated safetensors file (" + std::to_string(size) +
                                                   " bytes, the header length alone needs 8)");
  }
  uint64_t header_len;
  std::memcpy(&header_len, st.file_.data(), 8);
  if (header_len > size - 8) {
    return make_error(ErrorCode::kCorruptFile, path + ": truncated safetensors file (header says " +
                                                   std::to_string(header_len) + " header bytes, file has " +
                                                   std::to_string(size - 8) + " after the length)");
  }
  const char* hbegin = reinterpret_cast<const char*>(st.file_.data() + 8);
  nlohmann::json header = nlohmann::json::parse(hbegin, hbegin + header_len, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return make_error(ErrorCode::kCorruptFile, path + ": safetensors header is not a JSON object");
  }
  const uint8_t* data_begin = st.file_.data() + 8 + header_len;
  const size_t data_size = size - 8 - header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& entry = it.value();
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets") || !entry["dtype"].is_string() || !entry["shape"].is_array() ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
      return make_error(ErrorCode::kCorruptFile, path + ": malformed header entry for tensor '" + it.key() + "'");
    }
    TensorInfo info;
    info.name = it.key();
    GROVE_ASSIGN_OR_RETURN(info.dtype, parse_dtype(entry["dtype"].get<std::string>(), it.key()));
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) {
        return make_error(ErrorCode::kCorruptFile, path + ": bad shape for tensor '" + it.key() + "'");
      }
      info.shape.push_back(d.get<int64_t>());
    }
    const auto& offs = entry["data_offsets"];
    if (!offs[0].is_number_unsigned() || !offs[1].is_number_unsigned()) {
      return make_error(ErrorCode::kCorruptFile, path + ": bad data_offsets for tensor '" + it.key() + "'");
    }
    uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end || end - begin != static_cast<uint64_t>(info.numel()) * dtype_size(info.dtype)) {
      return make_error(ErrorCode::kCorruptFile, path + ": tensor '" + it.key() + "' data_offsets [" +
                                                     std::to_string(begin) + ", " + std::to_string(end) +
                                                     ") do not match its shape " + shape_to_string(info.shape));
    }
    if (end > data_size) {
      return make_error(ErrorCode::kCorruptFile, path + ": truncated safetensors file (tensor '" + it.key() +
                                                     "' ends at data byte " + std::to_string(end) +
                                                     ", the file holds " + std::to_string(data_size) + ")");
    }
    info.data = data_begin + begin;
    info.bytes = end - begin;
    st.tensors_.emplace(info.name, std::move(info));
  }
  return st;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace grove

namespace grove {

void SafetensorsFile::release(const TensorInfo& tensor) const {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  // Only whole pages inside the tensor: neighbouring tensors may share its first and last page.
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(tensor.data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(tensor.data) + tensor.bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace grove
