// The outcome of a persistence operation that can fail: OK, or an error whose message names the
// file and byte offset involved, ready to be logged or shown to the operator as is.
#pragma once

#include <string>
#include <utility>

namespace runnel::persist {

class Status {
 public:
  enum class Code { kOk, kCorruption, kIoError, kInvalid };

  Status() = default;
  static Status Ok() { return Status(); }
  // Damaged data: a bad checksum, a torn or impossible record, a missing segment.
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  // The system refused: open, read, write, fsync, rename failed.
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  // The caller asked for something impossible (a shard that is not there).
  static Status Invalid(std::string msg) { return Status(Code::kInvalid, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIoError() const { return code_ == Code::kIoError; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace runnel::persist
