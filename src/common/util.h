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
// A double; accepts "inf", "+inf", "-inf" when allow_inf; rejects nan.
bool ParseDouble(std::string_view s, double* out, bool allow_inf = true);

// Writes v in decimal to buf (at least 21 bytes); returns the length.
size_t FormatInt64(int64_t v, char* buf);
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
