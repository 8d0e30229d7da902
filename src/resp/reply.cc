// RESP2/RESP3 reply encoding, byte for byte as Redis 7.0 encodes each reply type.
#include "resp/reply.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace runnel::resp {

namespace {

constexpr size_t kMaxIntChars = 20;  // "-9223372036854775808"
// Bulk strings up to this size are written with their header in one Reserve.
constexpr size_t kSmallBulk = 512;

size_t DigitCount(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Writes v in decimal at p (room for kMaxIntChars) and returns the length. Replies are full of
// integers and lengths, and this avoids snprintf's format parsing and locale on every one.
size_t WriteInt(char* p, int64_t v) {
  size_t sign = v < 0 ? 1 : 0;
  // Negating in unsigned arithmetic keeps INT64_MIN well defined.
  uint64_t u = sign != 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  size_t n = sign + DigitCount(u);
  if (sign != 0) p[0] = '-';
  char* d = p + n;
  do {
    *--d = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  return n;
}

char* WriteCrlf(char* p) {
  p[0] = '\r';
  p[1] = '\n';
  return p + 2;
}

}  // namespace

size_t FormatDouble(double v, char* buf, size_t cap) {
  char tmp[32];
  size_t n;
  if (std::isnan(v)) {
    // glibc prints "-nan" for a NaN with the sign bit set; Redis clients expect one spelling.
    n = 3;
    std::memcpy(tmp, "nan", n);
  } else if (std::isinf(v)) {
    n = v > 0 ? 3 : 4;
    std::memcpy(tmp, v > 0 ? "inf" : "-inf", n);
  } else if (v == 0) {
    n = std::signbit(v) ? 2 : 1;
    std::memcpy(tmp, std::signbit(v) ? "-0" : "0", n);
  } else if (std::fabs(v) < 1e17 && v == std::trunc(v)) {
    // %.17g prints an integral value below 1e17 as its exact digits, which are cheap to write.
    n = WriteInt(tmp, static_cast<int64_t>(v));
  } else {
    // to_chars with general format and a precision is specified to match printf's "%.17g".
    auto res = std::to_chars(tmp, tmp + sizeof(tmp), v, std::chars_format::general, 17);
    n = static_cast<size_t>(res.ptr - tmp);
  }
  if (n > cap) return 0;
  std::memcpy(buf, tmp, n);
  return n;
}

void ReplyWriter::Header(char type, int64_t n) {
  char* p = out_->Reserve(1 + kMaxIntChars + 2);
  p[0] = type;
  size_t len = 1 + WriteInt(p + 1, n);
  WriteCrlf(p + len);
  out_->Commit(len + 2);
}

void ReplyWriter::Simple(std::string_view s) {
  out_->Append('+');
  out_->Append(s);
  out_->Append("\r\n", 2);
}

void ReplyWriter::Error(std::string_view msg) {
  out_->Append('-');
  // A line break inside the message would end the error early and desync the client.
  while (!msg.empty()) {
    size_t n = std::min(msg.size(), OutBuffer::kBlockSize);
    char* p = out_->Reserve(n);
    for (size_t i = 0; i < n; ++i) p[i] = msg[i] == '\r' || msg[i] == '\n' ? ' ' : msg[i];
    out_->Commit(n);
    msg.remove_prefix(n);
  }
  out_->Append("\r\n", 2);
}

void ReplyWriter::Integer(int64_t v) { Header(':', v); }

void ReplyWriter::Bulk(std::string_view s) {
  if (s.size() > kSmallBulk) {
    Header('$', static_cast<int64_t>(s.size()));
    out_->Append(s);
    out_->Append("\r\n", 2);
    return;
  }
  char* start = out_->Reserve(1 + kMaxIntChars + 2 + s.size() + 2);
  char* p = start;
  *p++ = '$';
  p = WriteCrlf(p + WriteInt(p, static_cast<int64_t>(s.size())));
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  p = WriteCrlf(p + s.size());
  out_->Commit(static_cast<size_t>(p - start));
}

void ReplyWriter::BulkInt(int64_t v) {
  char digits[kMaxIntChars];
  Bulk(std::string_view(digits, WriteInt(digits, v)));
}

void ReplyWriter::Null() {
  if (protocol_ >= 3) {
    out_->Append("_\r\n", 3);
  } else {
    out_->Append("$-1\r\n", 5);
  }
}

void ReplyWriter::NullArray() {
  if (protocol_ >= 3) {
    out_->Append("_\r\n", 3);
  } else {
    out_->Append("*-1\r\n", 5);
  }
}

void ReplyWriter::ArrayHeader(int64_t n) { Header('*', n); }

void ReplyWriter::MapHeader(int64_t n) {
  if (protocol_ >= 3) {
    Header('%', n);
  } else {
    Header('*', n * 2);
  }
}

void ReplyWriter::SetHeader(int64_t n) { Header(protocol_ >= 3 ? '~' : '*', n); }

void ReplyWriter::PushHeader(int64_t n) { Header(protocol_ >= 3 ? '>' : '*', n); }

void ReplyWriter::Double(double v) {
  char text[32];
  size_t n = FormatDouble(v, text, sizeof(text));
  if (protocol_ < 3) {
    Bulk(std::string_view(text, n));
    return;
  }
  char* start = out_->Reserve(1 + n + 2);
  start[0] = ',';
  std::memcpy(start + 1, text, n);
  WriteCrlf(start + 1 + n);
  out_->Commit(1 + n + 2);
}

void ReplyWriter::Bool(bool v) {
  if (protocol_ >= 3) {
    out_->Append(v ? "#t\r\n" : "#f\r\n", 4);
  } else {
    out_->Append(v ? ":1\r\n" : ":0\r\n", 4);
  }
}

void ReplyWriter::Verbatim(std::string_view format, std::string_view s) {
  if (protocol_ < 3) {
    Bulk(s);
    return;
  }
  Header('=', static_cast<int64_t>(format.size() + 1 + s.size()));
  out_->Append(format);
  out_->Append(':');
  out_->Append(s);
  out_->Append("\r\n", 2);
}

}  // namespace runnel::resp
