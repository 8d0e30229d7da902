// Reply writer for RESP2 and RESP3. Each method emits one reply element; aggregate headers are
// followed by their elements. Types RESP2 lacks degrade as Redis degrades them: maps and sets
// become arrays, doubles and verbatim strings become bulk strings, booleans become 1/0, null
// becomes a null bulk (or a null array where Redis sends one).
#pragma once

#include <cstdint>
#include <string_view>

#include "resp/out_buffer.h"

namespace runnel::resp {

class ReplyWriter {
 public:
  ReplyWriter(OutBuffer* out, int protocol) : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }
  OutBuffer* buffer() const { return out_; }
  void set_buffer(OutBuffer* out) { out_ = out; }

  void Ok() { out_->Append("+OK\r\n", 5); }
  void Simple(std::string_view s);  // +s
  // `msg` is the whole error text without the leading '-' ("ERR syntax error", "WRONGTYPE ...").
  void Error(std::string_view msg);
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  void BulkInt(int64_t v);  // an integer sent as a bulk string
  void Null();              // RESP2 $-1, RESP3 _
  void NullArray();         // RESP2 *-1, RESP3 _
  void ArrayHeader(int64_t n);
  void MapHeader(int64_t n);  // n key/value pairs; RESP2: array of 2n
  void SetHeader(int64_t n);  // RESP2: array
  void PushHeader(int64_t n);  // RESP2: array
  void Double(double v);      // RESP2: bulk string in Redis 7.2's form (FormatDouble)
  void Bool(bool v);          // RESP2: integer 1/0
  void Verbatim(std::string_view format, std::string_view s);  // format is 3 chars, e.g. "txt"
  void EmptyArray() { ArrayHeader(0); }
  void Raw(std::string_view bytes) { out_->Append(bytes); }

 private:
  void Header(char type, int64_t n);
  OutBuffer* out_;
  int protocol_;
};

// Formats a double as Redis 7.2 does in replies (scores): "inf", "-inf", "nan", "-0", integral
// values within half of int64's range as integers, anything else as its shortest round-trip
// digits, laid out plainly or, far from 1, in scientific notation ("0.1", "1.5e-7", "1e+20").
size_t FormatDouble(double v, char* buf, size_t cap);

}  // namespace runnel::resp
