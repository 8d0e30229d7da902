// Small string and number helpers shared by every layer; no dependencies on the rest of runnel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace runnel {

// Strict int64 parsing as Redis does it: optional '-', digits, no '+', no spaces, no leading
// zeros (except "0"), no overflow.
bool ParseInt64(std::string_view s, int64_t* out);
// Like ParseInt64 for unsigned 64-bit values (SCAN cursors).
bool ParseUint64(std::string_view s, uint64_t* out);
// A finite long double with no leading/trailing spaces (INCRBYFLOAT, scores).
bool ParseLongDouble(std::string_view s, long double* out);
// A long double as Redis's string2ld reads it (INCRBYFLOAT, HINCRBYFLOAT): the whole string
// through strtold, no leading space, under 5 KiB. Unlike ParseLongDouble, "inf" passes; callers
// reject an infinite result with their own error.
bool ParseLongDoubleOperand(std::string_view s, long double* out);
// A SCAN cursor as Redis reads it (strtoul rules): an optional sign and decimal digits; a negative
// value wraps around; "" is 0.
bool ParseScanCursor(std::string_view s, uint64_t* out);
// A double as Redis reads one (getDoubleFromObject): the whole argument through strtod, no
// leading space, no NaN, nothing that overflows to infinity or underflows to zero; "inf", "-inf"
// (unless !allow_inf) and hex floats pass.
bool ParseDouble(std::string_view s, double* out, bool allow_inf = true);

// A NUL-terminated copy of `s` for the C parsing functions (strtod, strtold): on the stack when
// short. An embedded NUL ends the C string early, as it ends Redis's.
class CString {
 public:
  explicit CString(std::string_view s);
  CString(const CString&) = delete;
  CString& operator=(const CString&) = delete;
  const char* c_str() const { return p_; }
  size_t size() const { return size_; }

 private:
  char small_[128];
  std::string big_;
  const char* p_;
  size_t size_;
};

// Writes v in decimal to buf (at least 21 bytes); returns the length.
size_t FormatInt64(int64_t v, char* buf);

// Writes v in decimal at p (room for 20 chars) and returns the length. Inline and two digits at a
// time: replies and log records are full of lengths, counts and stream IDs.
inline size_t FormatUint64(uint64_t v, char* p) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  static constexpr uint64_t kPow10[20] = {1ULL,
                                          10ULL,
                                          100ULL,
                                          1000ULL,
                                          10000ULL,
                                          100000ULL,
                                          1000000ULL,
                                          10000000ULL,
                                          100000000ULL,
                                          1000000000ULL,
                                          10000000000ULL,
                                          100000000000ULL,
                                          1000000000000ULL,
                                          10000000000000ULL,
                                          100000000000000ULL,
                                          1000000000000000ULL,
                                          10000000000000000ULL,
                                          100000000000000000ULL,
                                          1000000000000000000ULL,
                                          10000000000000000000ULL};
  // Digits from the bit length (x 1233/4096 ~ log10(2)), corrected by one comparison.
  size_t t = static_cast<size_t>((64 - __builtin_clzll(v | 1)) * 1233) >> 12;
  size_t n = v == 0 ? 1 : t + (v >= kPow10[t] ? 1 : 0);
  char* d = p + n;
  while (v >= 100) {
    size_t r = static_cast<size_t>(v % 100);
    v /= 100;
    d -= 2;
    d[0] = kPairs[2 * r];
    d[1] = kPairs[2 * r + 1];
  }
  if (v >= 10) {
    d[-2] = kPairs[2 * v];
    d[-1] = kPairs[2 * v + 1];
  } else {
    d[-1] = static_cast<char>('0' + v);
  }
  return n;
}
std::string Int64ToString(int64_t v);
// Formats like Redis's INCRBYFLOAT reply: "%.17Lf" trimmed of trailing zeros (and the dot).
std::string FormatLongDouble(long double v);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
void AsciiLower(std::string* s);
std::string ToLower(std::string_view s);

// Milliseconds / microseconds since the epoch, and a monotonic clock in microseconds.
int64_t NowMs();
int64_t NowUs();
int64_t MonotonicUs();

}  // namespace runnel
