// Request parser: reads one RESP multibulk or inline command with Redis 7's rules and error texts.
#include "resp/parser.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace runnel::resp {

namespace {

// Before AUTH, Redis accepts at most these sizes so an anonymous client cannot make it allocate.
constexpr int64_t kUnauthMaxMultibulk = 10;
constexpr int64_t kUnauthMaxBulk = 16384;
// Argument vectors that grew past this for one huge command are released afterwards, so an idle
// connection does not keep them.
constexpr size_t kKeepArgs = 1024;

// Strict integer parsing like Redis's string2ll: an optional '-', then "0" or digits without a
// leading zero. '+', spaces, "-0", an empty string and overflow are all rejected, so that the
// same request is accepted or refused exactly as Redis would.
bool ParseCount(const char* s, size_t n, int64_t* out) {
  if (n == 1 && s[0] == '0') {
    *out = 0;
    return true;
  }
  size_t i = 0;
  bool negative = n > 0 && s[0] == '-';
  if (negative) i = 1;
  if (i >= n || s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (negative) {
    if (v > kMaxPositive + 1) return false;
    *out = v == kMaxPositive + 1 ? INT64_MIN : -static_cast<int64_t>(v);
  } else {
    if (v > kMaxPositive) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

// isspace() in the C locale; inline splitting skips all of these between arguments.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

char Unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// Reads "<digits>\r\n" at *p: "0" or up to 18 digits without a leading zero (so no overflow);
// moves *p past the line.
inline bool ReadPlainCount(const char** p, const char* end, int64_t* out) {
  const char* s = *p;
  if (s >= end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] != '\r')) {
    return false;
  }
  int64_t v = 0;
  const char* limit = end - s > 18 ? s + 18 : end;
  for (; s < limit && *s >= '0' && *s <= '9'; ++s) v = v * 10 + (*s - '0');
  if (end - s < 2 || s[0] != '\r' || s[1] != '\n') return false;
  *out = v;
  *p = s + 2;
  return true;
}

}  // namespace

ParseStatus Parser::Parse(char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  needed_ = 0;
  if (args_.capacity() > kKeepArgs) {
    std::vector<std::string_view>().swap(args_);
  } else {
    args_.clear();
  }
  // Callers hand back the same bytes plus more; fewer would leave pos_ past the end.
  assert(len >= pos_);
  if (len == 0) return ParseStatus::kIncomplete;
  if (!in_multibulk_ && data[0] == '*' && ParseWholeMultibulk(data, len, consumed)) {
    return ParseStatus::kOk;
  }
  if (in_multibulk_ || data[0] == '*') return ParseMultibulk(data, len, consumed);
  return ParseInline(data, len, consumed);
}

void Parser::Reset() {
  ResetProgress();
  args_.clear();
  error_ = {};
}

void Parser::ResetProgress() {
  in_multibulk_ = false;
  remaining_ = -1;
  pos_ = 0;
  scan_ = 0;
  bulk_len_ = -1;
  needed_ = 0;
  if (slices_.capacity() > kKeepArgs) {
    std::vector<Slice>().swap(slices_);
  } else {
    slices_.clear();
  }
}

ParseStatus Parser::Fail(std::string_view msg) {
  error_ = msg;
  ResetProgress();
  args_.clear();
  return ParseStatus::kError;
}

// The common case in one pass: a whole, well-formed multibulk command with plain decimal counts
// is already in the buffer. Anything else (a partial command, odd digits, a limit passed, a
// malformed header) returns false with nothing changed, and the general path below decides what
// it is, so both paths accept and refuse exactly the same requests.
bool Parser::ParseWholeMultibulk(char* data, size_t len, size_t* consumed) {
  const char* end = data + len;
  const char* p = data + 1;
  int64_t n;
  if (!ReadPlainCount(&p, end, &n) || n <= 0 || n > limits_.max_multibulk_len) return false;
  if (limits_.unauthenticated && n > kUnauthMaxMultibulk) return false;
  for (int64_t i = 0; i < n; ++i) {
    int64_t bulk;
    bool ok = p < end && *p++ == '$' && ReadPlainCount(&p, end, &bulk) &&
              bulk <= limits_.max_bulk_len && !(limits_.unauthenticated && bulk > kUnauthMaxBulk) &&
              static_cast<uint64_t>(end - p) >= static_cast<uint64_t>(bulk) + 2;
    if (!ok) {
      args_.clear();
      return false;
    }
    args_.emplace_back(p, static_cast<size_t>(bulk));
    p += bulk + 2;  // the two bytes after the payload are not checked, as in Redis
  }
  *consumed = static_cast<size_t>(p - data);
  return true;
}

// Finds the `term` byte ending the line that starts at pos_, resuming where the last search
// stopped. Redis searches with strchr on its NUL-terminated buffer, so a NUL byte hides
// everything after it: such a line never completes and, once the buffer passes the inline limit,
// fails with the too-big error, as in Redis.
ParseStatus Parser::FindLine(const char* data, size_t len, char term, std::string_view too_big,
                             size_t* end) {
  size_t i = std::max(pos_, scan_);
  for (; i < len; ++i) {
    if (data[i] == term) {
      scan_ = i;
      *end = i;
      return ParseStatus::kOk;
    }
    if (data[i] == '\0') break;
  }
  scan_ = i;
  if (len - pos_ > static_cast<uint64_t>(limits_.max_inline_len)) return Fail(too_big);
  return ParseStatus::kIncomplete;
}

ParseStatus Parser::ParseMultibulk(char* data, size_t len, size_t* consumed) {
  in_multibulk_ = true;
  if (remaining_ < 0) {
    size_t cr;
    ParseStatus status = FindLine(data, len, '\r', "too big mbulk count string", &cr);
    if (status != ParseStatus::kOk) return status;
    // Like Redis, the byte after '\r' must be present but is not checked to be '\n'.
    if (cr + 1 >= len) return ParseStatus::kIncomplete;
    int64_t n;
    if (!ParseCount(data + 1, cr - 1, &n) || n > limits_.max_multibulk_len) {
      return Fail("invalid multibulk length");
    }
    if (limits_.unauthenticated && n > kUnauthMaxMultibulk) {
      return Fail("unauthenticated multibulk length");
    }
    pos_ = cr + 2;
    remaining_ = std::max<int64_t>(n, 0);
    // The count is untrusted: grow with the bulks actually received beyond a modest start.
    slices_.reserve(static_cast<size_t>(std::min<int64_t>(remaining_, kKeepArgs)));
  }
  while (remaining_ > 0) {
    if (bulk_len_ < 0) {
      ParseStatus status = ReadBulkHeader(data, len);
      if (status != ParseStatus::kOk) return status;
    }
    uint64_t need = static_cast<uint64_t>(bulk_len_) + 2;  // payload and its "\r\n"
    if (len - pos_ < need) {
      needed_ = pos_ + need;
      return ParseStatus::kIncomplete;
    }
    slices_.push_back({pos_, static_cast<size_t>(bulk_len_)});
    // The two bytes after the payload are skipped unchecked, as Redis does.
    pos_ += need;
    bulk_len_ = -1;
    --remaining_;
  }
  args_.reserve(slices_.size());
  for (const Slice& s : slices_) args_.emplace_back(data + s.offset, s.len);
  *consumed = pos_;
  ResetProgress();
  return ParseStatus::kOk;
}

// Reads a `$<len>` line at pos_ into bulk_len_.
ParseStatus Parser::ReadBulkHeader(const char* data, size_t len) {
  size_t cr;
  ParseStatus status = FindLine(data, len, '\r', "too big bulk count string", &cr);
  if (status != ParseStatus::kOk) return status;
  if (cr + 1 >= len) return ParseStatus::kIncomplete;
  if (data[pos_] != '$') {
    int n = std::snprintf(error_buf_, sizeof(error_buf_), "expected '$', got '%c'", data[pos_]);
    return Fail(std::string_view(error_buf_, static_cast<size_t>(n)));
  }
  int64_t n;
  if (!ParseCount(data + pos_ + 1, cr - pos_ - 1, &n) || n < 0 || n > limits_.max_bulk_len) {
    return Fail("invalid bulk length");
  }
  if (limits_.unauthenticated && n > kUnauthMaxBulk) return Fail("unauthenticated bulk length");
  pos_ = cr + 2;
  bulk_len_ = n;
  return ParseStatus::kOk;
}

ParseStatus Parser::ParseInline(char* data, size_t len, size_t* consumed) {
  size_t nl;
  ParseStatus status = FindLine(data, len, '\n', "too big inline request", &nl);
  if (status != ParseStatus::kOk) return status;
  size_t end = nl > 0 && data[nl - 1] == '\r' ? nl - 1 : nl;
  if (!SplitInline(data, end)) return Fail("unbalanced quotes in request");
  *consumed = nl + 1;
  ResetProgress();
  return ParseStatus::kOk;
}

// Splits an inline line into args_ the way Redis's sdssplitargs does. Each argument is unescaped
// over its own source bytes: quotes and escapes only ever shrink it, so the write position `w`
// never passes the read position `i`. The line holds no NUL (FindLine stops there), so "past the
// end" plays the part of sdssplitargs' terminating NUL.
bool Parser::SplitInline(char* line, size_t len) {
  auto at = [&](size_t k) { return k < len ? line[k] : '\0'; };
  size_t i = 0;
  while (true) {
    while (i < len && IsSpace(line[i])) ++i;
    if (i == len) return true;
    enum { kPlain, kDouble, kSingle } mode = kPlain;
    size_t start = i;
    size_t w = i;
    bool done = false;
    while (!done) {
      char c = at(i);
      if (mode == kDouble) {
        if (c == '\\' && at(i + 1) == 'x' && IsHex(at(i + 2)) && IsHex(at(i + 3))) {
          line[w++] = static_cast<char>(HexValue(at(i + 2)) * 16 + HexValue(at(i + 3)));
          i += 3;
        } else if (c == '\\' && at(i + 1) != '\0') {
          line[w++] = Unescape(line[++i]);
        } else if (c == '"') {
          // A closing quote must end the argument: `"a"b` is refused, not read as "ab".
          if (at(i + 1) != '\0' && !IsSpace(at(i + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          line[w++] = c;
        }
      } else if (mode == kSingle) {
        if (c == '\\' && at(i + 1) == '\'') {
          line[w++] = line[++i];
        } else if (c == '\'') {
          if (at(i + 1) != '\0' && !IsSpace(at(i + 1))) return false;
          done = true;
        } else if (c == '\0') {
          return false;
        } else {
          line[w++] = c;
        }
      } else {
        switch (c) {
          // Unlike the blank skipping above, only these end an unquoted argument ('\v' and '\f'
          // are kept inside it), as in sdssplitargs.
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            mode = kDouble;
            break;
          case '\'':
            mode = kSingle;
            break;
          default:
            line[w++] = c;
            break;
        }
      }
      if (i < len) ++i;
    }
    args_.emplace_back(line + start, w - start);
  }
}

}  // namespace runnel::resp
