// Glob matching with the exact semantics of Redis's stringmatchlen, quirks included.
//
// Every pattern token other than '*' consumes exactly one byte of the subject ('?', a literal,
// an escaped byte, a [class]), so a match needs only one backtrack point: the most recent star.
// When the text after a later star fails to match, letting an earlier star absorb more bytes
// can only move that later star's starting point to the right, which cannot help. The loop is
// therefore O(pattern * subject) at worst, where naive recursion is exponential in the stars.
#include "common/glob.h"

#include <cstddef>
#include <utility>

namespace runnel {

namespace {

// ASCII-only, like tolower() in the C locale Redis runs its matching in.
int Lower(int c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

// Bytes are compared as signed chars in class ranges because that is what Redis does on the
// platforms it is normally built for (x86-64), where `char` is signed: [a-\xff] is the range
// -1..'a' there, and we answer the same way.
int Signed(char c) { return static_cast<signed char>(c); }

bool SameByte(char a, char b, bool nocase) {
  return nocase ? Lower(Signed(a)) == Lower(Signed(b)) : a == b;
}

// Matches the [class] opening at pattern[start] against `c`. Sets `*next` to the pattern index
// after the class. An unterminated class runs to the end of the pattern.
bool MatchClass(std::string_view pattern, size_t start, char c, bool nocase, size_t* next) {
  const size_t n = pattern.size();
  size_t i = start + 1;
  const bool negate = i < n && pattern[i] == '^';
  if (negate) ++i;
  bool match = false;
  while (true) {
    if (i >= n) break;
    if (pattern[i] == '\\' && n - i >= 2) {
      // An escaped byte inside a class is compared exactly, even with nocase (as in Redis).
      if (pattern[i + 1] == c) match = true;
      i += 2;
    } else if (pattern[i] == ']') {
      ++i;
      break;
    } else if (n - i >= 3 && pattern[i + 1] == '-') {
      // A range's end may be ']' itself ("[a-]"), and a reversed range matches like the
      // forward one. nocase lowers the bounds after ordering them, as Redis does.
      int lo = Signed(pattern[i]);
      int hi = Signed(pattern[i + 2]);
      int ch = Signed(c);
      if (lo > hi) std::swap(lo, hi);
      if (nocase) {
        lo = Lower(lo);
        hi = Lower(hi);
        ch = Lower(ch);
      }
      if (ch >= lo && ch <= hi) match = true;
      i += 3;
    } else {
      if (SameByte(pattern[i], c, nocase)) match = true;
      ++i;
    }
  }
  *next = i;
  return match != negate;
}

// Matches the single-byte token at pattern[p] (anything but '*') against `c`; on success sets
// `*next` to the index after the token.
bool MatchToken(std::string_view pattern, size_t p, char c, bool nocase, size_t* next) {
  switch (pattern[p]) {
    case '?':
      *next = p + 1;
      return true;
    case '[':
      return MatchClass(pattern, p, c, nocase, next);
    case '\\':
      // A trailing backslash is a literal backslash.
      if (p + 1 < pattern.size()) {
        *next = p + 2;
        return SameByte(pattern[p + 1], c, nocase);
      }
      [[fallthrough]];
    default:
      *next = p + 1;
      return SameByte(pattern[p], c, nocase);
  }
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view s, bool nocase) {
  // Redis only enters its matching loop with a non-empty subject, so an empty subject matches
  // the empty pattern alone: not even "*".
  if (s.empty()) return pattern.empty();

  constexpr size_t kNone = static_cast<size_t>(-1);
  const size_t plen = pattern.size();
  size_t p = 0;
  size_t i = 0;
  size_t star_p = kNone;  // pattern index just after the most recent star
  size_t star_i = 0;      // subject index that star's continuation was last tried at
  while (i < s.size()) {
    if (p < plen && pattern[p] == '*') {
      while (p < plen && pattern[p] == '*') ++p;
      if (p == plen) return true;
      star_p = p;
      star_i = i;
      continue;
    }
    size_t next;
    if (p < plen && MatchToken(pattern, p, s[i], nocase, &next)) {
      p = next;
      ++i;
    } else if (star_p != kNone) {
      p = star_p;
      i = ++star_i;
    } else {
      return false;
    }
  }
  // The subject is used up; only stars may remain.
  while (p < plen && pattern[p] == '*') ++p;
  return p == plen;
}

}  // namespace runnel
