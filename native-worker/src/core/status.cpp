#include "grove/status.h"

namespace grove {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kIoError: return "IO_ERROR";
    case ErrorCode::kCorruptFile: return "CORRUPT_FILE";
    case ErrorCode::kUnsupported: return "UNSUPPORTED";
    case ErrorCode::kDataError: return "DATA_ERROR";
    case ErrorCode::kDiverged: return "DIVERGED";
    case ErrorCode::kOutOfMemory: return "OUT_OF_MEMORY";
    case ErrorCode::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  return std::string(error_code_name(code_)) + ": " + message_;
}

Status Status::with_context(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

}  // namespace grove
