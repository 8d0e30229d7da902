// RESP2/RESP3 reply encoding, byte for byte as Redis 7.0 encodes each reply type.
#include "resp/reply.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common/util.h"

namespace runnel::resp {

namespace {

constexpr size_t kMaxIntChars = 20;  // "-9223372036854775808"
// Bulk strings up to this size are written with their header in one Reserve.
constexpr size_t kSmallBulk = 512;

// Writes v in decimal at p (room for kMaxIntChars) and returns the length.
size_t WriteInt(char* p, int64_t v) { return FormatInt64(v, p); }

char* WriteCrlf(char* p) {
  p[0] = '\r';
  p[1] = '\n';
  return p + 2;
}

}  // namespace

namespace {

// Lays out the shortest round-trip digits of a finite, non-zero double as Redis 7.2 prints them
// (its fpconv_dtoa): plain digits for a number near 1 in size, scientific notation ("1.5e-7",
// "1e+20", the exponent without padding) when the exponent strays too far from the digits.
size_t LayOutShortest(double v, char* out) {
  char sci[40];
  auto res = std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
  const char* p = sci;
  char* o = out;
  if (*p == '-') *o++ = *p++;
  char digits[24];
  size_t n = 0;
  for (; *p != 'e'; ++p)
    if (*p != '.') digits[n++] = *p;
  int exp10 = 0;
  std::from_chars(p + 1 + (p[1] == '+'), res.ptr, exp10);
  // The value is digits x 10^k; `magnitude` is the power of ten of its leading digit.
  const int k = exp10 - static_cast<int>(n) + 1;
  const int nd = static_cast<int>(n);
  const int magnitude = std::abs(exp10);
  if (k >= 0 && magnitude < nd + 7) {
    std::memcpy(o, digits, n);
    std::memset(o + n, '0', static_cast<size_t>(k));
    return static_cast<size_t>(o - out) + n + static_cast<size_t>(k);
  }
  if (k < 0 && (k > -7 || magnitude < 4)) {
    const int int_digits = nd + k;  // digits before the point
    if (int_digits <= 0) {
      *o++ = '0';
      *o++ = '.';
      std::memset(o, '0', static_cast<size_t>(-int_digits));
      o += -int_digits;
      std::memcpy(o, digits, n);
      return static_cast<size_t>(o - out) + n;
    }
    std::memcpy(o, digits, static_cast<size_t>(int_digits));
    o += int_digits;
    *o++ = '.';
    std::memcpy(o, digits + int_digits, n - static_cast<size_t>(int_digits));
    return static_cast<size_t>(o - out) + n - static_cast<size_t>(int_digits);
  }
  *o++ = digits[0];
  if (n > 1) {
    *o++ = '.';
    std::memcpy(o, digits + 1, n - 1);
    o += n - 1;
  }
  *o++ = 'e';
  *o++ = exp10 < 0 ? '-' : '+';
  return static_cast<size_t>(o - out) + WriteInt(o, magnitude);
}

}  // namespace

size_t FormatDouble(double v, char* buf, size_t cap) {
  char tmp[48];
  size_t n;
  // Integral values within half of int64's range print as integers (Redis's double2ll).
  constexpr double kIntegerLimit = static_cast<double>(INT64_MAX / 2);
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
  } else if (v >= -kIntegerLimit && v <= kIntegerLimit && v == std::trunc(v)) {
    n = WriteInt(tmp, static_cast<int64_t>(v));
  } else {
    n = LayOutShortest(v, tmp);
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
