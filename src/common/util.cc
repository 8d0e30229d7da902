#include "common/util.h"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace runnel {

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] == '0') {
    if (s.size() == i + 1 && !negative) {
      *out = 0;
      return true;
    }
    return false;  // leading zero or "-0"
  }
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

bool ParseUint64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  if (s[0] == '0') {
    if (s.size() != 1) return false;
    *out = 0;
    return true;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool ParseLongDouble(std::string_view s, long double* out) {
  if (s.empty() || s.size() > 5 * 1024) return false;
  if (std::isspace(static_cast<unsigned char>(s.front())) ||
      std::isspace(static_cast<unsigned char>(s.back())))
    return false;
  CString c(s);
  if (std::strlen(c.c_str()) != s.size()) return false;  // embedded NUL
  errno = 0;
  char* end;
  long double v = std::strtold(c.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || std::isnan(v) || std::isinf(v)) return false;
  *out = v;
  return true;
}

bool ParseLongDoubleOperand(std::string_view s, long double* out) {
  constexpr size_t kMaxChars = 5 * 1024;
  if (s.empty() || s.size() >= kMaxChars) return false;
  if (std::isspace(static_cast<unsigned char>(s[0]))) return false;
  CString c(s);
  errno = 0;
  char* end;
  long double v = std::strtold(c.c_str(), &end);
  if (*end != '\0' || std::isnan(v)) return false;
  if (errno == ERANGE && (std::isinf(v) || v == 0)) return false;
  *out = v;
  return true;
}

bool ParseScanCursor(std::string_view s, uint64_t* out) {
  size_t i = 0;
  const bool negative = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) i = 1;
  if (i == s.size() && i > 0) return false;  // a sign alone
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = negative ? 0 - v : v;
  return true;
}

CString::CString(std::string_view s) : size_(s.size()) {
  if (s.size() < sizeof(small_)) {
    std::memcpy(small_, s.data(), s.size());
    small_[s.size()] = '\0';
    p_ = small_;
  } else {
    big_.assign(s);
    p_ = big_.c_str();
  }
}

bool ParseDouble(std::string_view s, double* out, bool allow_inf) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  double v;
  // Plain decimal forms go through from_chars, which needs no terminated copy.
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    // The rest (a leading '+', hex floats, overflow, underflow) gets strtod's exact verdict.
    CString c(s);
    errno = 0;
    char* stop;
    v = std::strtod(c.c_str(), &stop);
    if (stop != c.c_str() + c.size()) return false;
    if (errno == ERANGE && (std::isinf(v) || v == 0)) return false;
  }
  if (std::isnan(v) || (std::isinf(v) && !allow_inf)) return false;
  *out = v;
  return true;
}

size_t FormatInt64(int64_t v, char* buf) {
  // Negating in unsigned arithmetic keeps INT64_MIN well defined.
  if (v >= 0) return FormatUint64(static_cast<uint64_t>(v), buf);
  buf[0] = '-';
  return 1 + FormatUint64(0 - static_cast<uint64_t>(v), buf + 1);
}

std::string Int64ToString(int64_t v) {
  char buf[24];
  return std::string(buf, FormatInt64(v, buf));
}

std::string FormatLongDouble(long double v) {
  char buf[5 * 1024];
  int len = std::snprintf(buf, sizeof buf, "%.17Lf", v);
  if (len <= 0) return "0";
  if (std::strchr(buf, '.') != nullptr) {
    while (len > 0 && buf[len - 1] == '0') --len;
    if (len > 0 && buf[len - 1] == '.') --len;
  }
  std::string out(buf, static_cast<size_t>(len));
  if (out == "-0") out = "0";
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

void AsciiLower(std::string* s) {
  for (char& c : *s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  AsciiLower(&out);
  return out;
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t NowUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t MonotonicUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace runnel
