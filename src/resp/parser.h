// Request parser: RESP multibulk and inline commands, no I/O.
//
// The parser reads one command at a time from the front of a caller-owned buffer. Arguments are
// returned as string_views into that buffer (inline arguments are unescaped in place, which never
// makes them longer). A command that is not complete yet returns kIncomplete; the parser keeps its
// progress as offsets from the start of the command, so the caller may move the unconsumed bytes
// (e.g. compact its buffer) before calling again with the same bytes plus more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace runnel::resp {

enum class ParseStatus { kOk, kIncomplete, kError };

struct ParserLimits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;  // proto-max-bulk-len
  int64_t max_inline_len = 64 * 1024;          // longest inline line / count line
  int64_t max_multibulk_len = INT32_MAX;
  // Before AUTH, Redis only accepts tiny requests; set by the caller per connection.
  bool unauthenticated = false;
};

class Parser {
 public:
  explicit Parser(ParserLimits limits = {}) : limits_(limits) {}

  // Parses the command at data[0..len). On kOk, args() holds the arguments and *consumed the
  // number of bytes the command took; an empty command (blank inline line, `*0`) yields kOk with
  // no arguments. On kIncomplete, *consumed is 0 and progress is kept. On kError, error() holds the
  // message to send after "-ERR Protocol error: " and the connection must be closed.
  ParseStatus Parse(char* data, size_t len, size_t* consumed);

  std::span<const std::string_view> args() const { return args_; }
  std::string_view error() const { return error_; }
  // Total bytes the current partial command needs at least (0 if unknown); lets the caller
  // reserve one big buffer for a large bulk instead of growing it step by step.
  size_t bytes_needed() const { return needed_; }
  void set_limits(const ParserLimits& limits) { limits_ = limits; }
  void Reset();

 private:
  bool ParseWholeMultibulk(char* data, size_t len, size_t* consumed);
  ParseStatus ParseMultibulk(char* data, size_t len, size_t* consumed);
  ParseStatus ParseInline(char* data, size_t len, size_t* consumed);
  ParseStatus ReadBulkHeader(const char* data, size_t len);
  ParseStatus FindLine(const char* data, size_t len, char term, std::string_view too_big,
                       size_t* end);
  bool SplitInline(char* line, size_t len);
  ParseStatus Fail(std::string_view msg);
  void ResetProgress();

  // Offsets are 64-bit: a command with several bulks near proto-max-bulk-len exceeds 4 GB.
  struct Slice {
    size_t offset;
    size_t len;
  };

  ParserLimits limits_;
  // Progress of a partial command, relative to the command's first byte.
  bool in_multibulk_ = false;
  int64_t remaining_ = -1;  // bulks still to read, -1 if the `*<n>` line is not read yet
  size_t pos_ = 0;          // where parsing resumes
  size_t scan_ = 0;         // the line starting at pos_ has no terminator before this offset
  int64_t bulk_len_ = -1;   // length of the bulk being read, -1 if its header is not read yet
  size_t needed_ = 0;
  std::vector<Slice> slices_;
  std::vector<std::string_view> args_;
  std::string_view error_;
  char error_buf_[32];  // holds error_ when it quotes a byte of the input
};

}  // namespace runnel::resp
