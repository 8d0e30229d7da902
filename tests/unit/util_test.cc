#include <doctest/doctest.h>

#include <climits>
#include <random>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/util.h"

using namespace runnel;

TEST_CASE("util: ParseInt64 is strict like Redis") {
  int64_t v = 0;
  CHECK(ParseInt64("0", &v));
  CHECK(v == 0);
  CHECK(ParseInt64("-42", &v));
  CHECK(v == -42);
  CHECK(ParseInt64("9223372036854775807", &v));
  CHECK(v == INT64_MAX);
  CHECK(ParseInt64("-9223372036854775808", &v));
  CHECK(v == INT64_MIN);
  for (const char* bad : {"", "-", "+1", "01", "-0", " 1", "1 ", "1a", "9223372036854775808",
                          "-9223372036854775809", "123456789012345678901", "0x10"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseInt64(bad, &v));
  }
}

TEST_CASE("util: ParseUint64 and FormatInt64") {
  uint64_t u = 0;
  CHECK(ParseUint64("18446744073709551615", &u));
  CHECK(u == UINT64_MAX);
  CHECK_FALSE(ParseUint64("18446744073709551616", &u));
  CHECK_FALSE(ParseUint64("-1", &u));
  char buf[24];
  for (int64_t x : {int64_t{0}, int64_t{7}, int64_t{-7}, INT64_MAX, INT64_MIN}) {
    std::string s(buf, FormatInt64(x, buf));
    CHECK(s == std::to_string(x));
  }
}

TEST_CASE("util: FormatUint64 agrees with std::to_string at every digit-count boundary") {
  std::vector<uint64_t> values = {0, 1, 9, UINT64_MAX, UINT64_MAX - 1};
  for (uint64_t p = 10; p != 0 && p <= UINT64_MAX / 10; p *= 10) {
    for (uint64_t v : {p - 1, p, p + 1, p * 5}) values.push_back(v);
  }
  values.push_back(10000000000000000000ULL);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) {
    char buf[21];
    CHECK(std::string(buf, FormatUint64(v, buf)) == std::to_string(v));
  }
  char buf[21];
  CHECK(std::string(buf, FormatInt64(INT64_MIN, buf)) == "-9223372036854775808");
  CHECK(std::string(buf, FormatInt64(-7, buf)) == "-7");
}

TEST_CASE("util: long doubles parse and format like INCRBYFLOAT") {
  long double v = 0;
  CHECK(ParseLongDouble("10.5", &v));
  CHECK(FormatLongDouble(v) == "10.5");
  CHECK(ParseLongDouble("5.0e3", &v));
  CHECK(FormatLongDouble(v) == "5000");
  CHECK_FALSE(ParseLongDouble(" 1", &v));
  CHECK_FALSE(ParseLongDouble("1 ", &v));
  CHECK_FALSE(ParseLongDouble("nan", &v));
  CHECK_FALSE(ParseLongDouble("inf", &v));
  CHECK_FALSE(ParseLongDouble("abc", &v));
  CHECK(FormatLongDouble(-0.0L) == "0");
  CHECK(FormatLongDouble(3.0L) == "3");
}

TEST_CASE("util: ParseDouble accepts infinities only when asked") {
  double d = 0;
  CHECK(ParseDouble("+inf", &d));
  CHECK(d > 1e308);
  CHECK(ParseDouble("-inf", &d));
  CHECK_FALSE(ParseDouble("inf", &d, false));
  CHECK_FALSE(ParseDouble("nan", &d));
  CHECK(ParseDouble("1.5", &d));
  CHECK(d == 1.5);
}

TEST_CASE("util: case-insensitive comparison") {
  CHECK(EqualsIgnoreCase("GeT", "get"));
  CHECK_FALSE(EqualsIgnoreCase("get", "gets"));
  CHECK(ToLower("AbC") == "abc");
}

TEST_CASE("config: memory sizes") {
  int64_t v = 0;
  CHECK(ParseMemory("1gb", &v));
  CHECK(v == 1024LL * 1024 * 1024);
  CHECK(ParseMemory("64mb", &v));
  CHECK(v == 64LL * 1024 * 1024);
  CHECK(ParseMemory("100k", &v));
  CHECK(v == 100000);
  CHECK(ParseMemory("512", &v));
  CHECK(v == 512);
  CHECK_FALSE(ParseMemory("12xb", &v));
  CHECK_FALSE(ParseMemory("", &v));
}

TEST_CASE("config: line splitting follows redis.conf quoting") {
  std::vector<std::string> w;
  CHECK(SplitConfigLine("save \"\"", &w));
  CHECK(w == std::vector<std::string>{"save", ""});
  CHECK(SplitConfigLine("requirepass 'a b'", &w));
  CHECK(w == std::vector<std::string>{"requirepass", "a b"});
  CHECK(SplitConfigLine("x \"\\x41\\n\"", &w));
  CHECK(w == std::vector<std::string>{"x", "A\n"});
  CHECK_FALSE(SplitConfigLine("x \"unterminated", &w));
  CHECK_FALSE(SplitConfigLine("x \"a\"b", &w));
}

TEST_CASE("config: set, get and errors") {
  Config c;
  CHECK(c.Set("maxclients", {"50"}, false).empty());
  CHECK(c.maxclients.load() == 50);
  CHECK(c.Set("maxclients", {"abc"}, false) == "argument couldn't be parsed into an integer");
  CHECK(c.Set("maxclients", {"0"}, false).starts_with("argument must be between 1 and"));
  CHECK(c.Set("databases", {"4"}, false) == "can't set immutable config");
  CHECK(c.Set("databases", {"4"}, true).empty());
  CHECK(c.Set("nosuch", {"1"}, false) == "unknown");
  CHECK(c.Set("appendonly", {"maybe"}, false) == "argument must be 'yes' or 'no'");
  CHECK(c.Set("appendonly", {"no"}, false).empty());  // the switch itself is CONFIG SET's
  CHECK_FALSE(c.appendonly.load());
  CHECK(c.Set("appendfsync", {"always"}, false).empty());
  CHECK(c.appendfsync.load() == 0);
  CHECK_FALSE(c.Set("appendfsync", {"sometimes"}, false).empty());
  CHECK(c.Set("save", {""}, false).empty());
  CHECK(c.SavePoints().empty());
  CHECK(c.Set("save", {"3600 1 300 100"}, false).empty());
  CHECK(c.SavePoints() == std::vector<std::pair<int64_t, int64_t>>{{3600, 1}, {300, 100}});
  CHECK(c.Set("save", {"3600"}, false) == "Invalid save parameters");
  CHECK(c.Set("save", {"a b"}, false) == "Invalid save parameters");
  CHECK(c.Set("client-output-buffer-limit", {"pubsub 1mb 512kb 10"}, false).empty());
  OutputLimit l = c.GetOutputLimit(ClientClass::kPubSub);
  CHECK(l.hard == 1024 * 1024);
  CHECK(l.soft == 512 * 1024);
  CHECK(l.soft_seconds == 10);
  auto got = c.Get("max*");
  REQUIRE(got.size() == 1);
  CHECK(got[0].first == "maxclients");
  CHECK(got[0].second == "50");
  CHECK(c.Get("client-output-buffer-limit")[0].second ==
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 10");
}

TEST_CASE("util: SCAN cursors parse as Redis's strtoul does") {
  uint64_t c = 7;
  CHECK(ParseScanCursor("", &c));
  CHECK(c == 0);
  CHECK(ParseScanCursor("00", &c));
  CHECK(c == 0);
  CHECK(ParseScanCursor("+42", &c));
  CHECK(c == 42);
  CHECK(ParseScanCursor("-1", &c));
  CHECK(c == UINT64_MAX);
  CHECK_FALSE(ParseScanCursor("-", &c));
  CHECK_FALSE(ParseScanCursor("12a", &c));
  CHECK_FALSE(ParseScanCursor("18446744073709551616", &c));
}

TEST_CASE("util: float operands accept inf, reject spaces and nan") {
  long double v = 0;
  CHECK(ParseLongDoubleOperand("1.5", &v));
  CHECK(v == 1.5L);
  CHECK(ParseLongDoubleOperand("inf", &v));
  CHECK(v > 1e308L);
  CHECK_FALSE(ParseLongDoubleOperand(" 1", &v));
  CHECK_FALSE(ParseLongDoubleOperand("nan", &v));
  CHECK_FALSE(ParseLongDoubleOperand("1x", &v));
  CHECK_FALSE(ParseLongDoubleOperand("", &v));
}
