// Status and StatusOr: how every fallible engine function reports an error (code + message with context).
// The library never exits or prints; the executable decides what to do with a failed status.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace grove {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // a spec field, shape or value the caller gave is wrong
  kNotFound,         // a file or tensor that must exist does not
  kIoError,          // the OS refused a read/write
  kCorruptFile,      // a file exists but its bytes are not a valid instance of its format
  kUnsupported,      // a valid input the engine does not handle (architecture, dtype)
  kDataError,        // a job's training data cannot be used with this model
  kDiverged,         // a job's loss or gradient became NaN/Inf
  kOutOfMemory,      // an allocation failed
  kInternal,         // a bug in the engine
};

const char* error_code_name(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE: message", for logs and the CLI.
  std::string to_string() const;
  // Prefixes context ("loading model: ...") while keeping the code.
  Status with_context(const std::string& context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) {}
  StatusOr(T&& value) : value_(std::move(value)) {}
  StatusOr(const T& value) : value_(value) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

inline Status make_error(ErrorCode code, std::string message) { return Status(code, std::move(message)); }

}  // namespace grove

#define GROVE_CONCAT_INNER(a, b) a##b
#define GROVE_CONCAT(a, b) GROVE_CONCAT_INNER(a, b)

#define GROVE_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::grove::Status grove_status_ = (expr);  \
    if (!grove_status_.ok()) return grove_status_; \
  } while (0)

#define GROVE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define GROVE_ASSIGN_OR_RETURN(lhs, expr) \
  GROVE_ASSIGN_OR_RETURN_IMPL(GROVE_CONCAT(grove_statusor_, __LINE__), lhs, expr)
