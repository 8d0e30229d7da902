// Integration tests of the string command family against the real server: every command, option
// and error reply, TTLs set by the SET family, keyspace hit/miss counting, RESP3 replies,
// pipelining and many concurrent clients. Expected replies were taken from Redis 7.0.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
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
constexpr std::string_view kOverflow = "!ERR increment or decrement would overflow";
constexpr std::string_view kTooBig =
    "!ERR string exceeds maximum allowed size (proto-max-bulk-len)";

std::string InvalidExpire(std::string_view cmd) {
  return "!ERR invalid expire time in '" + std::string(cmd) + "' command";
}

// Runs a command and returns the reply's compact form, so a failed CHECK shows what came back.
std::string Do(Client& c, std::initializer_list<std::string_view> args) {
  return c.Run(args).Dump();
}

// Gives `key` a value of a non-string type, with the first such type the server supports.
bool MakeNonString(Client& c, const std::string& key) {
  const std::vector<std::vector<std::string>> attempts = {{"HSET", key, "f", "v"},
                                                          {"XADD", key, "*", "f", "v"},
                                                          {"RPUSH", key, "a"},
                                                          {"SADD", key, "a"},
                                                          {"ZADD", key, "1", "a"}};
  for (const auto& cmd : attempts) {
    if (!c.Run(cmd).IsError()) return true;
  }
  return false;
}

int64_t WallMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// True if PTTL of `key` is an integer in [lo, hi].
bool PttlIn(Client& c, std::string_view key, long long lo, long long hi) {
  Reply r = c.Run({"PTTL", key});
  return r.type == Reply::Type::kInteger && r.integer >= lo && r.integer <= hi;
}

long long Pttl(Client& c, std::string_view key) { return c.Run({"PTTL", key}).integer; }

// One numeric field of INFO stats, or -1 if absent.
long long InfoStat(Client& c, const std::string& field) {
  Reply r = c.Run({"INFO", "stats"});
  size_t at = r.str.find(field + ":");
  if (at == std::string::npos) return -1;
  return std::stoll(r.str.substr(at + field.size() + 1));
}

struct StatCase {
  std::vector<std::string> cmd;
  long long hits, misses;
};

// Runs each command and checks how much it moved keyspace_hits and keyspace_misses.
void CheckHitsAndMisses(Client& c, const std::vector<StatCase>& cases) {
  for (const StatCase& k : cases) {
    CAPTURE(k.cmd[0]);
    CAPTURE(k.cmd[1]);
    long long hits = InfoStat(c, "keyspace_hits");
    long long misses = InfoStat(c, "keyspace_misses");
    REQUIRE(hits >= 0);
    REQUIRE(misses >= 0);
    c.Run(k.cmd);
    CHECK(InfoStat(c, "keyspace_hits") - hits == k.hits);
    CHECK(InfoStat(c, "keyspace_misses") - misses == k.misses);
  }
}

// ---------------------------------------------------------------------------------------------
// GET and SET
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: GET and SET store and return binary-safe values") {
  Client c;
  Reply ok = c.Run({"SET", "k", "v"});
  CHECK(ok.type == Reply::Type::kStatus);
  CHECK(ok.str == "OK");
  CHECK(Do(c, {"GET", "k"}) == "v");
  CHECK(Do(c, {"GET", "missing"}) == "(nil)");
  CHECK(Do(c, {"SET", "k", "other"}) == "OK");
  CHECK(Do(c, {"GET", "k"}) == "other");
  CHECK(Do(c, {"SET", "empty", ""}) == "OK");
  Reply empty = c.Run({"GET", "empty"});
  CHECK(empty.type == Reply::Type::kString);
  CHECK(empty.str.empty());
  const std::string_view binary("a\0b\r\nc", 6);
  CHECK(Do(c, {"SET", binary, binary}) == "OK");
  CHECK(c.Run({"GET", binary}).str == binary);
  const std::string big(100000, 'x');
  CHECK(Do(c, {"SET", "big", big}) == "OK");
  CHECK(c.Run({"GET", "big"}).str == big);
  CHECK(Do(c, {"SET", "big", "small"}) == "OK");
  CHECK(Do(c, {"GET", "big"}) == "small");
}

TEST_CASE("strings: SET NX and XX") {
  Client c;
  CHECK(Do(c, {"SET", "k", "1", "XX"}) == "(nil)");
  CHECK(Do(c, {"GET", "k"}) == "(nil)");
  CHECK(Do(c, {"SET", "k", "1", "NX"}) == "OK");
  CHECK(Do(c, {"SET", "k", "2", "NX"}) == "(nil)");
  CHECK(Do(c, {"GET", "k"}) == "1");
  CHECK(Do(c, {"SET", "k", "3", "XX"}) == "OK");
  CHECK(Do(c, {"GET", "k"}) == "3");
  CHECK(Do(c, {"SET", "k", "4", "nx", "nx"}) == "(nil)");  // a repeated flag is fine
  CHECK(Do(c, {"SET", "k", "5", "xX"}) == "OK");
  CHECK(Do(c, {"GET", "k"}) == "5");
}

TEST_CASE("strings: SET GET returns the old value") {
  Client c;
  CHECK(Do(c, {"SET", "k", "v1", "GET"}) == "(nil)");
  CHECK(Do(c, {"GET", "k"}) == "v1");
  CHECK(Do(c, {"SET", "k", "v2", "get"}) == "v1");
  CHECK(Do(c, {"SET", "k", "v3", "GET", "GET"}) == "v2");
  CHECK(Do(c, {"GET", "k"}) == "v3");
  // With NX the old value comes back and nothing is written; with XX on a missing key, nil.
  CHECK(Do(c, {"SET", "k", "v4", "NX", "GET"}) == "v3");
  CHECK(Do(c, {"GET", "k"}) == "v3");
  CHECK(Do(c, {"SET", "new", "n1", "NX", "GET"}) == "(nil)");
  CHECK(Do(c, {"GET", "new"}) == "n1");
  CHECK(Do(c, {"SET", "absent", "a", "XX", "GET"}) == "(nil)");
  CHECK(Do(c, {"GET", "absent"}) == "(nil)");
  CHECK(Do(c, {"SET", "k", "v5", "XX", "GET"}) == "v3");
  CHECK(Do(c, {"GET", "k"}) == "v5");
  // An old value as long as a fresh allocation still comes back whole.
  const std::string big(5000, 'b');
  CHECK(Do(c, {"SET", "k", big}) == "OK");
  CHECK(c.Run({"SET", "k", "tiny", "GET"}).str == big);
  CHECK(Do(c, {"GET", "k"}) == "tiny");
}

TEST_CASE("strings: SET option syntax errors") {
  Client c;
  const std::vector<std::vector<std::string>> bad = {
      {"SET", "k", "v", "NX", "XX"},
      {"SET", "k", "v", "XX", "NX"},
      {"SET", "k", "v", "EX"},
      {"SET", "k", "v", "PX"},
      {"SET", "k", "v", "EXAT"},
      {"SET", "k", "v", "PXAT"},
      {"SET", "k", "v", "EX", "10", "PX", "100"},
      {"SET", "k", "v", "PX", "100", "EX", "10"},
      {"SET", "k", "v", "EX", "10", "EXAT", "99999999999"},
      {"SET", "k", "v", "PXAT", "99999999999999", "PX", "10"},
      {"SET", "k", "v", "KEEPTTL", "EX", "10"},
      {"SET", "k", "v", "EX", "10", "KEEPTTL"},
      {"SET", "k", "v", "PXAT", "99999999999999", "KEEPTTL"},
      {"SET", "k", "v", "PERSIST"},
      {"SET", "k", "v", "FOO"},
      {"SET", "k", "v", "10"},
      {"SET", "k", "v", "NXX"},
      {"SET", "k", "v", "EX", "10", "extra"},
  };
  for (const auto& cmd : bad) {
    CAPTURE(cmd[3]);
    CHECK(c.Run(cmd).Dump() == kSyntax);
  }
  CHECK(Do(c, {"GET", "k"}) == "(nil)");  // none of them wrote
  CHECK(Do(c, {"SET", "k"}) == "!ERR wrong number of arguments for 'set' command");
}

TEST_CASE("strings: SET expire value errors") {
  Client c;
  for (std::string unit : {"EX", "PX", "EXAT", "PXAT"}) {
    CAPTURE(unit);
    CHECK(c.Run({"SET", "k", "v", unit, "0"}).Dump() == InvalidExpire("set"));
    CHECK(c.Run({"SET", "k", "v", unit, "-1"}).Dump() == InvalidExpire("set"));
    CHECK(c.Run({"SET", "k", "v", unit, "-9223372036854775808"}).Dump() == InvalidExpire("set"));
    CHECK(c.Run({"SET", "k", "v", unit, "abc"}).Dump() == kNotInt);
    CHECK(c.Run({"SET", "k", "v", unit, "1.5"}).Dump() == kNotInt);
    CHECK(c.Run({"SET", "k", "v", unit, " 10"}).Dump() == kNotInt);
    CHECK(c.Run({"SET", "k", "v", unit, "9223372036854775808"}).Dump() == kNotInt);
  }
  // Seconds that overflow when turned into ms, and relative times that overflow with now added.
  CHECK(Do(c, {"SET", "k", "v", "EX", "9223372036854776"}) == InvalidExpire("set"));
  CHECK(Do(c, {"SET", "k", "v", "EXAT", "9223372036854776"}) == InvalidExpire("set"));
  CHECK(Do(c, {"SET", "k", "v", "EX", "9223372036854775"}) == InvalidExpire("set"));
  CHECK(Do(c, {"SET", "k", "v", "PX", "9223372036854775807"}) == InvalidExpire("set"));
  CHECK(Do(c, {"SET", "k", "v", "PX", "9223372036854000000"}) == InvalidExpire("set"));
  CHECK(Do(c, {"GET", "k"}) == "(nil)");
  // The largest absolute times are accepted.
  CHECK(Do(c, {"SET", "k", "v", "EXAT", "9223372036854775"}) == "OK");
  CHECK(Do(c, {"GET", "k"}) == "v");
  CHECK(Do(c, {"SET", "k2", "v", "PXAT", "9223372036854775807"}) == "OK");
  CHECK(Do(c, {"GET", "k2"}) == "v");
  CHECK(PttlIn(c, "k2", 9223372036854775807LL - WallMs() - 60000, 9223372036854775807LL));
}

// ---------------------------------------------------------------------------------------------
// TTLs
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: SET expire options set the TTL") {
  Client c;
  CHECK(Do(c, {"SET", "ex", "v", "EX", "100"}) == "OK");
  CHECK(PttlIn(c, "ex", 98000, 100000));
  CHECK(Do(c, {"SET", "px", "v", "px", "5000"}) == "OK");
  CHECK(PttlIn(c, "px", 3000, 5000));
  const int64_t now = WallMs();
  CHECK(c.Run({"SET", "exat", "v", "EXAT", std::to_string(now / 1000 + 200)}).Dump() == "OK");
  CHECK(PttlIn(c, "exat", 197000, 200000));
  CHECK(c.Run({"SET", "pxat", "v", "PXAT", std::to_string(now + 300000)}).Dump() == "OK");
  CHECK(PttlIn(c, "pxat", 297000, 300000));
  // A repeated expire option of the same kind is allowed; the last one wins.
  CHECK(Do(c, {"SET", "twice", "v", "EX", "10", "EX", "1000"}) == "OK");
  CHECK(PttlIn(c, "twice", 998000, 1000000));
  CHECK(Do(c, {"GET", "ex"}) == "v");
}

TEST_CASE("strings: SET without KEEPTTL clears the TTL, with KEEPTTL keeps it") {
  Client c;
  CHECK(Do(c, {"SET", "k", "v", "EX", "100"}) == "OK");
  CHECK(Do(c, {"SET", "k", "v2", "KEEPTTL"}) == "OK");
  CHECK(PttlIn(c, "k", 98000, 100000));
  CHECK(Do(c, {"GET", "k"}) == "v2");
  CHECK(Do(c, {"SET", "k", "v3", "keepttl", "keepttl", "XX", "GET"}) == "v2");
  CHECK(PttlIn(c, "k", 98000, 100000));
  CHECK(Do(c, {"SET", "k", "v4"}) == "OK");
  CHECK(Pttl(c, "k") == -1);
  CHECK(Do(c, {"SET", "fresh", "v", "KEEPTTL"}) == "OK");
  CHECK(Pttl(c, "fresh") == -1);
  // A failed NX leaves the TTL alone.
  CHECK(Do(c, {"SET", "k", "v5", "PX", "50000"}) == "OK");
  CHECK(Do(c, {"SET", "k", "v6", "NX"}) == "(nil)");
  CHECK(PttlIn(c, "k", 48000, 50000));
}

TEST_CASE("strings: keys set with an expire time disappear") {
  Client c;
  CHECK(Do(c, {"SET", "px", "v", "PX", "100"}) == "OK");
  CHECK(Do(c, {"PSETEX", "psetex", "100", "v"}) == "OK");
  CHECK(Do(c, {"SET", "pxat", "v", "PXAT", "1"}) == "OK");  // already in the past
  CHECK(Do(c, {"GET", "pxat"}) == "(nil)");
  CHECK(c.Run({"SET", "exat", "v", "EXAT", std::to_string(WallMs() / 1000 - 10)}).Dump() == "OK");
  CHECK(Do(c, {"GET", "exat"}) == "(nil)");
  CHECK(Do(c, {"GET", "px"}) == "v");
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  CHECK(Do(c, {"GET", "px"}) == "(nil)");
  CHECK(Do(c, {"GET", "psetex"}) == "(nil)");
  CHECK(Do(c, {"SET", "px", "v", "NX"}) == "OK");  // gone, so NX succeeds
  CHECK(Pttl(c, "px") == -1);
}

TEST_CASE("strings: writes that keep or clear the TTL") {
  Client c;
  auto with_ttl = [&](std::string_view key, std::string_view value) {
    REQUIRE(Do(c, {"SET", key, value, "EX", "100"}) == "OK");
  };
  with_ttl("incr", "1");
  CHECK(Do(c, {"INCR", "incr"}) == ":2");
  CHECK(PttlIn(c, "incr", 98000, 100000));
  with_ttl("float", "1.5");
  CHECK(Do(c, {"INCRBYFLOAT", "float", "1"}) == "2.5");
  CHECK(PttlIn(c, "float", 98000, 100000));
  with_ttl("append", "ab");
  CHECK(Do(c, {"APPEND", "append", "cd"}) == ":4");
  CHECK(PttlIn(c, "append", 98000, 100000));
  with_ttl("setrange", "abc");
  CHECK(Do(c, {"SETRANGE", "setrange", "5", "x"}) == ":6");
  CHECK(PttlIn(c, "setrange", 98000, 100000));
  with_ttl("getset", "old");
  CHECK(Do(c, {"GETSET", "getset", "new"}) == "old");
  CHECK(Pttl(c, "getset") == -1);
  with_ttl("mset", "old");
  CHECK(Do(c, {"MSET", "mset", "new"}) == "OK");
  CHECK(Pttl(c, "mset") == -1);
  with_ttl("set", "old");
  CHECK(Do(c, {"SETEX", "set", "500", "new"}) == "OK");
  CHECK(PttlIn(c, "set", 498000, 500000));
}

// ---------------------------------------------------------------------------------------------
// SETNX, SETEX, PSETEX, GETSET, GETDEL
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: SETNX") {
  Client c;
  CHECK(Do(c, {"SETNX", "k", "1"}) == ":1");
  CHECK(Do(c, {"SETNX", "k", "2"}) == ":0");
  CHECK(Do(c, {"GET", "k"}) == "1");
  CHECK(Do(c, {"SETNX", "k"}) == "!ERR wrong number of arguments for 'setnx' command");
}

TEST_CASE("strings: SETEX and PSETEX") {
  Client c;
  CHECK(Do(c, {"SETEX", "k", "100", "v"}) == "OK");
  CHECK(Do(c, {"GET", "k"}) == "v");
  CHECK(PttlIn(c, "k", 98000, 100000));
  CHECK(Do(c, {"PSETEX", "p", "20000", "w"}) == "OK");
  CHECK(Do(c, {"GET", "p"}) == "w");
  CHECK(PttlIn(c, "p", 18000, 20000));
  CHECK(Do(c, {"SETEX", "k", "0", "v"}) == InvalidExpire("setex"));
  CHECK(Do(c, {"SETEX", "k", "-10", "v"}) == InvalidExpire("setex"));
  CHECK(Do(c, {"SETEX", "k", "9223372036854775", "v"}) == InvalidExpire("setex"));
  CHECK(Do(c, {"SETEX", "k", "abc", "v"}) == kNotInt);
  CHECK(Do(c, {"PSETEX", "k", "0", "v"}) == InvalidExpire("psetex"));
  CHECK(Do(c, {"PSETEX", "k", "-5", "v"}) == InvalidExpire("psetex"));
  CHECK(Do(c, {"PSETEX", "k", "9223372036854775807", "v"}) == InvalidExpire("psetex"));
  CHECK(Do(c, {"PSETEX", "k", "1x", "v"}) == kNotInt);
  CHECK(Do(c, {"GET", "k"}) == "v");  // failed calls left the value alone
  CHECK(Do(c, {"SETEX", "k", "10"}) == "!ERR wrong number of arguments for 'setex' command");
  CHECK(Do(c, {"PSETEX", "k", "10"}) == "!ERR wrong number of arguments for 'psetex' command");
}

TEST_CASE("strings: GETSET") {
  Client c;
  CHECK(Do(c, {"GETSET", "k", "v1"}) == "(nil)");
  CHECK(Do(c, {"GETSET", "k", "v2"}) == "v1");
  CHECK(Do(c, {"GET", "k"}) == "v2");
  CHECK(Do(c, {"GETSET", "k"}) == "!ERR wrong number of arguments for 'getset' command");
}

TEST_CASE("strings: GETDEL") {
  Client c;
  CHECK(Do(c, {"SET", "k", "v", "EX", "100"}) == "OK");
  CHECK(Do(c, {"GETDEL", "k"}) == "v");
  CHECK(Do(c, {"GET", "k"}) == "(nil)");
  CHECK(Do(c, {"GETDEL", "k"}) == "(nil)");
  CHECK(Do(c, {"SETNX", "k", "again"}) == ":1");  // the key (and its TTL) really went away
  CHECK(Pttl(c, "k") == -1);
  CHECK(Do(c, {"GETDEL", "k", "x"}) == "!ERR wrong number of arguments for 'getdel' command");
}

// ---------------------------------------------------------------------------------------------
// GETEX
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: GETEX sets or removes the TTL") {
  Client c;
  CHECK(Do(c, {"GETEX", "missing"}) == "(nil)");
  CHECK(Do(c, {"GETEX", "missing", "EX", "10"}) == "(nil)");
  CHECK(Do(c, {"GET", "missing"}) == "(nil)");
  CHECK(Do(c, {"SET", "k", "v"}) == "OK");
  CHECK(Do(c, {"GETEX", "k"}) == "v");
  CHECK(Pttl(c, "k") == -1);
  CHECK(Do(c, {"GETEX", "k", "EX", "100"}) == "v");
  CHECK(PttlIn(c, "k", 98000, 100000));
  CHECK(Do(c, {"GETEX", "k", "px", "5000"}) == "v");
  CHECK(PttlIn(c, "k", 3000, 5000));
  const int64_t now = WallMs();
  CHECK(c.Run({"GETEX", "k", "EXAT", std::to_string(now / 1000 + 200)}).Dump() == "v");
  CHECK(PttlIn(c, "k", 197000, 200000));
  CHECK(c.Run({"GETEX", "k", "PXAT", std::to_string(now + 300000)}).Dump() == "v");
  CHECK(PttlIn(c, "k", 297000, 300000));
  CHECK(Do(c, {"GETEX", "k"}) == "v");  // no option: the TTL stays
  CHECK(PttlIn(c, "k", 297000, 300000));
  CHECK(Do(c, {"GETEX", "k", "EX", "10", "EX", "1000"}) == "v");
  CHECK(PttlIn(c, "k", 998000, 1000000));
  CHECK(Do(c, {"GETEX", "k", "PERSIST"}) == "v");
  CHECK(Pttl(c, "k") == -1);
  CHECK(Do(c, {"GETEX", "k", "persist", "PERSIST"}) == "v");
  CHECK(Pttl(c, "k") == -1);
}

TEST_CASE("strings: GETEX with an absolute time in the past deletes the key") {
  Client c;
  CHECK(Do(c, {"SET", "k", "v"}) == "OK");
  CHECK(Do(c, {"GETEX", "k", "PXAT", "1"}) == "v");
  CHECK(Do(c, {"GET", "k"}) == "(nil)");
  CHECK(Do(c, {"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"GETEX", "k", "EXAT", std::to_string(WallMs() / 1000 - 5)}).Dump() == "v");
  CHECK(Do(c, {"SETNX", "k", "w"}) == ":1");
  CHECK(Do(c, {"GETEX", "k", "PX", "100"}) == "w");
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  CHECK(Do(c, {"GETEX", "k"}) == "(nil)");
}

TEST_CASE("strings: GETEX errors") {
  Client c;
  CHECK(Do(c, {"SET", "k", "v", "EX", "100"}) == "OK");
  const std::vector<std::vector<std::string>> bad = {
      {"GETEX", "k", "NX"},
      {"GETEX", "k", "XX"},
      {"GETEX", "k", "GET"},
      {"GETEX", "k", "KEEPTTL"},
      {"GETEX", "k", "EX"},
      {"GETEX", "k", "PXAT"},
      {"GETEX", "k", "PERSIST", "EX", "10"},
      {"GETEX", "k", "EX", "10", "PERSIST"},
      {"GETEX", "k", "EX", "10", "PX", "10"},
      {"GETEX", "k", "EXAT", "1", "PXAT", "1"},
      {"GETEX", "k", "FOO"},
      {"GETEX", "k", "10"},
  };
  for (const auto& cmd : bad) {
    CAPTURE(cmd[2]);
    CHECK(c.Run(cmd).Dump() == kSyntax);
  }
  CHECK(Do(c, {"GETEX", "k", "EX", "0"}) == InvalidExpire("getex"));
  CHECK(Do(c, {"GETEX", "k", "PX", "-1"}) == InvalidExpire("getex"));
  CHECK(Do(c, {"GETEX", "k", "EXAT", "9223372036854776"}) == InvalidExpire("getex"));
  CHECK(Do(c, {"GETEX", "k", "EX", "9223372036854775"}) == InvalidExpire("getex"));
  CHECK(Do(c, {"GETEX", "k", "PX", "abc"}) == kNotInt);
  CHECK(PttlIn(c, "k", 98000, 100000));  // untouched by the failures
  // The expire value is only checked for an existing string key.
  CHECK(Do(c, {"GETEX", "missing", "EX", "abc"}) == "(nil)");
  CHECK(Do(c, {"GETEX", "missing", "EX", "0"}) == "(nil)");
  CHECK(Do(c, {"GETEX"}) == "!ERR wrong number of arguments for 'getex' command");
}

// ---------------------------------------------------------------------------------------------
// MGET, MSET, MSETNX
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: MGET") {
  Client c;
  CHECK(Do(c, {"SET", "a", "1"}) == "OK");
  CHECK(Do(c, {"SET", "b", "2"}) == "OK");
  CHECK(Do(c, {"MGET", "a", "missing", "b", "a"}) == "[1, (nil), 2, 1]");
  CHECK(Do(c, {"MGET", "missing"}) == "[(nil)]");
  CHECK(Do(c, {"MGET"}) == "!ERR wrong number of arguments for 'mget' command");
  // Keys spread over many shards.
  std::vector<std::string> mget = {"MGET"};
  std::string expected = "[";
  for (int i = 0; i < 100; ++i) {
    std::string key = "key:" + std::to_string(i);
    if (i % 3 != 0) CHECK(c.Run({"SET", key, std::to_string(i * 7)}).Dump() == "OK");
    mget.push_back(key);
    expected += (i ? ", " : "") + (i % 3 != 0 ? std::to_string(i * 7) : std::string("(nil)"));
  }
  CHECK(c.Run(mget).Dump() == expected + "]");
}

TEST_CASE("strings: MSET") {
  Client c;
  CHECK(Do(c, {"MSET", "a", "1", "b", "2", "c", "3"}) == "OK");
  CHECK(Do(c, {"MGET", "a", "b", "c"}) == "[1, 2, 3]");
  CHECK(Do(c, {"MSET", "a", "x", "a", "y"}) == "OK");  // the last value of a key wins
  CHECK(Do(c, {"GET", "a"}) == "y");
  CHECK(Do(c, {"MSET", "a", "1", "b"}) == "!ERR wrong number of arguments for 'mset' command");
  CHECK(Do(c, {"MSET", "a"}) == "!ERR wrong number of arguments for 'mset' command");
  CHECK(Do(c, {"GET", "a"}) == "y");
}

TEST_CASE("strings: MSETNX") {
  Client c;
  CHECK(Do(c, {"MSETNX", "a", "1", "b", "2"}) == ":1");
  CHECK(Do(c, {"MGET", "a", "b"}) == "[1, 2]");
  CHECK(Do(c, {"MSETNX", "c", "3", "a", "9"}) == ":0");  // a exists: nothing is written
  CHECK(Do(c, {"MGET", "a", "c"}) == "[1, (nil)]");
  CHECK(Do(c, {"MSETNX", "c", "3", "d", "4"}) == ":1");
  CHECK(Do(c, {"MGET", "c", "d"}) == "[3, 4]");
  CHECK(Do(c, {"MSETNX", "e", "1", "f"}) == "!ERR wrong number of arguments for 'msetnx' command");
  CHECK(Do(c, {"GET", "e"}) == "(nil)");
}

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: APPEND") {
  Client c;
  CHECK(Do(c, {"APPEND", "k", "Hello"}) == ":5");
  CHECK(Do(c, {"APPEND", "k", " World"}) == ":11");
  CHECK(Do(c, {"GET", "k"}) == "Hello World");
  CHECK(Do(c, {"APPEND", "k", ""}) == ":11");
  CHECK(Do(c, {"APPEND", "empty", ""}) == ":0");  // creates an empty string
  Reply empty = c.Run({"GET", "empty"});
  CHECK(empty.type == Reply::Type::kString);
  CHECK(empty.str.empty());
  CHECK(Do(c, {"SET", "n", "12"}) == "OK");
  CHECK(Do(c, {"APPEND", "n", "3"}) == ":3");
  CHECK(Do(c, {"INCR", "n"}) == ":124");
  // Growing a value many times keeps every byte.
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    std::string part = std::to_string(i) + std::string(static_cast<size_t>(i % 17), '\0');
    expected += part;
    CHECK(c.Run({"APPEND", "grow", part}).IsInt(static_cast<long long>(expected.size())));
  }
  CHECK(c.Run({"GET", "grow"}).str == expected);
}

// Sets proto-max-bulk-len for one test and restores the default afterwards, even on failure.
class BulkLimit {
 public:
  BulkLimit(Client& c, std::string_view value) : c_(c) {
    ok_ = c_.Run({"CONFIG", "SET", "proto-max-bulk-len", value}) == "OK";
  }
  ~BulkLimit() { c_.Run({"CONFIG", "SET", "proto-max-bulk-len", "512mb"}); }
  bool ok() const { return ok_; }

 private:
  Client& c_;
  bool ok_;
};

TEST_CASE("strings: APPEND and SETRANGE respect proto-max-bulk-len") {
  Client c;
  // Too large whatever the size of the server's memory: refused before anything is allocated.
  CHECK(Do(c, {"SETRANGE", "k", "536870912", "x"}) == kTooBig);
  CHECK(Do(c, {"SETRANGE", "k", "536870911", "xy"}) == kTooBig);
  CHECK(Do(c, {"SETRANGE", "k", "9223372036854775807", "x"}) == kTooBig);
  CHECK(Do(c, {"GET", "k"}) == "(nil)");
  CHECK(Do(c, {"SETRANGE", "k", "536870912", ""}) == ":0");  // writing nothing is allowed
  BulkLimit limit(c, "1mb");
  REQUIRE(limit.ok());
  const std::string part(600 * 1024, 'a');
  CHECK(c.Run({"APPEND", "k", part}).IsInt(600 * 1024));
  CHECK(c.Run({"APPEND", "k", part}).Dump() == kTooBig);
  CHECK(Do(c, {"STRLEN", "k"}) == ":614400");
  CHECK(Do(c, {"SETRANGE", "k", "1048576", "x"}) == kTooBig);
  CHECK(Do(c, {"SETRANGE", "k", "1048575", "x"}) == ":1048576");
  CHECK(Do(c, {"APPEND", "k", "x"}) == kTooBig);
  CHECK(Do(c, {"APPEND", "k", ""}) == ":1048576");
  CHECK(Do(c, {"STRLEN", "k"}) == ":1048576");
}

TEST_CASE("strings: STRLEN") {
  Client c;
  CHECK(Do(c, {"STRLEN", "missing"}) == ":0");
  CHECK(Do(c, {"SET", "k", "hello"}) == "OK");
  CHECK(Do(c, {"STRLEN", "k"}) == ":5");
  CHECK(Do(c, {"SET", "n", "-12345"}) == "OK");
  CHECK(Do(c, {"STRLEN", "n"}) == ":6");
  CHECK(c.Run({"SET", "b", std::string_view("a\0b", 3)}).Dump() == "OK");
  CHECK(Do(c, {"STRLEN", "b"}) == ":3");
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: INCR, DECR, INCRBY, DECRBY") {
  Client c;
  CHECK(Do(c, {"INCR", "n"}) == ":1");
  CHECK(Do(c, {"INCR", "n"}) == ":2");
  CHECK(Do(c, {"DECR", "n"}) == ":1");
  CHECK(Do(c, {"INCRBY", "n", "100"}) == ":101");
  CHECK(Do(c, {"INCRBY", "n", "-200"}) == ":-99");
  CHECK(Do(c, {"DECRBY", "n", "-99"}) == ":0");
  CHECK(Do(c, {"DECRBY", "n", "5"}) == ":-5");
  CHECK(Do(c, {"GET", "n"}) == "-5");
  CHECK(Do(c, {"DECR", "m"}) == ":-1");
  CHECK(Do(c, {"DECRBY", "o", "7"}) == ":-7");
  CHECK(Do(c, {"INCRBY", "p", "0"}) == ":0");
  CHECK(Do(c, {"GET", "p"}) == "0");
  CHECK(Do(c, {"SET", "big", "1000000000000"}) == "OK");
  CHECK(Do(c, {"INCR", "big"}) == ":1000000000001");
  CHECK(Do(c, {"SET", "x", "41"}) == "OK");
  CHECK(Do(c, {"INCR", "x"}) == ":42");
  CHECK(Do(c, {"STRLEN", "x"}) == ":2");
}

TEST_CASE("strings: INCR family on values that are not canonical integers") {
  Client c;
  for (std::string v : {" 1", "1 ", "+1", "01", "-0", "1.5", "abc", "", "1e3", "0x10",
                        "9223372036854775808", "-9223372036854775809", "12345678901234567890"}) {
    CAPTURE(v);
    REQUIRE(c.Run({"SET", "k", v}).Dump() == "OK");
    CHECK(Do(c, {"INCR", "k"}) == kNotInt);
    CHECK(Do(c, {"DECRBY", "k", "1"}) == kNotInt);
    CHECK(c.Run({"GET", "k"}).str == v);
  }
  CHECK(Do(c, {"INCRBY", "k", "abc"}) == kNotInt);
  CHECK(Do(c, {"INCRBY", "k", "1.0"}) == kNotInt);
  CHECK(Do(c, {"INCRBY", "k", "9223372036854775808"}) == kNotInt);
  CHECK(Do(c, {"DECRBY", "k", "+1"}) == kNotInt);
}

TEST_CASE("strings: INCR family overflow") {
  Client c;
  CHECK(Do(c, {"SET", "max", "9223372036854775807"}) == "OK");
  CHECK(Do(c, {"INCR", "max"}) == kOverflow);
  CHECK(Do(c, {"INCRBY", "max", "1"}) == kOverflow);
  CHECK(Do(c, {"DECRBY", "max", "-1"}) == kOverflow);
  CHECK(Do(c, {"GET", "max"}) == "9223372036854775807");
  CHECK(Do(c, {"SET", "min", "-9223372036854775808"}) == "OK");
  CHECK(Do(c, {"DECR", "min"}) == kOverflow);
  CHECK(Do(c, {"DECRBY", "min", "1"}) == kOverflow);
  CHECK(Do(c, {"INCRBY", "min", "-9223372036854775808"}) == kOverflow);
  CHECK(Do(c, {"INCRBY", "min", "9223372036854775807"}) == ":-1");
  CHECK(Do(c, {"INCRBY", "z", "-9223372036854775808"}) == ":-9223372036854775808");
  CHECK(Do(c, {"INCRBY", "z", "9223372036854775807"}) == ":-1");
  CHECK(Do(c, {"DECRBY", "z", "9223372036854775807"}) == ":-9223372036854775808");
  CHECK(Do(c, {"DECRBY", "z", "-9223372036854775808"}) == "!ERR decrement would overflow");
  CHECK(Do(c, {"DECRBY", "missing", "-9223372036854775808"}) == "!ERR decrement would overflow");
  CHECK(Do(c, {"GET", "missing"}) == "(nil)");
}

TEST_CASE("strings: INCRBYFLOAT") {
  Client c;
  CHECK(Do(c, {"INCRBYFLOAT", "f", "1.5"}) == "1.5");
  CHECK(Do(c, {"INCRBYFLOAT", "f", "1.5"}) == "3");
  CHECK(Do(c, {"GET", "f"}) == "3");
  CHECK(Do(c, {"SET", "f", "10.5"}) == "OK");
  CHECK(Do(c, {"INCRBYFLOAT", "f", "0.1"}) == "10.6");
  CHECK(Do(c, {"INCRBYFLOAT", "f", "-10.6"}) == "0");
  CHECK(Do(c, {"INCRBYFLOAT", "f", "-5"}) == "-5");
  CHECK(Do(c, {"SET", "f", "1.0e3"}) == "OK");
  CHECK(Do(c, {"INCRBYFLOAT", "f", "0"}) == "1000");
  CHECK(Do(c, {"INCRBYFLOAT", "f", "2.0e2"}) == "1200");
  CHECK(Do(c, {"SET", "f", "5000"}) == "OK");
  CHECK(Do(c, {"INCRBYFLOAT", "f", "0.25"}) == "5000.25");
  CHECK(Do(c, {"GET", "f"}) == "5000.25");
  CHECK(Do(c, {"INCRBYFLOAT", "g", "-0.0"}) == "0");
  CHECK(Do(c, {"INCRBYFLOAT", "h", "0x10"}) == "16");
  CHECK(Do(c, {"INCRBYFLOAT", "i", "3"}) == "3");
  CHECK(Do(c, {"INCR", "i"}) == ":4");  // the result is an ordinary number string
  Reply r = c.Run({"INCRBYFLOAT", "j", "1e300"});
  CHECK(r.str.size() == 301);
  CHECK(r.str.substr(0, 17) == "10000000000000000");
}

TEST_CASE("strings: INCRBYFLOAT errors") {
  Client c;
  CHECK(Do(c, {"SET", "f", "1"}) == "OK");
  const std::string_view kNanInf = "!ERR increment would produce NaN or Infinity";
  CHECK(Do(c, {"INCRBYFLOAT", "f", "inf"}) == kNanInf);
  CHECK(Do(c, {"INCRBYFLOAT", "f", "-inf"}) == kNanInf);
  CHECK(Do(c, {"INCRBYFLOAT", "f", "1e5000"}) == kNotFloat);
  for (std::string bad : {"nan", "abc", " 1", "1 ", "", "1.5x", "--1"}) {
    CAPTURE(bad);
    CHECK(c.Run({"INCRBYFLOAT", "f", bad}).Dump() == kNotFloat);
  }
  CHECK(Do(c, {"GET", "f"}) == "1");
  CHECK(Do(c, {"SET", "big", "1e4931"}) == "OK");
  CHECK(Do(c, {"INCRBYFLOAT", "big", "1.1e4932"}) == kNanInf);
  CHECK(Do(c, {"SET", "s", "abc"}) == "OK");
  CHECK(Do(c, {"INCRBYFLOAT", "s", "1"}) == kNotFloat);
  CHECK(Do(c, {"SET", "s", " 2"}) == "OK");
  CHECK(Do(c, {"INCRBYFLOAT", "s", "1"}) == kNotFloat);
  CHECK(Do(c, {"INCRBYFLOAT", "missing", "x"}) == kNotFloat);
  CHECK(Do(c, {"GET", "missing"}) == "(nil)");
}

// ---------------------------------------------------------------------------------------------
// GETRANGE, SUBSTR, SETRANGE
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: GETRANGE and SUBSTR") {
  Client c;
  CHECK(Do(c, {"SET", "s", "hello"}) == "OK");
  struct Case {
    const char* start;
    const char* end;
    const char* want;
  };
  const Case cases[] = {
      {"0", "-1", "hello"},    {"0", "0", "h"},
      {"1", "3", "ell"},       {"-3", "-1", "llo"},
      {"0", "-100", "h"},      {"-1", "-5", ""},
      {"-100", "-1", "hello"}, {"2", "1", ""},
      {"1", "100", "ello"},    {"5", "10", ""},
      {"4", "4", "o"},         {"-1", "-1", "o"},
      {"-100", "-90", "h"},    {"-9223372036854775808", "9223372036854775807", "hello"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.start);
    CAPTURE(k.end);
    CHECK(c.Run({"GETRANGE", "s", k.start, k.end}).Dump() == k.want);
    CHECK(c.Run({"SUBSTR", "s", k.start, k.end}).Dump() == k.want);
  }
  Reply missing = c.Run({"GETRANGE", "missing", "0", "-1"});
  CHECK(missing.type == Reply::Type::kString);  // an empty string, not nil
  CHECK(missing.str.empty());
  CHECK(Do(c, {"SET", "e", ""}) == "OK");
  CHECK(Do(c, {"GETRANGE", "e", "0", "-1"}) == "");
  CHECK(Do(c, {"SET", "n", "1234"}) == "OK");
  CHECK(Do(c, {"GETRANGE", "n", "1", "2"}) == "23");
  CHECK(Do(c, {"GETRANGE", "s", "a", "1"}) == kNotInt);
  CHECK(Do(c, {"GETRANGE", "s", "0", "b"}) == kNotInt);
  CHECK(Do(c, {"GETRANGE", "missing", "a", "1"}) == kNotInt);
  CHECK(Do(c, {"GETRANGE", "s", "0"}) == "!ERR wrong number of arguments for 'getrange' command");
  CHECK(Do(c, {"SUBSTR", "s", "0"}) == "!ERR wrong number of arguments for 'substr' command");
}

TEST_CASE("strings: SETRANGE") {
  Client c;
  CHECK(Do(c, {"SET", "s", "Hello World"}) == "OK");
  CHECK(Do(c, {"SETRANGE", "s", "6", "Redis"}) == ":11");
  CHECK(Do(c, {"GET", "s"}) == "Hello Redis");
  CHECK(Do(c, {"SETRANGE", "s", "11", "!"}) == ":12");
  CHECK(Do(c, {"SETRANGE", "s", "14", "?"}) == ":15");
  CHECK(c.Run({"GET", "s"}).str == std::string("Hello Redis!\0\0?", 15));
  CHECK(Do(c, {"SETRANGE", "s", "0", ""}) == ":15");
  CHECK(Do(c, {"SETRANGE", "s", "100", ""}) == ":15");
  CHECK(Do(c, {"STRLEN", "s"}) == ":15");
  CHECK(Do(c, {"SETRANGE", "new", "3", "ab"}) == ":5");
  CHECK(c.Run({"GET", "new"}).str == std::string("\0\0\0ab", 5));
  CHECK(Do(c, {"SETRANGE", "none", "5", ""}) == ":0");
  CHECK(Do(c, {"GET", "none"}) == "(nil)");  // writing nothing creates no key
  CHECK(Do(c, {"SET", "n", "123"}) == "OK");
  CHECK(Do(c, {"SETRANGE", "n", "0", "9"}) == ":3");
  CHECK(Do(c, {"INCR", "n"}) == ":924");
  CHECK(Do(c, {"SETRANGE", "n", "1", "x"}) == ":3");
  CHECK(Do(c, {"INCR", "n"}) == kNotInt);
  CHECK(Do(c, {"SETRANGE", "s", "-1", "x"}) == "!ERR offset is out of range");
  CHECK(Do(c, {"SETRANGE", "s", "-1", ""}) == "!ERR offset is out of range");
  CHECK(Do(c, {"SETRANGE", "s", "x", "x"}) == kNotInt);
  CHECK(Do(c, {"SETRANGE", "s", "0"}) == "!ERR wrong number of arguments for 'setrange' command");
}

// ---------------------------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: LCS") {
  Client c;
  CHECK(Do(c, {"MSET", "k1", "ohmytext", "k2", "mynewtext"}) == "OK");
  CHECK(Do(c, {"LCS", "k1", "k2"}) == "mytext");
  CHECK(Do(c, {"LCS", "k1", "k2", "LEN"}) == ":6");
  CHECK(Do(c, {"LCS", "k1", "k2", "len", "withmatchlen"}) == ":6");
  CHECK(Do(c, {"LCS", "k1", "k2", "IDX"}) ==
        "[matches, [[[:4, :7], [:5, :8]], [[:2, :3], [:0, :1]]], len, :6]");
  CHECK(Do(c, {"LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4"}) ==
        "[matches, [[[:4, :7], [:5, :8]]], len, :6]");
  CHECK(Do(c, {"LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}) ==
        "[matches, [[[:4, :7], [:5, :8], :4]], len, :6]");
  CHECK(Do(c, {"LCS", "k1", "k2", "idx", "withmatchlen"}) ==
        "[matches, [[[:4, :7], [:5, :8], :4], [[:2, :3], [:0, :1], :2]], len, :6]");
  CHECK(Do(c, {"LCS", "k1", "k2", "MINMATCHLEN", "-5", "IDX"}) ==
        "[matches, [[[:4, :7], [:5, :8]], [[:2, :3], [:0, :1]]], len, :6]");
  CHECK(Do(c, {"MSET", "a", "abcxyzdef", "b", "abcdef"}) == "OK");
  CHECK(Do(c, {"LCS", "a", "b", "IDX", "WITHMATCHLEN"}) ==
        "[matches, [[[:6, :8], [:3, :5], :3], [[:0, :2], [:0, :2], :3]], len, :6]");
  CHECK(Do(c, {"MSET", "a", "aaa", "b", "aaa"}) == "OK");
  CHECK(Do(c, {"LCS", "a", "b", "IDX", "WITHMATCHLEN"}) ==
        "[matches, [[[:0, :2], [:0, :2], :3]], len, :3]");
  CHECK(Do(c, {"LCS", "a", "a"}) == "aaa");
  // Of several longest subsequences, Redis reports the one its backward walk finds first.
  CHECK(Do(c, {"MSET", "a", "ab", "b", "ba"}) == "OK");
  CHECK(Do(c, {"LCS", "a", "b"}) == "b");
  CHECK(Do(c, {"LCS", "a", "b", "IDX", "WITHMATCHLEN"}) ==
        "[matches, [[[:1, :1], [:0, :0], :1]], len, :1]");
  CHECK(Do(c, {"MSET", "a", "abcXdefYghi", "b", "ghiZdefWabc"}) == "OK");
  CHECK(Do(c, {"LCS", "a", "b"}) == "ghi");
  CHECK(Do(c, {"LCS", "a", "b", "IDX"}) == "[matches, [[[:8, :10], [:0, :2]]], len, :3]");
  // A missing key is an empty string.
  Reply none = c.Run({"LCS", "k1", "missing"});
  CHECK(none.type == Reply::Type::kString);
  CHECK(none.str.empty());
  CHECK(Do(c, {"LCS", "k1", "missing", "IDX"}) == "[matches, [], len, :0]");
  CHECK(Do(c, {"LCS", "missing", "missing2", "LEN"}) == ":0");
}

TEST_CASE("strings: LCS errors") {
  Client c;
  CHECK(Do(c, {"MSET", "k1", "ohmytext", "k2", "mynewtext"}) == "OK");
  const std::string_view kBoth =
      "!ERR If you want both the length and indexes, please just use IDX.";
  CHECK(Do(c, {"LCS", "k1", "k2", "LEN", "IDX"}) == kBoth);
  CHECK(Do(c, {"LCS", "k1", "k2", "foo"}) == kSyntax);
  CHECK(Do(c, {"LCS", "k1", "k2", "MINMATCHLEN"}) == kSyntax);
  CHECK(Do(c, {"LCS", "k1", "k2", "MINMATCHLEN", "x"}) == kNotInt);
  CHECK(Do(c, {"LCS", "k1", "k2", "MINMATCHLEN", "x", "foo"}) == kNotInt);
  CHECK(Do(c, {"LCS", "k1", "k2", "foo", "MINMATCHLEN", "x"}) == kSyntax);
  CHECK(Do(c, {"LCS", "k1"}) == "!ERR wrong number of arguments for 'lcs' command");
  // Two 12000-byte strings need a 576 MB table, more than proto-max-bulk-len allows.
  const std::string big(12000, 'z');
  CHECK(c.Run({"MSET", "big1", big, "big2", big}).Dump() == "OK");
  CHECK(Do(c, {"LCS", "big1", "big2", "LEN"}) ==
        "!ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  CHECK(Do(c, {"LCS", "big1", "k1", "LEN"}) == ":0");
}

// The LCS length by a plain DP, for checking the server's answers.
size_t LcsLength(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> t(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j)
      t[i][j] = a[i - 1] == b[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  return t[a.size()][b.size()];
}

bool IsSubsequence(const std::string& sub, const std::string& s) {
  size_t i = 0;
  for (char ch : s)
    if (i < sub.size() && sub[i] == ch) ++i;
  return i == sub.size();
}

TEST_CASE("strings: LCS agrees with a reference on random strings") {
  Client c;
  std::mt19937 rng(12345);
  for (int round = 0; round < 30; ++round) {
    std::string a(rng() % 120, ' '), b(rng() % 120, ' ');
    for (char& ch : a) ch = "abc"[rng() % 3];
    for (char& ch : b) ch = "abc"[rng() % 3];
    CAPTURE(a);
    CAPTURE(b);
    REQUIRE(c.Run({"MSET", "a", a, "b", b}).Dump() == "OK");
    const size_t want = LcsLength(a, b);
    CHECK(c.Run({"LCS", "a", "b", "LEN"}).IsInt(static_cast<long long>(want)));
    std::string text = c.Run({"LCS", "a", "b"}).str;
    CHECK(text.size() == want);
    CHECK(IsSubsequence(text, a));
    CHECK(IsSubsequence(text, b));
    // The reported runs are equal substrings, in descending order, adding up to the length.
    Reply idx = c.Run({"LCS", "a", "b", "IDX", "WITHMATCHLEN"});
    REQUIRE(idx.size() == 4);
    long long total = 0, last_a = static_cast<long long>(a.size());
    for (const Reply& m : idx[1].elements) {
      long long as = m[0][0].integer, ae = m[0][1].integer, bs = m[1][0].integer;
      long long len = m[2].integer;
      CHECK(ae - as + 1 == len);
      CHECK(a.substr(as, len) == b.substr(bs, len));
      CHECK(ae < last_a);
      last_a = as;
      total += len;
    }
    CHECK(total == static_cast<long long>(want));
    CHECK(idx[3].IsInt(static_cast<long long>(want)));
  }
}

// ---------------------------------------------------------------------------------------------
// Keys of other types
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: reads and updates of a key of another type are WRONGTYPE") {
  Client c;
  REQUIRE_MESSAGE(MakeNonString(c, "obj"), "no non-string type (hash, stream, list, ...) yet");
  CHECK(Do(c, {"SET", "s", "abc"}) == "OK");
  const std::vector<std::vector<std::string>> wrong_type = {
      {"GET", "obj"},
      {"SET", "obj", "v", "GET"},
      {"SET", "obj", "v", "NX", "GET"},
      {"SET", "obj", "v", "XX", "GET", "EX", "10"},
      {"GETSET", "obj", "v"},
      {"GETDEL", "obj"},
      {"GETEX", "obj"},
      {"GETEX", "obj", "PERSIST"},
      {"GETEX", "obj", "EX", "abc"},  // the type is checked before the expire value
      {"APPEND", "obj", "x"},
      {"STRLEN", "obj"},
      {"INCR", "obj"},
      {"DECR", "obj"},
      {"INCRBY", "obj", "1"},
      {"DECRBY", "obj", "1"},
      {"INCRBYFLOAT", "obj", "1"},
      {"INCRBYFLOAT", "obj", "x"},  // the stored value is checked before the increment
      {"GETRANGE", "obj", "0", "1"},
      {"SUBSTR", "obj", "0", "1"},
      {"SETRANGE", "obj", "0", "x"},
      {"SETRANGE", "obj", "0", ""},
  };
  for (const auto& cmd : wrong_type) {
    CAPTURE(cmd[0]);
    CAPTURE(cmd.size());
    CHECK(c.Run(cmd).Dump() == kWrongType);
    CHECK(Do(c, {"GET", "obj"}) == kWrongType);  // still the other type
  }
  const std::string_view kLcsType = "!ERR The specified keys must contain string values";
  CHECK(Do(c, {"LCS", "s", "obj"}) == kLcsType);
  CHECK(Do(c, {"LCS", "obj", "s", "foo"}) == kLcsType);  // checked before the options
  CHECK(Do(c, {"LCS", "obj", "s", "LEN", "IDX"}) == kLcsType);
}

TEST_CASE("strings: errors that come before the type check") {
  Client c;
  REQUIRE_MESSAGE(MakeNonString(c, "obj"), "no non-string type (hash, stream, list, ...) yet");
  CHECK(Do(c, {"SET", "obj", "v", "GET", "EX", "abc"}) == kNotInt);
  CHECK(Do(c, {"SET", "obj", "v", "GET", "EX", "0"}) == InvalidExpire("set"));
  CHECK(Do(c, {"SET", "obj", "v", "GET", "EX", "abc", "NX", "XX"}) == kSyntax);
  CHECK(Do(c, {"GETEX", "obj", "EX", "abc", "PX", "1"}) == kSyntax);
  CHECK(Do(c, {"INCRBY", "obj", "x"}) == kNotInt);
  CHECK(Do(c, {"DECRBY", "obj", "-9223372036854775808"}) == "!ERR decrement would overflow");
  CHECK(Do(c, {"GETRANGE", "obj", "x", "1"}) == kNotInt);
  CHECK(Do(c, {"SETRANGE", "obj", "-1", "x"}) == "!ERR offset is out of range");
  CHECK(Do(c, {"SETRANGE", "obj", "x", "x"}) == kNotInt);
  CHECK(Do(c, {"GET", "obj"}) == kWrongType);
}

TEST_CASE("strings: writes that replace or respect a key of another type") {
  Client c;
  REQUIRE_MESSAGE(MakeNonString(c, "obj"), "no non-string type (hash, stream, list, ...) yet");
  CHECK(Do(c, {"SETNX", "obj", "v"}) == ":0");
  CHECK(Do(c, {"SET", "obj", "v", "NX"}) == "(nil)");  // exists, whatever its type
  CHECK(Do(c, {"MSETNX", "g", "1", "obj", "2"}) == ":0");
  CHECK(Do(c, {"GET", "g"}) == "(nil)");
  CHECK(Do(c, {"MGET", "s", "obj", "g"}) == "[(nil), (nil), (nil)]");  // no WRONGTYPE in MGET
  CHECK(Do(c, {"GET", "obj"}) == kWrongType);
  const std::vector<std::vector<std::string>> replacing = {
      {"SET", "obj", "v"},
      {"SET", "obj", "v", "XX"},
      {"SET", "obj", "v", "KEEPTTL"},
      {"SETEX", "obj", "100", "v"},
      {"PSETEX", "obj", "100000", "v"},
      {"MSET", "obj", "v"},
  };
  for (const auto& cmd : replacing) {
    CAPTURE(cmd[0]);
    CAPTURE(cmd.size());
    REQUIRE(c.Run({"DEL", "obj"}).IsInt(1));
    REQUIRE(MakeNonString(c, "obj"));
    CHECK(c.Run(cmd).Dump() == "OK");
    CHECK(Do(c, {"GET", "obj"}) == "v");
  }
}

TEST_CASE("strings: a key of another type counts as a keyspace hit") {
  Client c;
  REQUIRE_MESSAGE(MakeNonString(c, "obj"), "no non-string type (hash, stream, list, ...) yet");
  CHECK(Do(c, {"SET", "s", "v"}) == "OK");
  const std::vector<StatCase> cases = {
      {{"GET", "obj"}, 1, 0},
      {{"STRLEN", "obj"}, 1, 0},
      {{"MGET", "s", "nx", "obj"}, 2, 1},
      {{"LCS", "s", "obj"}, 2, 0},
  };
  CheckHitsAndMisses(c, cases);
}

// ---------------------------------------------------------------------------------------------
// Protocol, statistics, command table
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: RESP3 replies") {
  RawClient r;
  REQUIRE(r.Command({"HELLO", "3"}).starts_with("%"));
  CHECK(r.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(r.Command({"MSET", "strings:k1", "ohmytext", "strings:k2", "mynewtext"}) == "+OK\r\n");
  CHECK(r.Command({"GET", "strings:nope"}) == "_\r\n");
  CHECK(r.Command({"MGET", "strings:k1", "strings:nope"}) == "*2\r\n$8\r\nohmytext\r\n_\r\n");
  CHECK(r.Command({"SET", "strings:k1", "x", "GET"}) == "$8\r\nohmytext\r\n");
  CHECK(r.Command({"SET", "strings:k1", "y", "NX"}) == "_\r\n");
  CHECK(r.Command({"GETRANGE", "strings:nope", "0", "1"}) == "$0\r\n\r\n");
  CHECK(r.Command({"INCRBYFLOAT", "strings:f", "1.5"}) == "$3\r\n1.5\r\n");
  CHECK(r.Command({"SET", "strings:k1", "ohmytext"}) == "+OK\r\n");
  CHECK(r.Command({"LCS", "strings:k1", "strings:k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}) ==
        "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
        "$3\r\nlen\r\n:6\r\n");
  CHECK(r.Command({"LCS", "strings:k1", "strings:nope", "IDX"}) ==
        "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
  CHECK(r.Command({"DEL", "strings:k1", "strings:k2", "strings:f"}) == ":3\r\n");
}

TEST_CASE("strings: keyspace hits and misses") {
  Client c;
  CHECK(Do(c, {"SET", "s", "v"}) == "OK");
  const std::vector<StatCase> cases = {
      {{"GET", "s"}, 1, 0},
      {{"GET", "nx"}, 0, 1},
      {{"STRLEN", "s"}, 1, 0},
      {{"STRLEN", "nx"}, 0, 1},
      {{"GETRANGE", "nx", "0", "1"}, 0, 1},
      {{"GETRANGE", "s", "0", "1"}, 1, 0},
      {{"SUBSTR", "s", "0", "1"}, 1, 0},
      {{"MGET", "s", "nx", "s"}, 2, 1},
      {{"LCS", "s", "nx"}, 1, 1},
      {{"GETDEL", "nx"}, 0, 1},
      {{"GETEX", "nx"}, 0, 1},
      {{"GETEX", "s"}, 1, 0},
      {{"GETSET", "nx", "v"}, 0, 1},
      {{"GETSET", "nx", "v"}, 1, 0},
      {{"SET", "s", "v", "GET"}, 1, 0},
      {{"SET", "s2", "v", "GET"}, 0, 1},
      {{"SETNX", "s", "v"}, 0, 0},
      {{"INCR", "cnt"}, 0, 0},
      {{"APPEND", "s", "x"}, 0, 0},
      {{"SETRANGE", "s", "1", "x"}, 0, 0},
      {{"INCRBYFLOAT", "f", "1"}, 0, 0},
      {{"MSETNX", "q", "1"}, 0, 0},
      {{"SET", "s", "v"}, 0, 0},
  };
  CheckHitsAndMisses(c, cases);
}

TEST_CASE("strings: COMMAND INFO rows") {
  Client c;
  struct Case {
    const char* name;
    const char* info;
  };
  const Case cases[] = {
      {"get", "[get, :2, [readonly, fast], :1, :1, :1, [@read, @string, @fast]"},
      {"set", "[set, :-3, [write, denyoom], :1, :1, :1, [@write, @string, @slow]"},
      {"getex", "[getex, :-2, [write, fast], :1, :1, :1, [@write, @string, @fast]"},
      {"mget", "[mget, :-2, [readonly, fast], :1, :-1, :1, [@read, @string, @fast]"},
      {"mset", "[mset, :-3, [write, denyoom], :1, :-1, :2, [@write, @string, @slow]"},
      {"incrbyfloat",
       "[incrbyfloat, :3, [write, denyoom, fast], :1, :1, :1, [@write, @string, @fast]"},
      {"substr", "[substr, :4, [readonly], :1, :1, :1, [@read, @string, @slow]"},
      {"lcs", "[lcs, :-3, [readonly], :1, :2, :1, [@read, @string, @slow]"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    Reply r = c.Run({"COMMAND", "INFO", k.name});
    REQUIRE(r.size() == 1);
    CHECK(r[0].Dump().starts_with(k.info));
  }
}

// ---------------------------------------------------------------------------------------------
// Pipelining and concurrency
// ---------------------------------------------------------------------------------------------

TEST_CASE("strings: 10000 pipelined INCRs") {
  Client c;
  constexpr int kCount = 10000;
  for (int i = 0; i < kCount; ++i) c.Send({"INCR", "counter"});
  int wrong = 0;
  for (int i = 0; i < kCount; ++i) {
    if (!c.Read().IsInt(i + 1)) ++wrong;
  }
  CHECK(wrong == 0);
  CHECK(Do(c, {"GET", "counter"}) == "10000");
}

TEST_CASE("strings: 200 concurrent clients INCR shared keys") {
  Client setup;  // flushes database 9
  constexpr int kClients = 200;
  constexpr int kPerClient = 60;
  constexpr int kKeys = 3;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([t, &failures] {
      Client c(SharedServer().port());
      if (!(c.Run({"SELECT", "9"}) == "OK")) failures++;
      for (int i = 0; i < kPerClient; ++i) {
        std::string key = "shared:" + std::to_string((t + i) % kKeys);
        if (c.Run({"INCR", key}).type != Reply::Type::kInteger) failures++;
        if (c.Run({"INCRBY", "shared:by", "3"}).type != Reply::Type::kInteger) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  const long long per_key = static_cast<long long>(kClients) * kPerClient / kKeys;
  for (int k = 0; k < kKeys; ++k) {
    CHECK(setup.Run({"GET", "shared:" + std::to_string(k)}).str == std::to_string(per_key));
  }
  CHECK(setup.Run({"GET", "shared:by"}).str == std::to_string(3LL * kClients * kPerClient));
}

TEST_CASE("strings: MSET is atomic across shards under concurrent MGET") {
  Client setup;
  CHECK(Do(setup, {"MSET", "x:a", "0", "x:b", "0", "x:c", "0"}) == "OK");
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    Client c(SharedServer().port());
    c.Run({"SELECT", "9"});
    while (!stop.load()) {
      // Not x:a: a reader that shared only the first key's lock with MSET would miss a torn write.
      Reply r = c.Run({"MGET", "x:c", "x:b"});
      if (r.size() != 2 || r[0].str != r[1].str) torn++;
      reads++;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([w] {
      Client c(SharedServer().port());
      c.Run({"SELECT", "9"});
      for (int i = 0; i < 1000; ++i) {
        std::string v = std::to_string(w * 1000 + i);
        c.Run({"MSET", "x:a", v, "x:b", v, "x:c", v});
      }
    });
  }
  for (auto& th : writers) th.join();
  stop = true;
  reader.join();
  CHECK(torn.load() == 0);
  CHECK(reads.load() > 100);  // the reader really overlapped the writers
}

}  // namespace
}  // namespace runnel::test
