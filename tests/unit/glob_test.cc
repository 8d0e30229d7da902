// Tests for GlobMatch. The expectations in the tables were checked against Redis 7.0 (a client
// PSUBSCRIBEd to the pattern, PUBLISH to the subject), quirks included.
#include "common/glob.h"

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>
#include <string_view>

namespace runnel {
namespace {

struct Case {
  std::string_view pattern;
  std::string_view subject;
  bool match;
};

void CheckCases(std::initializer_list<Case> cases, bool nocase = false) {
  for (const Case& c : cases) {
    CAPTURE(c.pattern);
    CAPTURE(c.subject);
    CHECK(GlobMatch(c.pattern, c.subject, nocase) == c.match);
  }
}

TEST_CASE("glob: literals, ? and *") {
  CheckCases({
      {"", "", true},
      {"abc", "abc", true},
      {"ab", "abc", false},
      {"abc", "ab", false},
      {"h?llo", "hello", true},
      {"h?llo", "hllo", false},
      {"h*llo", "hllo", true},
      {"h*llo", "heeeello", true},
      {"*", "a", true},
      {"*", "\xff", true},
      {"a*", "a", true},
      {"*a", "a", true},
      {"a*?", "a", false},
      {"a**b", "ab", true},
      {"a*b*c", "abc", true},
      {"a*b*c", "axxbyyc", true},
      {"a*b*c", "axxbyy", false},
      {"*a*a*a*b", "aaaaaaaaaab", true},
      {"*a*a*a*b", "aaaaaaaaaa", false},
      {"*.txt", "file.txt", true},
      {"*.txt", "file.txd", false},
      {"user:*:name", "user:42:name", true},
      {"user:*:name", "user:42:age", false},
      {"HELLO", "hello", false},
  });
}

TEST_CASE("glob: an empty subject matches only the empty pattern") {
  // Redis never enters its matching loop for an empty subject, so even "*" fails.
  CheckCases({
      {"*", "", false},
      {"**", "", false},
      {"?", "", false},
      {"[^", "", false},
      {"", "", true},
      {"", "a", false},
  });
}

TEST_CASE("glob: character classes") {
  CheckCases({
      {"h[ae]llo", "hello", true},
      {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false},
      {"h[^e]llo", "hallo", true},
      {"h[^e]llo", "hello", false},
      {"h[a-b]llo", "hbllo", true},
      {"h[a-b]llo", "hcllo", false},
      {"[^a-z]", "A", true},
      {"[^a-z]", "a", false},
      {"[A-z]", "[", true},
      {"[A-z]", "_", true},
      {"[*]", "*", true},
      {"[*]", "a", false},
      {"[?]", "a", false},
      {"[[]", "[", true},
      // Only '^' negates; '!' is an ordinary member.
      {"h[!e]llo", "hallo", false},
      {"h[!e]llo", "h!llo", true},
  });
}

TEST_CASE("glob: ranges") {
  CheckCases({
      // A reversed range matches like the forward one.
      {"[z-a]", "m", true},
      {"[z-a]", "A", false},
      // '-' first is a literal; a range may end in ']', which then does not close the class.
      {"[-x]", "-", true},
      {"[-x]", "x", true},
      {"[-]", "-", true},
      {"[a-]", "]", true},
      {"[a-]", "_", true},
      {"[a-]", "-", false},
      {"[a-]x", "ax", false},
      {"[x-]", "-", false},
      {"[]-a]", "^", false},
      {"[]-a]", "]", false},
      // After a range, '-' is a literal again.
      {"[a-c-e]", "d", false},
      {"[a-c-e]", "-", true},
      {"[a-c-e]", "e", true},
  });
}

TEST_CASE("glob: ranges compare bytes as signed chars") {
  CheckCases({
      {"[\x80-\xff]", "\xff", true},
      {"[\x80-\xff]", "a", false},
      {"[a-\xff]", "b", false},
      {"[a-\xff]", "\xfe", false},
      {"[a-\xff]", "0", true},
      {"[^\xff]", "\xff", false},
  });
}

TEST_CASE("glob: escapes") {
  CheckCases({
      {"\\*", "*", true},
      {"\\*", "a", false},
      {"\\?", "?", true},
      {"\\[a]", "[a]", true},
      {"\\\\", "\\", true},
      // A trailing backslash is literal.
      {"\\", "\\", true},
      {"a\\", "a\\", true},
      {"*\\", "a\\", true},
      // Inside a class.
      {"[\\]]", "]", true},
      {"[\\]a]", "]", true},
      {"[\\]a]", "]a]", false},
      {"[\\-]", "-", true},
      {"[a\\-z]", "-", true},
      {"[a\\-z]", "b", false},
      {"[\\", "\\", true},
      {"[\\", "[", false},
  });
}

TEST_CASE("glob: unterminated and empty classes") {
  CheckCases({
      // An unterminated class runs to the end of the pattern and matches one byte.
      {"[abc", "a", true},
      {"[abc", "d", false},
      {"[abc", "ab", false},
      {"[", "[", false},
      {"[", "a", false},
      {"[^", "x", true},
      // "[]" is an empty class that matches nothing; the ']' after it is a literal.
      {"[]", "]", false},
      {"[]]", "]", false},
      {"[]a]", "a", false},
      {"[]a]", "]a", false},
  });
}

TEST_CASE("glob: nocase") {
  CheckCases(
      {
          {"HELLO", "hello", true},
          {"h*O", "HELLO", true},
          {"h[A-E]llo", "hello", true},
          {"[a-z]", "Q", true},
          {"[^A]", "a", false},
          {"\\A", "a", true},
          // Bounds are lowered after ordering: [A-z] becomes [a-z] and loses '[' and '_'.
          {"[A-z]", "[", false},
          {"[Z-a]", "_", false},
          // An escaped byte inside a class is compared exactly.
          {"[\\A]", "a", false},
          {"[\\A]", "A", true},
          {"\xc9", "\xe9", false},
      },
      /*nocase=*/true);
  CHECK(GlobMatch("[Z-a]", "_"));
  CHECK(GlobMatch("[A-z]", "["));
}

// Plain recursive matching of '*', '?' and literals, as a reference for the backtracking.
bool Reference(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') {
    for (size_t i = 0; i <= s.size(); ++i) {
      if (Reference(p.substr(1), s.substr(i))) return true;
    }
    return false;
  }
  if (s.empty()) return false;
  return (p[0] == '?' || p[0] == s[0]) && Reference(p.substr(1), s.substr(1));
}

TEST_CASE("glob: star backtracking agrees with a recursive reference") {
  std::mt19937 rng(99);
  const char pattern_bytes[] = "ab*?";
  const char subject_bytes[] = "ab";
  for (int n = 0; n < 20000; ++n) {
    std::string p(rng() % 8, ' ');
    std::string s(1 + rng() % 8, ' ');
    for (char& c : p) c = pattern_bytes[rng() % 4];
    for (char& c : s) c = subject_bytes[rng() % 2];
    CAPTURE(p);
    CAPTURE(s);
    REQUIRE(GlobMatch(p, s) == Reference(p, s));
  }
}

TEST_CASE("glob: pathological patterns finish quickly") {
  const auto start = std::chrono::steady_clock::now();
  const std::string as(100000, 'a');
  CHECK(!GlobMatch("a*a*a*a*a*a*a*a*b", as));
  CHECK(GlobMatch("a*a*a*a*a*a*a*a*a", as));
  CHECK(!GlobMatch("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", as));
  CHECK(!GlobMatch("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*b", as));
  std::string many_stars;
  for (int i = 0; i < 500; ++i) many_stars += "*a";
  many_stars += "*b";
  CHECK(!GlobMatch(many_stars, as));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(5));
}

}  // namespace
}  // namespace runnel
