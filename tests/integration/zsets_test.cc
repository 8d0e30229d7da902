// Integration tests of the sorted-set command family against the real server: every command,
// option and error reply in RESP2 (hiredis) and RESP3 (raw bytes), score formatting, the
// encodings OBJECT ENCODING reports (listpack / skiplist at Redis 7.2's thresholds), and the
// generic commands on sorted-set keys. Expected replies were taken from Redis 7.0 (run side by
// side with the same commands), except where Redis 7.2 differs and the 7.2 documentation is the
// spec: ZRANK/ZREVRANK WITHSCORE, scores printed in their shortest round-trip form ("0.1", not
// "0.10000000000000001"), and ZADD's conversion by argument count. Blocking pops and
// persistence are in zsets_blocking_test.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fixture.h"

namespace runnel::test {
namespace {

constexpr std::string_view kWrongType =
    "!WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr std::string_view kSyntax = "!ERR syntax error";
constexpr std::string_view kNotInt = "!ERR value is not an integer or out of range";
constexpr std::string_view kNotFloat = "!ERR value is not a valid float";
constexpr std::string_view kMinMaxFloat = "!ERR min or max is not a float";
constexpr std::string_view kMinMaxLex = "!ERR min or max not valid string range item";

std::string Do(Client& c, std::initializer_list<std::string_view> args) {
  return c.Run(args).Dump();
}

std::string Encoding(Client& c, std::string_view key) {
  return c.Run({"OBJECT", "ENCODING", key}).Dump();
}

// ZADD key 0 <prefix>0 1 <prefix>1 ... (n members, score i), in one command.
void Fill(Client& c, std::string_view key, int n, std::string_view prefix = "m") {
  std::vector<std::string> args{"ZADD", std::string(key)};
  for (int i = 0; i < n; ++i) {
    args.push_back(std::to_string(i));
    args.push_back(std::string(prefix) + std::to_string(i));
  }
  REQUIRE(c.Run(args).IsInt(n));
}

// A RESP3 connection on database 9.
struct Resp3 {
  RawClient raw;
  Resp3() {
    REQUIRE(raw.Command({"HELLO", "3"}).starts_with("%"));
    REQUIRE(raw.Command({"SELECT", "9"}) == "+OK\r\n");
  }
  std::string operator()(std::initializer_list<std::string_view> args) { return raw.Command(args); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK
// ---------------------------------------------------------------------------------------------

TEST_CASE("zsets: ZADD adds and updates; CH counts both") {
  Client c;
  CHECK(Do(c, {"ZADD", "z", "1", "a", "2", "b", "3", "c"}) == ":3");
  CHECK(Do(c, {"ZADD", "z", "1", "a", "5", "b", "9", "d"}) == ":1");
  CHECK(Do(c, {"ZADD", "z", "ch", "5", "a", "5", "b", "10", "e"}) == ":2");
  CHECK(Do(c, {"ZADD", "z", "CH", "5", "a"}) == ":0");  // unchanged score
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "WITHSCORES"}) == "[c, 3, a, 5, b, 5, d, 9, e, 10]");
  CHECK(Do(c, {"ZCARD", "z"}) == ":5");
  CHECK(Do(c, {"ZCARD", "missing"}) == ":0");
  // A member repeated in one command takes its last score.
  CHECK(Do(c, {"ZADD", "r", "1", "x", "2", "x"}) == ":1");
  CHECK(Do(c, {"ZSCORE", "r", "x"}) == "2");
  // Binary-safe members, empty included.
  std::string bin("a\0b\r\n", 5);
  CHECK(c.Run({"ZADD", "bin", "1", bin, "2", ""}).IsInt(2));
  CHECK(c.Run({"ZSCORE", "bin", bin}) == "1");
  CHECK(c.Run({"ZRANGE", "bin", "0", "-1"}).Dump() == "[" + bin + ", ]");
}

TEST_CASE("zsets: ZADD NX, XX, GT, LT and INCR") {
  Client c;
  c.Run({"ZADD", "z", "5", "a"});
  CHECK(Do(c, {"ZADD", "z", "NX", "1", "a", "1", "b"}) == ":1");
  CHECK(Do(c, {"ZSCORE", "z", "a"}) == "5");
  CHECK(Do(c, {"ZADD", "z", "XX", "7", "a", "7", "new"}) == ":0");
  CHECK(Do(c, {"ZSCORE", "z", "a"}) == "7");
  CHECK(Do(c, {"ZSCORE", "z", "new"}) == "(nil)");
  CHECK(Do(c, {"ZADD", "z", "GT", "CH", "6", "a", "8", "b", "1", "c"}) == ":2");  // b up, c new
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "WITHSCORES"}) == "[c, 1, a, 7, b, 8]");
  CHECK(Do(c, {"ZADD", "z", "LT", "CH", "9", "a", "2", "b"}) == ":1");
  CHECK(Do(c, {"ZADD", "z", "XX", "LT", "0", "c", "0", "nope"}) == ":0");
  CHECK(Do(c, {"ZSCORE", "z", "c"}) == "0");
  CHECK(Do(c, {"ZADD", "z", "INCR", "2.5", "a"}) == "9.5");
  CHECK(Do(c, {"ZADD", "z", "NX", "INCR", "1", "a"}) == "(nil)");
  CHECK(Do(c, {"ZADD", "z", "XX", "INCR", "1", "nosuch"}) == "(nil)");
  CHECK(Do(c, {"ZADD", "z", "GT", "INCR", "-1", "a"}) == "(nil)");
  CHECK(Do(c, {"ZADD", "z", "LT", "INCR", "-1", "a"}) == "8.5");
  CHECK(Do(c, {"ZADD", "z", "INCR", "0", "a"}) == "8.5");
  CHECK(Do(c, {"ZADD", "missing", "XX", "1", "a"}) == ":0");
  CHECK(Do(c, {"ZADD", "missing", "XX", "INCR", "1", "a"}) == "(nil)");
  CHECK(Do(c, {"EXISTS", "missing"}) == ":0");
  CHECK(Do(c, {"ZADD", "z", "nx", "gt", "ch", "incr", "1", "fresh"}).starts_with("!ERR GT, LT"));
}

TEST_CASE("zsets: ZADD errors, in Redis's order") {
  Client c;
  c.Run({"ZADD", "z", "1", "a"});
  CHECK(Do(c, {"ZADD", "z", "NX", "XX", "1", "a"}) ==
        "!ERR XX and NX options at the same time are not compatible");
  CHECK(Do(c, {"ZADD", "z", "GT", "LT", "1", "a"}) ==
        "!ERR GT, LT, and/or NX options at the same time are not compatible");
  CHECK(Do(c, {"ZADD", "z", "GT", "NX", "1", "a"}) ==
        "!ERR GT, LT, and/or NX options at the same time are not compatible");
  CHECK(Do(c, {"ZADD", "z", "LT", "NX", "1", "a"}) ==
        "!ERR GT, LT, and/or NX options at the same time are not compatible");
  CHECK(Do(c, {"ZADD", "z", "INCR", "1", "a", "2", "b"}) ==
        "!ERR INCR option supports a single increment-element pair");
  CHECK(Do(c, {"ZADD", "z", "1", "a", "2"}) == kSyntax);
  CHECK(Do(c, {"ZADD", "z", "NX", "XX", "1"}) == kSyntax);  // the pairs are checked first
  CHECK(Do(c, {"ZADD", "z", "1"}) == "!ERR wrong number of arguments for 'zadd' command");
  for (const char* bad : {"nan", "abc", "", " 1", "1 ", "1e400", "-1e400", "1e-400", "1,5"}) {
    CAPTURE(bad);
    CHECK(Do(c, {"ZADD", "z", bad, "x"}) == kNotFloat);
  }
  // A bad score anywhere means nothing is added.
  CHECK(Do(c, {"ZADD", "z", "1", "x", "bad", "y"}) == kNotFloat);
  CHECK(Do(c, {"ZSCORE", "z", "x"}) == "(nil)");
  // What strtod accepts passes: a leading '+', hex, infinities, subnormals.
  CHECK(Do(c, {"ZADD", "z", "+1", "p", "0x10", "h", "inf", "i", "-INF", "j", "4.9e-324", "s"}) ==
        ":5");
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "WITHSCORES"}) ==
        "[j, -inf, s, 5e-324, a, 1, p, 1, h, 16, i, inf]");
  // inf + -inf is NaN: refused, the score stays.
  CHECK(Do(c, {"ZADD", "z", "INCR", "-inf", "i"}) == "!ERR resulting score is not a number (NaN)");
  CHECK(Do(c, {"ZINCRBY", "z", "-inf", "i"}) == "!ERR resulting score is not a number (NaN)");
  CHECK(Do(c, {"ZSCORE", "z", "i"}) == "inf");
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"ZADD", "str", "1", "a"}) == kWrongType);
  CHECK(Do(c, {"ZADD", "str", "x", "a"}) == kNotFloat);  // arguments before the type
}

TEST_CASE("zsets: ZINCRBY, and scores printed as Redis 7.2 prints them") {
  Client c;
  CHECK(Do(c, {"ZINCRBY", "z", "0.1", "a"}) == "0.1");
  CHECK(Do(c, {"ZINCRBY", "z", "0.2", "a"}) == "0.30000000000000004");
  CHECK(Do(c, {"ZSCORE", "z", "a"}) == "0.30000000000000004");
  CHECK(Do(c, {"ZINCRBY", "z", "x", "a"}) == kNotFloat);
  CHECK(Do(c, {"ZINCRBY", "z", "1e308", "big"}) == "1e+308");
  CHECK(Do(c, {"ZINCRBY", "z", "1e308", "big"}) == "inf");  // overflow is allowed
  const std::pair<const char*, const char*> cases[] = {
      {"1", "1"},           {"-1.5", "-1.5"},       {"1e17", "100000000000000000"},
      {"5e18", "5e+18"},    {"0.00001", "0.00001"}, {"0.0001234", "1.234e-4"},
      {"1.5e-7", "1.5e-7"}, {"123.456", "123.456"}, {"1e21", "1e+21"},
      {"-0", "0"},  // a listpack keeps no sign on zero, as Redis's does not
  };
  for (auto [in, out] : cases) {
    CAPTURE(in);
    c.Run({"ZADD", "f", in, "m"});
    CHECK(Do(c, {"ZSCORE", "f", "m"}) == out);
  }
  Resp3 r;
  CHECK(r({"ZINCRBY", "z", "1", "a"}) == ",1.3\r\n");
  CHECK(r({"ZSCORE", "z", "big"}) == ",inf\r\n");
  CHECK(r({"ZADD", "z", "INCR", "1", "n"}) == ",1\r\n");
  CHECK(r({"ZADD", "z", "NX", "INCR", "1", "n"}) == "_\r\n");
}

TEST_CASE("zsets: ZREM deletes the key when the last member goes") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  CHECK(Do(c, {"ZREM", "z", "a", "x", "a"}) == ":1");
  CHECK(Do(c, {"ZREM", "missing", "a"}) == ":0");
  CHECK(Do(c, {"ZREM", "z", "b", "c", "d"}) == ":2");
  CHECK(Do(c, {"EXISTS", "z"}) == ":0");
  CHECK(Do(c, {"ZREM", "z"}) == "!ERR wrong number of arguments for 'zrem' command");
}

TEST_CASE("zsets: ZSCORE, ZMSCORE, ZRANK and ZREVRANK, with WITHSCORE") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  CHECK(Do(c, {"ZSCORE", "z", "b"}) == "2");
  CHECK(Do(c, {"ZSCORE", "z", "x"}) == "(nil)");
  CHECK(Do(c, {"ZSCORE", "missing", "x"}) == "(nil)");
  CHECK(Do(c, {"ZMSCORE", "z", "a", "x", "c"}) == "[1, (nil), 3]");
  CHECK(Do(c, {"ZMSCORE", "missing", "a", "b"}) == "[(nil), (nil)]");
  CHECK(Do(c, {"ZRANK", "z", "a"}) == ":0");
  CHECK(Do(c, {"ZREVRANK", "z", "a"}) == ":2");
  CHECK(Do(c, {"ZRANK", "z", "x"}) == "(nil)");
  CHECK(Do(c, {"ZRANK", "missing", "x"}) == "(nil)");
  CHECK(Do(c, {"ZRANK", "z", "c", "WITHSCORE"}) == "[:2, 3]");
  CHECK(Do(c, {"ZREVRANK", "z", "c", "withscore"}) == "[:0, 3]");
  CHECK(c.Run({"ZRANK", "z", "x", "WITHSCORE"}).IsNil());
  CHECK(Do(c, {"ZRANK", "z", "a", "WITHSCORES"}) == kSyntax);
  CHECK(Do(c, {"ZRANK", "z", "a", "WITHSCORE", "x"}) ==
        "!ERR wrong number of arguments for 'zrank' command");
  Resp3 r;
  CHECK(r({"ZSCORE", "z", "a"}) == ",1\r\n");
  CHECK(r({"ZSCORE", "z", "x"}) == "_\r\n");
  CHECK(r({"ZMSCORE", "z", "a", "x"}) == "*2\r\n,1\r\n_\r\n");
  CHECK(r({"ZRANK", "z", "b", "WITHSCORE"}) == "*2\r\n:1\r\n,2\r\n");
  CHECK(r({"ZRANK", "z", "x", "WITHSCORE"}) == "_\r\n");
  CHECK(r({"ZRANK", "z", "x"}) == "_\r\n");
  RawClient raw;  // RESP2's null for a missing member with WITHSCORE is a null array
  CHECK(raw.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(raw.Command({"ZRANK", "z", "x", "WITHSCORE"}) == "*-1\r\n");
  CHECK(raw.Command({"ZRANK", "z", "x"}) == "$-1\r\n");
}

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

TEST_CASE("zsets: ZRANGE by rank, REV, WITHSCORES, and the older ZREVRANGE") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"});
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1"}) == "[a, b, c, d, e]");
  CHECK(Do(c, {"ZRANGE", "z", "1", "-2"}) == "[b, c, d]");
  CHECK(Do(c, {"ZRANGE", "z", "-100", "100"}) == "[a, b, c, d, e]");
  CHECK(Do(c, {"ZRANGE", "z", "3", "1"}) == "[]");
  CHECK(Do(c, {"ZRANGE", "z", "5", "10"}) == "[]");
  CHECK(Do(c, {"ZRANGE", "z", "0", "1", "WITHSCORES"}) == "[a, 1, b, 2]");
  CHECK(Do(c, {"ZRANGE", "z", "0", "1", "REV"}) == "[e, d]");
  CHECK(Do(c, {"ZRANGE", "z", "-3", "-1", "REV", "WITHSCORES"}) == "[c, 3, b, 2, a, 1]");
  CHECK(Do(c, {"ZREVRANGE", "z", "0", "-1"}) == "[e, d, c, b, a]");
  CHECK(Do(c, {"ZREVRANGE", "z", "0", "0", "WITHSCORES"}) == "[e, 5]");
  CHECK(Do(c, {"ZRANGE", "missing", "0", "-1"}) == "[]");
  CHECK(Do(c, {"ZRANGE", "z", "a", "b"}) == kNotInt);
  CHECK(Do(c, {"ZRANGE", "z", "0", "1", "foo"}) == kSyntax);
  CHECK(Do(c, {"ZRANGE", "z", "0", "1", "REV", "REV"}) == kSyntax);
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"}) ==
        "!ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "LIMIT", "1", "-2"}) ==
        "!ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  // Redis tells "no LIMIT" by a count of -1, so this one passes (as it does there).
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "LIMIT", "1", "-1"}) == "[a, b, c, d, e]");
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "LIMIT", "0"}) == kSyntax);
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "WITHSCORES", "BYLEX"}) ==
        "!ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  CHECK(Do(c, {"ZREVRANGE", "z", "0", "1", "BYSCORE"}) == kSyntax);
  CHECK(Do(c, {"ZRANGE", "z", "1"}) == "!ERR wrong number of arguments for 'zrange' command");
}

TEST_CASE("zsets: score ranges: exclusive bounds, infinities, LIMIT, BYSCORE REV") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "5", "f", "-inf", "lo",
         "+inf", "hi"});
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "(1", "(5"}) == "[b, c, d]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "(1", "5", "WITHSCORES"}) == "[b, 2, c, 3, d, 4, e, 5, f, 5]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "5", "5"}) == "[e, f]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "(5", "5"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "6", "1"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "-inf", "-inf", "WITHSCORES"}) == "[lo, -inf]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "(-inf", "(+inf"}) == "[a, b, c, d, e, f]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "2", "3", "WITHSCORES"}) ==
        "[b, 2, c, 3, d, 4]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "6", "-1"}) == "[f, hi]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "0"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "100", "3"}) == "[]");
  // strtod rules: a leading space, "" (0), hex and overflow pass; a trailing space fails.
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", " 1", "2"}) == "[a, b]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "", "0x2"}) == "[a, b]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "1e400", "+inf"}) == "[hi]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "1 ", "2"}) == kMinMaxFloat);
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "nan", "2"}) == kMinMaxFloat);
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "(nan", "2"}) == kMinMaxFloat);
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "a", "2"}) == kMinMaxFloat);
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "a", "1"}) == kNotInt);
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "1"}) == kSyntax);
  CHECK(Do(c, {"ZRANGEBYSCORE", "z", "1", "2", "REV"}) == kSyntax);
  CHECK(Do(c, {"ZREVRANGEBYSCORE", "z", "5", "(2"}) == "[f, e, d, c]");
  CHECK(Do(c, {"ZREVRANGEBYSCORE", "z", "2", "5"}) == "[]");
  CHECK(Do(c, {"ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2", "WITHSCORES"}) ==
        "[f, 5, e, 5]");
  CHECK(Do(c, {"ZRANGE", "z", "(5", "1", "BYSCORE", "REV"}) == "[d, c, b, a]");
  CHECK(Do(c, {"ZRANGE", "z", "5", "1", "BYSCORE", "REV", "LIMIT", "1", "2"}) == "[e, d]");
  CHECK(Do(c, {"ZRANGE", "z", "1", "5", "BYSCORE", "LIMIT", "1", "2", "WITHSCORES"}) ==
        "[b, 2, c, 3]");
  CHECK(Do(c, {"ZRANGE", "z", "1", "5", "BYSCORE", "BYSCORE"}) == kSyntax);
  CHECK(Do(c, {"ZRANGE", "z", "1", "5", "BYSCORE", "BYLEX"}) == kSyntax);
  CHECK(Do(c, {"ZCOUNT", "z", "-inf", "+inf"}) == ":8");
  CHECK(Do(c, {"ZCOUNT", "z", "(1", "5"}) == ":5");
  CHECK(Do(c, {"ZCOUNT", "z", "5", "1"}) == ":0");
  CHECK(Do(c, {"ZCOUNT", "missing", "0", "1"}) == ":0");
  CHECK(Do(c, {"ZCOUNT", "z", "a", "1"}) == kMinMaxFloat);
}

TEST_CASE("zsets: lex ranges: ZRANGEBYLEX, ZREVRANGEBYLEX, BYLEX, ZLEXCOUNT") {
  Client c;
  c.Run({"ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "", "0", "aa", "0",
         "ab"});
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "-", "+"}) == "[, a, aa, ab, b, c, d, e]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "[a", "[b"}) == "[a, aa, ab, b]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "(a", "(b"}) == "[aa, ab]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "[aa", "(b"}) == "[aa, ab]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "(", "[b"}) == "[a, aa, ab, b]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "[", "[a"}) == "[, a]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "-", "-"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "+", "+"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "+", "-"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "[b", "[a"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "(a", "(a"}) == "[]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "[a", "[a"}) == "[a]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "-", "+", "LIMIT", "2", "2"}) == "[aa, ab]");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "-", "+", "LIMIT", "2"}) == kSyntax);
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "-", "+", "WITHSCORES"}) ==
        "!ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "a", "[b"}) == kMinMaxLex);
  CHECK(Do(c, {"ZRANGEBYLEX", "l", "-a", "+"}) == kMinMaxLex);
  CHECK(Do(c, {"ZREVRANGEBYLEX", "l", "+", "-"}) == "[e, d, c, b, ab, aa, a, ]");
  CHECK(Do(c, {"ZREVRANGEBYLEX", "l", "[e", "(b", "LIMIT", "0", "2"}) == "[e, d]");
  CHECK(Do(c, {"ZREVRANGEBYLEX", "l", "-", "+"}) == "[]");
  CHECK(Do(c, {"ZRANGE", "l", "[e", "[b", "BYLEX", "REV", "LIMIT", "1", "1"}) == "[d]");
  CHECK(Do(c, {"ZRANGE", "l", "0", "-1", "REV", "BYLEX"}) == kMinMaxLex);
  CHECK(Do(c, {"ZLEXCOUNT", "l", "-", "+"}) == ":8");
  CHECK(Do(c, {"ZLEXCOUNT", "l", "[b", "(e"}) == ":3");
  CHECK(Do(c, {"ZLEXCOUNT", "l", "(a", "[a"}) == ":0");
  CHECK(Do(c, {"ZLEXCOUNT", "missing", "-", "+"}) == ":0");
  CHECK(Do(c, {"ZLEXCOUNT", "l", "a", "b"}) == kMinMaxLex);
}

TEST_CASE("zsets: ranges on a skiplist answer as on a listpack") {
  Client c;
  Fill(c, "big", 300);
  CHECK(Encoding(c, "big") == "skiplist");
  CHECK(Do(c, {"ZRANGE", "big", "100", "102", "WITHSCORES"}) ==
        "[m100, 100, m101, 101, m102, 102]");
  CHECK(Do(c, {"ZRANGE", "big", "0", "1", "REV"}) == "[m299, m298]");
  CHECK(Do(c, {"ZRANGEBYSCORE", "big", "(10", "20", "LIMIT", "5", "3"}) == "[m16, m17, m18]");
  CHECK(Do(c, {"ZREVRANGEBYSCORE", "big", "20", "(10", "LIMIT", "5", "3"}) == "[m15, m14, m13]");
  CHECK(Do(c, {"ZCOUNT", "big", "(10", "+inf"}) == ":289");
  CHECK(Do(c, {"ZRANK", "big", "m250"}) == ":250");
  CHECK(Do(c, {"ZREVRANK", "big", "m250", "WITHSCORE"}) == "[:49, 250]");
  std::vector<std::string> args{"ZADD", "lex"};
  for (int i = 0; i < 200; ++i) {
    args.push_back("0");
    args.push_back("k" + std::to_string(1000 + i));
  }
  c.Run(args);
  CHECK(Encoding(c, "lex") == "skiplist");
  CHECK(Do(c, {"ZRANGEBYLEX", "lex", "(k1100", "+", "LIMIT", "0", "2"}) == "[k1101, k1102]");
  CHECK(Do(c, {"ZREVRANGEBYLEX", "lex", "[k1100", "-", "LIMIT", "1", "2"}) == "[k1099, k1098]");
  CHECK(Do(c, {"ZLEXCOUNT", "lex", "[k1050", "(k1150"}) == ":100");
}

TEST_CASE("zsets: ZRANGESTORE stores, replaces or deletes the destination") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"});
  CHECK(Do(c, {"ZRANGESTORE", "dst", "z", "1", "2"}) == ":2");
  CHECK(Do(c, {"ZRANGE", "dst", "0", "-1", "WITHSCORES"}) == "[b, 2, c, 3]");
  CHECK(Do(c, {"ZRANGESTORE", "dst", "z", "0", "-1", "REV"}) == ":4");
  CHECK(Do(c, {"ZRANGE", "dst", "0", "-1"}) == "[a, b, c, d]");  // a sorted set again
  CHECK(Do(c, {"ZRANGESTORE", "dst", "z", "4", "1", "BYSCORE", "REV", "LIMIT", "0", "2"}) == ":2");
  CHECK(Do(c, {"ZRANGE", "dst", "0", "-1", "WITHSCORES"}) == "[c, 3, d, 4]");
  c.Run({"ZADD", "l", "0", "a", "0", "b", "0", "c"});
  CHECK(Do(c, {"ZRANGESTORE", "dst", "l", "(a", "+", "BYLEX"}) == ":2");
  CHECK(Do(c, {"ZRANGE", "dst", "0", "-1"}) == "[b, c]");
  CHECK(Do(c, {"ZRANGESTORE", "dst", "z", "10", "20"}) == ":0");
  CHECK(Do(c, {"EXISTS", "dst"}) == ":0");
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"ZRANGESTORE", "str", "z", "0", "0"}) == ":1");  // any type is replaced
  CHECK(Do(c, {"TYPE", "str"}) == "zset");
  CHECK(Do(c, {"ZRANGESTORE", "str", "missing", "0", "-1"}) == ":0");
  CHECK(Do(c, {"EXISTS", "str"}) == ":0");
  CHECK(Do(c, {"ZRANGESTORE", "z", "z", "0", "0"}) == ":1");  // onto itself
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1"}) == "[a]");
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"ZRANGESTORE", "dst", "str", "0", "0"}) == kWrongType);
  CHECK(Do(c, {"ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"}) == kSyntax);
  CHECK(Do(c, {"ZRANGESTORE", "dst", "z", "0", "-1", "LIMIT", "0", "1"}) ==
        "!ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  CHECK(Do(c, {"ZRANGESTORE", "dst", "z", "0"}) ==
        "!ERR wrong number of arguments for 'zrangestore' command");
}

TEST_CASE("zsets: ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"});
  CHECK(Do(c, {"ZREMRANGEBYRANK", "z", "5", "1"}) == ":0");
  CHECK(Do(c, {"ZREMRANGEBYRANK", "z", "-2", "-1"}) == ":2");
  CHECK(Do(c, {"ZREMRANGEBYSCORE", "z", "(1", "2"}) == ":1");
  CHECK(Do(c, {"ZREMRANGEBYSCORE", "z", "10", "20"}) == ":0");
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1"}) == "[a, c]");
  CHECK(Do(c, {"ZREMRANGEBYRANK", "z", "0", "-1"}) == ":2");
  CHECK(Do(c, {"EXISTS", "z"}) == ":0");
  c.Run({"ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d"});
  CHECK(Do(c, {"ZREMRANGEBYLEX", "l", "(a", "[c"}) == ":2");
  CHECK(Do(c, {"ZRANGE", "l", "0", "-1"}) == "[a, d]");
  CHECK(Do(c, {"ZREMRANGEBYLEX", "l", "-", "+"}) == ":2");
  CHECK(Do(c, {"EXISTS", "l"}) == ":0");
  CHECK(Do(c, {"ZREMRANGEBYRANK", "missing", "0", "1"}) == ":0");
  CHECK(Do(c, {"ZREMRANGEBYRANK", "z", "a", "1"}) == kNotInt);
  CHECK(Do(c, {"ZREMRANGEBYSCORE", "z", "a", "1"}) == kMinMaxFloat);
  CHECK(Do(c, {"ZREMRANGEBYLEX", "z", "a", "1"}) == kMinMaxLex);
  Fill(c, "big", 500);
  CHECK(Do(c, {"ZREMRANGEBYSCORE", "big", "100", "(400"}) == ":300");
  CHECK(Do(c, {"ZREMRANGEBYRANK", "big", "0", "9"}) == ":10");
  CHECK(Do(c, {"ZCARD", "big"}) == ":190");
  CHECK(Do(c, {"ZRANGE", "big", "0", "0"}) == "[m10]");
  CHECK(Do(c, {"ZRANGE", "big", "90", "90"}) == "[m400]");
}

TEST_CASE("zsets: RESP3 replies: doubles, and WITHSCORES pairs as nested arrays") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2.5", "b"});
  Resp3 r;
  CHECK(r({"ZRANGE", "z", "0", "-1", "WITHSCORES"}) ==
        "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  CHECK(r({"ZRANGE", "z", "0", "-1"}) == "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  CHECK(r({"ZRANGEBYSCORE", "z", "2", "3", "WITHSCORES"}) == "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  CHECK(r({"ZREVRANGE", "z", "0", "0", "WITHSCORES"}) == "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  CHECK(r({"ZRANGE", "missing", "0", "-1", "WITHSCORES"}) == "*0\r\n");
  CHECK(r({"ZUNION", "1", "z", "WITHSCORES"}) ==
        "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  CHECK(r({"ZRANDMEMBER", "z", "-2", "WITHSCORES"}).starts_with("*2\r\n*2\r\n$1\r\n"));
  CHECK(r({"ZRANDMEMBER", "missing"}) == "_\r\n");
  CHECK(r({"ZSCAN", "z", "0"}) ==
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n");
  CHECK(r({"ZPOPMIN", "z"}) == "*2\r\n$1\r\na\r\n,1\r\n");  // a single pop stays flat
  c.Run({"ZADD", "z", "1", "a", "3", "c"});
  CHECK(r({"ZPOPMIN", "z", "2"}) == "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  CHECK(r({"ZMPOP", "1", "z", "MAX"}) == "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n,3\r\n");
  CHECK(r({"ZMPOP", "1", "z", "MAX"}) == "_\r\n");
  CHECK(r({"ZPOPMAX", "missing"}) == "*0\r\n");
}

// ---------------------------------------------------------------------------------------------
// Pops, random members, scans
// ---------------------------------------------------------------------------------------------

TEST_CASE("zsets: ZPOPMIN, ZPOPMAX and ZMPOP") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"});
  CHECK(Do(c, {"ZPOPMIN", "z"}) == "[a, 1]");
  CHECK(Do(c, {"ZPOPMAX", "z"}) == "[e, 5]");
  CHECK(Do(c, {"ZPOPMIN", "z", "2"}) == "[b, 2, c, 3]");
  CHECK(Do(c, {"ZPOPMIN", "z", "0"}) == "[]");
  CHECK(Do(c, {"ZPOPMAX", "z", "10"}) == "[d, 4]");
  CHECK(Do(c, {"EXISTS", "z"}) == ":0");
  CHECK(Do(c, {"ZPOPMIN", "missing"}) == "[]");
  CHECK(Do(c, {"ZPOPMIN", "missing", "2"}) == "[]");
  CHECK(Do(c, {"ZPOPMIN", "z", "-1"}) == "!ERR value is out of range, must be positive");
  CHECK(Do(c, {"ZPOPMIN", "z", "x"}) == "!ERR value is out of range, must be positive");
  CHECK(Do(c, {"ZPOPMIN", "z", "1", "2"}) == kSyntax);
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  CHECK(Do(c, {"ZMPOP", "2", "missing", "z", "MIN"}) == "[z, [[a, 1]]]");
  CHECK(Do(c, {"ZMPOP", "1", "z", "max", "COUNT", "5"}) == "[z, [[c, 3], [b, 2]]]");
  CHECK(Do(c, {"ZMPOP", "1", "z", "MIN"}) == "(nil)");
  CHECK(Do(c, {"ZMPOP", "0", "z", "MIN"}) == "!ERR numkeys should be greater than 0");
  CHECK(Do(c, {"ZMPOP", "a", "z", "MIN"}) == "!ERR numkeys should be greater than 0");
  CHECK(Do(c, {"ZMPOP", "2", "z", "MIN"}) == kSyntax);
  CHECK(Do(c, {"ZMPOP", "1", "z", "FOO"}) == kSyntax);
  CHECK(Do(c, {"ZMPOP", "1", "z", "MIN", "COUNT", "0"}) == "!ERR count should be greater than 0");
  CHECK(Do(c, {"ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"}) == kSyntax);
  CHECK(Do(c, {"ZMPOP", "1", "z"}) == "!ERR wrong number of arguments for 'zmpop' command");
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"ZPOPMIN", "str"}) == kWrongType);
  CHECK(Do(c, {"ZPOPMIN", "str", "0"}) == kWrongType);
  CHECK(Do(c, {"ZMPOP", "2", "missing", "str", "MIN"}) == kWrongType);
}

TEST_CASE("zsets: ZRANDMEMBER with and without counts and WITHSCORES") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  const std::set<std::string> all = {"a", "b", "c"};
  CHECK(all.count(c.Run({"ZRANDMEMBER", "z"}).str) == 1);
  CHECK(Do(c, {"ZRANDMEMBER", "missing"}) == "(nil)");
  CHECK(Do(c, {"ZRANDMEMBER", "missing", "5"}) == "[]");
  CHECK(Do(c, {"ZRANDMEMBER", "z", "0"}) == "[]");
  CHECK(Do(c, {"ZRANDMEMBER", "z", "5", "WITHSCORES"}) == "[c, 3, b, 2, a, 1]");  // whole
  Reply two = c.Run({"ZRANDMEMBER", "z", "2"});
  REQUIRE(two.size() == 2);
  CHECK(two[0].str != two[1].str);
  Reply many = c.Run({"ZRANDMEMBER", "z", "-50", "WITHSCORES"});
  REQUIRE(many.size() == 100);
  std::set<std::string> seen;
  for (size_t i = 0; i < many.size(); i += 2) {
    seen.insert(many[i].str);
    CHECK(many[i + 1].str == std::string(1, static_cast<char>('1' + (many[i].str[0] - 'a'))));
  }
  CHECK(seen == all);  // 50 draws of 3 members: all appear (odds of failing ~ 1e-8)
  Fill(c, "big", 500);
  Reply distinct = c.Run({"ZRANDMEMBER", "big", "100"});
  std::set<std::string> unique;
  for (const Reply& e : distinct.elements) unique.insert(e.str);
  CHECK(unique.size() == 100);
  CHECK(c.Run({"ZRANDMEMBER", "big", "400"}).size() == 400);
  CHECK(Do(c, {"ZRANDMEMBER", "z", "x"}) == kNotInt);
  CHECK(Do(c, {"ZRANDMEMBER", "z", "1", "foo"}) == kSyntax);
  CHECK(Do(c, {"ZRANDMEMBER", "z", "1", "WITHSCORES", "x"}) == kSyntax);
  CHECK(Do(c, {"ZRANDMEMBER", "z", "-9223372036854775808"}) ==
        "!ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
  CHECK(Do(c, {"ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"}) ==
        "!ERR value is out of range");
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"ZRANDMEMBER", "str"}) == kWrongType);
}

TEST_CASE("zsets: a huge negative ZRANDMEMBER count cuts the client off, not the server") {
  Client c;
  c.Run({"ZADD", "z", "1", "a"});
  RawClient raw;
  raw.Write("*3\r\n$6\r\nSELECT\r\n$1\r\n9\r\n");
  raw.ReadValue();
  raw.Write("*3\r\n$11\r\nZRANDMEMBER\r\n$1\r\nz\r\n$20\r\n-9223372036854775807\r\n");
  CHECK(raw.Closed(60000));
  CHECK(Do(c, {"ZCARD", "z"}) == ":1");
}

TEST_CASE("zsets: ZSCAN walks every member of a skiplist; listpacks come whole") {
  Client c;
  c.Run({"ZADD", "small", "1", "a", "2.5", "b"});
  CHECK(Do(c, {"ZSCAN", "small", "0"}) == "[0, [a, 1, b, 2.5]]");
  CHECK(Do(c, {"ZSCAN", "small", "0", "MATCH", "b*"}) == "[0, [b, 2.5]]");
  CHECK(Do(c, {"ZSCAN", "missing", "0"}) == "[0, []]");
  Fill(c, "big", 1000);
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    Reply r = c.Run({"ZSCAN", "big", cursor, "COUNT", "50"});
    cursor = r[0].str;
    for (size_t i = 0; i < r[1].size(); i += 2) {
      seen.insert(r[1][i].str);
      CHECK(r[1][i].str == "m" + r[1][i + 1].str);  // member i has score i
    }
    ++calls;
  } while (cursor != "0");
  CHECK(seen.size() == 1000);
  CHECK(calls > 5);
  Reply matched = c.Run({"ZSCAN", "big", "0", "MATCH", "m99*", "COUNT", "100000"});
  CHECK(matched[0].str == "0");
  CHECK(matched[1].size() == 22);  // m99 and m990..m999, with scores
  CHECK(Do(c, {"ZSCAN", "big", "x"}) == "!ERR invalid cursor");
  CHECK(Do(c, {"ZSCAN", "big", "0", "COUNT", "0"}) == kSyntax);
  CHECK(Do(c, {"ZSCAN", "big", "0", "MATCH"}) == kSyntax);
  CHECK(Do(c, {"ZSCAN", "big", "0", "FOO", "1"}) == kSyntax);
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD
// ---------------------------------------------------------------------------------------------

TEST_CASE("zsets: ZUNION, ZINTER and ZDIFF with WEIGHTS, AGGREGATE and plain sets") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  c.Run({"ZADD", "zz", "1", "b", "2", "c", "3", "d", "4", "e"});
  c.Run({"SADD", "plain", "b", "c", "x"});
  CHECK(Do(c, {"ZUNION", "2", "z", "zz"}) == "[a, b, d, e, c]");
  CHECK(Do(c, {"ZUNION", "2", "z", "zz", "WITHSCORES"}) == "[a, 1, b, 3, d, 3, e, 4, c, 5]");
  CHECK(Do(c, {"ZUNION", "2", "z", "zz", "WEIGHTS", "2", "3", "WITHSCORES"}) ==
        "[a, 2, b, 7, d, 9, c, 12, e, 12]");
  CHECK(Do(c, {"ZUNION", "2", "z", "zz", "WEIGHTS", "2", "3", "AGGREGATE", "MIN", "WITHSCORES"}) ==
        "[a, 2, b, 3, c, 6, d, 9, e, 12]");
  CHECK(Do(c, {"ZUNION", "2", "z", "zz", "aggregate", "max", "withscores"}) ==
        "[a, 1, b, 2, c, 3, d, 3, e, 4]");
  CHECK(Do(c, {"ZUNION", "3", "z", "zz", "plain", "WITHSCORES"}) ==
        "[a, 1, x, 1, d, 3, b, 4, e, 4, c, 6]");
  CHECK(Do(c, {"ZUNION", "2", "z", "missing", "WITHSCORES"}) == "[a, 1, b, 2, c, 3]");
  CHECK(Do(c, {"ZINTER", "2", "z", "zz", "WITHSCORES"}) == "[b, 3, c, 5]");
  CHECK(Do(c, {"ZINTER", "3", "z", "zz", "plain", "WITHSCORES"}) == "[b, 4, c, 6]");
  CHECK(Do(c, {"ZINTER", "2", "z", "zz", "WEIGHTS", "1", "-1", "AGGREGATE", "MIN", "WITHSCORES"}) ==
        "[c, -2, b, -1]");
  CHECK(Do(c, {"ZINTER", "2", "z", "missing"}) == "[]");
  CHECK(Do(c, {"ZDIFF", "2", "z", "zz", "WITHSCORES"}) == "[a, 1]");
  CHECK(Do(c, {"ZDIFF", "2", "zz", "plain", "WITHSCORES"}) == "[d, 3, e, 4]");
  CHECK(Do(c, {"ZDIFF", "2", "z", "z"}) == "[]");
  CHECK(Do(c, {"ZDIFF", "1", "missing"}) == "[]");
  // inf x 0 and inf + -inf count as 0.
  c.Run({"ZADD", "pinf", "inf", "a"});
  c.Run({"ZADD", "ninf", "-inf", "a"});
  CHECK(Do(c, {"ZUNION", "2", "pinf", "ninf", "WITHSCORES"}) == "[a, 0]");
  CHECK(Do(c, {"ZUNION", "2", "pinf", "ninf", "WEIGHTS", "0", "1", "WITHSCORES"}) == "[a, -inf]");
  CHECK(Do(c, {"ZINTER", "2", "pinf", "ninf", "AGGREGATE", "MIN", "WITHSCORES"}) == "[a, -inf]");
  CHECK(Do(c, {"ZUNION", "1", "pinf", "WEIGHTS", "0x10", "WITHSCORES"}) == "[a, inf]");
}

TEST_CASE("zsets: set-algebra errors, in Redis's order") {
  Client c;
  c.Run({"ZADD", "z", "1", "a"});
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"ZUNION", "0", "z"}) == "!ERR at least 1 input key is needed for 'zunion' command");
  CHECK(Do(c, {"ZUNIONSTORE", "d", "-1", "z"}) ==
        "!ERR at least 1 input key is needed for 'zunionstore' command");
  CHECK(Do(c, {"ZINTERCARD", "0", "z"}) ==
        "!ERR at least 1 input key is needed for 'zintercard' command");
  CHECK(Do(c, {"ZUNIONSTORE", "d", "x", "z"}) == kNotInt);
  CHECK(Do(c, {"ZUNIONSTORE", "d", "2", "z"}) == kSyntax);
  CHECK(Do(c, {"ZUNIONSTORE", "d", "1", "z", "WEIGHTS"}) == kSyntax);
  CHECK(Do(c, {"ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "x"}) ==
        "!ERR weight value is not a float");
  CHECK(Do(c, {"ZUNIONSTORE", "d", "1", "z", "WEIGHTS", "1", "2"}) == kSyntax);
  CHECK(Do(c, {"ZUNIONSTORE", "d", "1", "z", "AGGREGATE", "foo"}) == kSyntax);
  CHECK(Do(c, {"ZUNIONSTORE", "d", "1", "z", "AGGREGATE"}) == kSyntax);
  CHECK(Do(c, {"ZUNIONSTORE", "d", "1", "z", "WITHSCORES"}) == kSyntax);
  CHECK(Do(c, {"ZUNION", "1", "z", "foo"}) == kSyntax);
  CHECK(Do(c, {"ZDIFF", "1", "z", "WEIGHTS", "1"}) == kSyntax);
  CHECK(Do(c, {"ZDIFFSTORE", "d", "1", "z", "AGGREGATE", "SUM"}) == kSyntax);
  CHECK(Do(c, {"ZINTER", "1", "str"}) == kWrongType);
  CHECK(Do(c, {"ZUNION", "2", "str", "z", "foo"}) == kWrongType);  // keys before options
  CHECK(Do(c, {"ZINTERCARD", "1", "str"}) == kWrongType);
  CHECK(Do(c, {"ZINTERCARD", "2", "z"}) == kSyntax);
  CHECK(Do(c, {"ZINTERCARD", "1", "z", "LIMIT", "-1"}) == "!ERR LIMIT can't be negative");
  CHECK(Do(c, {"ZINTERCARD", "1", "z", "LIMIT", "x"}) == "!ERR LIMIT can't be negative");
  CHECK(Do(c, {"ZINTERCARD", "1", "z", "foo"}) == kSyntax);
  CHECK(Do(c, {"ZUNIONSTORE", "d", "1"}) ==
        "!ERR wrong number of arguments for 'zunionstore' command");
}

TEST_CASE("zsets: STORE forms replace or delete the destination; ZINTERCARD with LIMIT") {
  Client c;
  c.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  c.Run({"ZADD", "zz", "1", "b", "2", "c", "3", "d"});
  CHECK(Do(c, {"ZUNIONSTORE", "d", "2", "z", "zz", "WEIGHTS", "2", "3"}) == ":4");
  CHECK(Do(c, {"ZRANGE", "d", "0", "-1", "WITHSCORES"}) == "[a, 2, b, 7, d, 9, c, 12]");
  CHECK(Do(c, {"ZINTERSTORE", "d", "2", "z", "zz", "AGGREGATE", "MAX"}) == ":2");
  CHECK(Do(c, {"ZRANGE", "d", "0", "-1", "WITHSCORES"}) == "[b, 2, c, 3]");
  CHECK(Do(c, {"ZDIFFSTORE", "d", "2", "z", "zz"}) == ":1");
  CHECK(Do(c, {"ZRANGE", "d", "0", "-1", "WITHSCORES"}) == "[a, 1]");
  CHECK(Do(c, {"ZINTERSTORE", "d", "2", "z", "missing"}) == ":0");
  CHECK(Do(c, {"EXISTS", "d"}) == ":0");
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"ZUNIONSTORE", "str", "1", "z"}) == ":3");
  CHECK(Do(c, {"TYPE", "str"}) == "zset");
  CHECK(Do(c, {"ZUNIONSTORE", "z", "2", "z", "zz"}) == ":4");  // a source as destination
  CHECK(Do(c, {"ZRANGE", "z", "0", "-1", "WITHSCORES"}) == "[a, 1, b, 3, d, 3, c, 5]");
  CHECK(Do(c, {"ZINTERCARD", "2", "z", "zz"}) == ":3");
  CHECK(Do(c, {"ZINTERCARD", "2", "z", "zz", "LIMIT", "2"}) == ":2");
  CHECK(Do(c, {"ZINTERCARD", "2", "z", "zz", "LIMIT", "0"}) == ":3");
  CHECK(Do(c, {"ZINTERCARD", "2", "z", "missing"}) == ":0");
  c.Run({"SADD", "plain", "b", "zzz"});
  CHECK(Do(c, {"ZINTERCARD", "2", "z", "plain"}) == ":1");
}

// ---------------------------------------------------------------------------------------------
// Encodings, generic commands, transactions
// ---------------------------------------------------------------------------------------------

TEST_CASE("zsets: OBJECT ENCODING follows zset-max-listpack-entries and -value") {
  Client c;
  Fill(c, "z", 128);
  CHECK(Encoding(c, "z") == "listpack");
  c.Run({"ZADD", "z", "1", "m0"});  // an update never converts
  CHECK(Encoding(c, "z") == "listpack");
  c.Run({"ZADD", "z", "1", "one-more"});
  CHECK(Encoding(c, "z") == "skiplist");
  c.Run({"ZREMRANGEBYRANK", "z", "0", "-3"});
  CHECK(Encoding(c, "z") == "skiplist");  // never back by itself
  c.Run({"ZADD", "v", "1", std::string(64, 'x')});
  CHECK(Encoding(c, "v") == "listpack");
  c.Run({"ZADD", "v", "1", std::string(65, 'x')});
  CHECK(Encoding(c, "v") == "skiplist");
  c.Run({"ZADD", "w", "1", "a", "2", std::string(65, 'x')});  // created for its longest member
  CHECK(Encoding(c, "w") == "skiplist");
  // Redis 7.2 sizes ZADD by its argument count, even when the members repeat.
  std::vector<std::string> args{"ZADD", "dup"};
  for (int i = 0; i < 129; ++i) args.insert(args.end(), {"1", "same"});
  CHECK(c.Run(args).IsInt(1));
  CHECK(Encoding(c, "dup") == "skiplist");
  c.Run({"ZADD", "grow", "1", "a"});
  args[1] = "grow";
  c.Run(args);
  CHECK(Encoding(c, "grow") == "skiplist");
  // Stores give the result the encoding that fits it.
  CHECK(Do(c, {"ZRANGESTORE", "r", "z", "0", "0"}) == ":1");
  CHECK(Encoding(c, "r") == "listpack");
  CHECK(Do(c, {"ZUNIONSTORE", "u", "1", "z"}) == ":2");
  CHECK(Encoding(c, "u") == "listpack");
  Fill(c, "big", 200);
  CHECK(Do(c, {"ZINTERSTORE", "i", "1", "big"}) == ":200");
  CHECK(Encoding(c, "i") == "skiplist");
  CHECK(Do(c, {"ZRANGESTORE", "r", "big", "0", "127"}) == ":128");
  CHECK(Encoding(c, "r") == "listpack");
  {
    ConfigGuard entries(c, "zset-max-listpack-entries", "2");
    ConfigGuard value(c, "zset-max-ziplist-value", "3");  // the Redis 6 name of the same
    CHECK(Do(c, {"CONFIG", "GET", "zset-max-ziplist-entries"}) == "[zset-max-ziplist-entries, 2]");
    CHECK(Do(c, {"CONFIG", "GET", "zset-max-listpack-value"}) == "[zset-max-listpack-value, 3]");
    c.Run({"ZADD", "s", "1", "a", "2", "b"});
    CHECK(Encoding(c, "s") == "listpack");
    c.Run({"ZADD", "s", "3", "c"});
    CHECK(Encoding(c, "s") == "skiplist");
    c.Run({"ZADD", "t", "1", "abcd"});
    CHECK(Encoding(c, "t") == "skiplist");
    CHECK(Do(c, {"ZRANGESTORE", "s2", "s", "0", "1"}) == ":2");
    CHECK(Encoding(c, "s2") == "listpack");
  }
  CHECK(Do(c, {"CONFIG", "GET", "zset-max-listpack-entries"}) ==
        "[zset-max-listpack-entries, 128]");
  CHECK(Do(c, {"CONFIG", "SET", "zset-max-listpack-entries", "x"}).starts_with("!ERR CONFIG SET"));
}

TEST_CASE("zsets: TYPE, DEL, EXISTS, RENAME, COPY, EXPIRE, DUMP/RESTORE and SCAN TYPE") {
  Client c;
  c.Run({"ZADD", "small", "1", "a", "2.5", "b"});
  Fill(c, "big", 300);
  CHECK(Do(c, {"TYPE", "small"}) == "zset");
  CHECK(Do(c, {"COPY", "small", "small2"}) == ":1");
  CHECK(Do(c, {"COPY", "big", "big2"}) == ":1");
  CHECK(Encoding(c, "big2") == "skiplist");
  CHECK(Do(c, {"ZADD", "small2", "9", "z"}) == ":1");  // a deep copy
  CHECK(Do(c, {"ZCARD", "small"}) == ":2");
  CHECK(Do(c, {"ZRANGE", "big2", "299", "299", "WITHSCORES"}) == "[m299, 299]");
  CHECK(Do(c, {"RENAME", "small2", "renamed"}) == "OK");
  CHECK(Do(c, {"ZRANGE", "renamed", "0", "-1"}) == "[a, b, z]");
  for (const char* key : {"small", "big"}) {
    std::string dump = c.Run({"DUMP", key}).str;
    std::string copy = std::string(key) + "-restored";
    CHECK(c.Run({"RESTORE", copy, "0", dump}) == "OK");
    CHECK(Encoding(c, copy) == Encoding(c, key));
    CHECK(c.Run({"ZRANGE", copy, "0", "-1", "WITHSCORES"}).Dump() ==
          c.Run({"ZRANGE", key, "0", "-1", "WITHSCORES"}).Dump());
  }
  CHECK(Do(c, {"EXPIRE", "small", "100"}) == ":1");
  CHECK(Do(c, {"TTL", "small"}) == ":100");
  CHECK(Do(c, {"PEXPIRE", "big2", "1"}) == ":1");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  c.Run({"SET", "str", "x"});
  Reply scan = c.Run({"SCAN", "0", "TYPE", "zset", "COUNT", "1000"});
  std::set<std::string> zsets;
  for (const Reply& k : scan[1].elements) zsets.insert(k.str);
  CHECK(zsets ==
        std::set<std::string>{"small", "big", "renamed", "small-restored", "big-restored"});
  CHECK(Do(c, {"DEL", "small", "big"}) == ":2");
  CHECK(Do(c, {"EXISTS", "small", "big", "big2"}) == ":0");
}

TEST_CASE("zsets: WRONGTYPE from every command on a key of another type") {
  Client c;
  c.Run({"SET", "str", "x"});
  c.Run({"ZADD", "z", "1", "a"});
  const std::vector<std::vector<std::string>> cmds = {{"ZADD", "str", "1", "a"},
                                                      {"ZINCRBY", "str", "1", "a"},
                                                      {"ZREM", "str", "a"},
                                                      {"ZCARD", "str"},
                                                      {"ZSCORE", "str", "a"},
                                                      {"ZMSCORE", "str", "a"},
                                                      {"ZRANK", "str", "a"},
                                                      {"ZREVRANK", "str", "a"},
                                                      {"ZRANGE", "str", "0", "1"},
                                                      {"ZREVRANGE", "str", "0", "1"},
                                                      {"ZRANGEBYSCORE", "str", "0", "1"},
                                                      {"ZREVRANGEBYSCORE", "str", "1", "0"},
                                                      {"ZRANGEBYLEX", "str", "-", "+"},
                                                      {"ZREVRANGEBYLEX", "str", "+", "-"},
                                                      {"ZCOUNT", "str", "0", "1"},
                                                      {"ZLEXCOUNT", "str", "-", "+"},
                                                      {"ZRANGESTORE", "d", "str", "0", "1"},
                                                      {"ZREMRANGEBYRANK", "str", "0", "1"},
                                                      {"ZREMRANGEBYSCORE", "str", "0", "1"},
                                                      {"ZREMRANGEBYLEX", "str", "-", "+"},
                                                      {"ZPOPMIN", "str"},
                                                      {"ZPOPMAX", "str", "2"},
                                                      {"ZMPOP", "1", "str", "MIN"},
                                                      {"BZPOPMIN", "str", "0"},
                                                      {"BZPOPMAX", "str", "0"},
                                                      {"BZMPOP", "0", "1", "str", "MAX"},
                                                      {"ZRANDMEMBER", "str"},
                                                      {"ZSCAN", "str", "0"},
                                                      {"ZUNION", "1", "str"},
                                                      {"ZINTERSTORE", "d", "2", "z", "str"},
                                                      {"ZDIFF", "2", "z", "str"},
                                                      {"ZINTERCARD", "1", "str"}};
  for (const auto& cmd : cmds) {
    CAPTURE(cmd[0]);
    CHECK(c.Run(cmd).Dump() == kWrongType);
  }
  // And the other families on a sorted set.
  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"GET", "z"},
                                             {"LPUSH", "z", "a"},
                                             {"SADD", "z", "a"},
                                             {"HSET", "z", "f", "v"},
                                             {"XADD", "z", "*", "f", "v"},
                                             {"SINTER", "z"}}) {
    CAPTURE(cmd[0]);
    CHECK(c.Run(cmd).Dump() == kWrongType);
  }
}

TEST_CASE("zsets: COMMAND INFO rows") {
  Client c;
  CHECK(Do(c, {"COMMAND", "INFO", "zadd"})
            .starts_with(
                "[[zadd, :-4, [write, denyoom, fast], :1, :1, :1, [@write, @sortedset, @fast]"));
  CHECK(Do(c, {"COMMAND", "INFO", "zrank"})
            .starts_with("[[zrank, :-3, [readonly, fast], :1, :1, :1, [@read, @sortedset, @fast]"));
  CHECK(Do(c, {"COMMAND", "INFO", "bzpopmin"})
            .starts_with("[[bzpopmin, :-3, [write, noscript, blocking, fast], :1, :-2, :1, "
                         "[@write, @sortedset, @fast, @blocking]"));
  CHECK(Do(c, {"COMMAND", "INFO", "zunionstore"})
            .starts_with("[[zunionstore, :-4, [write, denyoom, movablekeys], :1, :1, :1"));
  CHECK(Do(c, {"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}) ==
        "[d, a, b]");
  CHECK(Do(c, {"COMMAND", "GETKEYS", "ZINTERCARD", "2", "a", "b", "LIMIT", "1"}) == "[a, b]");
  CHECK(Do(c, {"COMMAND", "GETKEYS", "BZMPOP", "0", "2", "a", "b", "MIN"}) == "[a, b]");
  CHECK(Do(c, {"COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", "0", "1"}) == "[d, s]");
  Reply docs = c.Run({"COMMAND", "DOCS", "zrangebyscore"});
  CHECK(docs.Dump().find("sorted_set") != std::string::npos);
}

TEST_CASE("zsets: MULTI/EXEC with sorted-set commands") {
  Client c;
  c.Run({"ZADD", "a", "1", "x", "2", "y"});
  c.Run({"MULTI"});
  c.Run({"ZINCRBY", "a", "5", "x"});
  c.Run({"ZPOPMIN", "a"});
  c.Run({"ZUNIONSTORE", "u", "1", "a"});
  c.Run({"ZRANGE", "u", "0", "-1", "WITHSCORES"});
  CHECK(Do(c, {"EXEC"}) == "[6, [y, 2], :1, [x, 6]]");
  CHECK(Do(c, {"ZCARD", "a"}) == ":1");
}

}  // namespace runnel::test
