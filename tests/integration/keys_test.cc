// Integration tests of the generic key commands (commands/keys.cc) against the real server.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

namespace runnel::test {
namespace {

std::vector<std::string> Sorted(const Reply& r) {
  std::vector<std::string> out;
  for (const auto& e : r.elements) out.push_back(e.str);
  std::sort(out.begin(), out.end());
  return out;
}

// Pipelines SET key:<first..first+n-1> for speed.
void SetMany(Client& c, const std::string& prefix, int first, int n) {
  for (int i = first; i < first + n; ++i) c.Send({"SET", prefix + std::to_string(i), "v"});
  for (int i = 0; i < n; ++i) REQUIRE(c.Read() == "OK");
}

// Runs SCAN to completion with `options` after the cursor; returns every key it reported, and
// calls `between` after each call.
std::multiset<std::string> ScanAll(Client& c, const std::vector<std::string>& options,
                                   const std::function<void()>& between = [] {}) {
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    std::vector<std::string> args = {"SCAN", cursor};
    args.insert(args.end(), options.begin(), options.end());
    Reply r = c.Run(args);
    REQUIRE(r.IsArray());
    REQUIRE(r.size() == 2);
    REQUIRE(r[0].type == Reply::Type::kString);
    REQUIRE(r[1].IsArray());
    cursor = r[0].str;
    for (const auto& k : r[1].elements) seen.insert(k.str);
    between();
    REQUIRE(++calls < 100000);
  } while (cursor != "0");
  return seen;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Existence and deletion
// ---------------------------------------------------------------------------------------------

TEST_CASE("keys: DEL deletes keys and counts each deleted key once") {
  Client c;
  REQUIRE(c.Run({"SET", "a", "1"}) == "OK");
  REQUIRE(c.Run({"SET", "b", "2"}) == "OK");
  CHECK(c.Run({"DEL", "a", "b", "missing", "a"}).IsInt(2));
  CHECK(c.Run({"GET", "a"}).IsNil());
  CHECK(c.Run({"GET", "b"}).IsNil());
  CHECK(c.Run({"DEL", "a"}).IsInt(0));
  CHECK(c.Run({"DEL"}).IsError("ERR wrong number of arguments for 'del' command"));
}

TEST_CASE("keys: UNLINK deletes like DEL") {
  Client c;
  REQUIRE(c.Run({"SET", "a", "1"}) == "OK");
  REQUIRE(c.Run({"SET", "b", "2"}) == "OK");
  CHECK(c.Run({"UNLINK", "a", "a", "missing"}).IsInt(1));
  CHECK(c.Run({"EXISTS", "a"}).IsInt(0));
  CHECK(c.Run({"EXISTS", "b"}).IsInt(1));
  CHECK(c.Run({"UNLINK"}).IsError("ERR wrong number of arguments for 'unlink' command"));
}

TEST_CASE("keys: EXISTS and TOUCH count repeated keys") {
  Client c;
  REQUIRE(c.Run({"SET", "a", "1"}) == "OK");
  CHECK(c.Run({"EXISTS", "a"}).IsInt(1));
  CHECK(c.Run({"EXISTS", "missing"}).IsInt(0));
  CHECK(c.Run({"EXISTS", "a", "a", "missing", "a"}).IsInt(3));
  CHECK(c.Run({"TOUCH", "a", "a", "missing"}).IsInt(2));
  CHECK(c.Run({"TOUCH", "missing"}).IsInt(0));
}

TEST_CASE("keys: TYPE names the value type") {
  Client c;
  REQUIRE(c.Run({"SET", "s", "hello"}) == "OK");
  REQUIRE(c.Run({"INCR", "n"}).IsInt(1));
  Reply r = c.Run({"TYPE", "s"});
  CHECK(r.type == Reply::Type::kStatus);
  CHECK(r == "string");
  CHECK(c.Run({"TYPE", "n"}) == "string");
  CHECK(c.Run({"TYPE", "missing"}) == "none");
  CHECK(c.Run({"TYPE", "s", "x"}).IsError("ERR wrong number of arguments for 'type' command"));
}

// ---------------------------------------------------------------------------------------------
// RENAME, RENAMENX, COPY, MOVE
// ---------------------------------------------------------------------------------------------

TEST_CASE("keys: RENAME moves the value and its TTL") {
  Client c;
  REQUIRE(c.Run({"SET", "a", "va"}) == "OK");
  REQUIRE(c.Run({"PEXPIRE", "a", "100000"}).IsInt(1));
  CHECK(c.Run({"RENAME", "a", "b"}) == "OK");
  CHECK(c.Run({"GET", "a"}).IsNil());
  CHECK(c.Run({"GET", "b"}) == "va");
  Reply ttl = c.Run({"PTTL", "b"});
  CHECK(ttl.type == Reply::Type::kInteger);
  CHECK(ttl.integer > 90000);
  CHECK(ttl.integer <= 100000);
}

TEST_CASE("keys: RENAME overwrites the destination and drops its TTL") {
  Client c;
  REQUIRE(c.Run({"SET", "src", "new"}) == "OK");
  REQUIRE(c.Run({"SET", "dst", "old"}) == "OK");
  REQUIRE(c.Run({"EXPIRE", "dst", "1000"}).IsInt(1));
  CHECK(c.Run({"RENAME", "src", "dst"}) == "OK");
  CHECK(c.Run({"GET", "dst"}) == "new");
  CHECK(c.Run({"TTL", "dst"}).IsInt(-1));
  CHECK(c.Run({"EXISTS", "src"}).IsInt(0));
}

TEST_CASE("keys: RENAME of a missing key and of a key to itself") {
  Client c;
  CHECK(c.Run({"RENAME", "missing", "x"}).IsError("ERR no such key"));
  CHECK(c.Run({"RENAME", "missing", "missing"}).IsError("ERR no such key"));
  REQUIRE(c.Run({"SET", "a", "1"}) == "OK");
  REQUIRE(c.Run({"EXPIRE", "a", "100"}).IsInt(1));
  CHECK(c.Run({"RENAME", "a", "a"}) == "OK");
  CHECK(c.Run({"GET", "a"}) == "1");
  CHECK(c.Run({"TTL", "a"}).integer > 0);
  CHECK(c.Run({"RENAME", "a"}).IsError("ERR wrong number of arguments for 'rename' command"));
}

TEST_CASE("keys: RENAMENX renames only onto a missing key") {
  Client c;
  REQUIRE(c.Run({"SET", "a", "va"}) == "OK");
  REQUIRE(c.Run({"SET", "b", "vb"}) == "OK");
  CHECK(c.Run({"RENAMENX", "a", "b"}).IsInt(0));
  CHECK(c.Run({"GET", "a"}) == "va");
  CHECK(c.Run({"GET", "b"}) == "vb");
  CHECK(c.Run({"RENAMENX", "a", "c"}).IsInt(1));
  CHECK(c.Run({"GET", "c"}) == "va");
  CHECK(c.Run({"EXISTS", "a"}).IsInt(0));
  CHECK(c.Run({"RENAMENX", "c", "c"}).IsInt(0));
  CHECK(c.Run({"RENAMENX", "missing", "z"}).IsError("ERR no such key"));
}

TEST_CASE("keys: COPY copies value and TTL, and REPLACE overwrites") {
  Client c;
  REQUIRE(c.Run({"SET", "src", "value"}) == "OK");
  REQUIRE(c.Run({"PEXPIRE", "src", "100000"}).IsInt(1));
  CHECK(c.Run({"COPY", "src", "dst"}).IsInt(1));
  CHECK(c.Run({"GET", "dst"}) == "value");
  CHECK(c.Run({"GET", "src"}) == "value");
  CHECK(c.Run({"PTTL", "dst"}).integer > 90000);

  REQUIRE(c.Run({"SET", "other", "x"}) == "OK");
  CHECK(c.Run({"COPY", "src", "other"}).IsInt(0));
  CHECK(c.Run({"GET", "other"}) == "x");
  CHECK(c.Run({"COPY", "src", "other", "REPLACE"}).IsInt(1));
  CHECK(c.Run({"GET", "other"}) == "value");
  CHECK(c.Run({"COPY", "missing", "dst2"}).IsInt(0));
  CHECK(c.Run({"EXISTS", "dst2"}).IsInt(0));

  // The copy is independent of the source.
  REQUIRE(c.Run({"SET", "src", "changed"}) == "OK");
  CHECK(c.Run({"GET", "dst"}) == "value");
}

TEST_CASE("keys: COPY to another database") {
  Client c;
  REQUIRE(c.Run({"SELECT", "10"}) == "OK");
  REQUIRE(c.Run({"FLUSHDB"}) == "OK");
  REQUIRE(c.Run({"SELECT", "9"}) == "OK");
  REQUIRE(c.Run({"SET", "k", "v9"}) == "OK");
  CHECK(c.Run({"COPY", "k", "k", "DB", "10"}).IsInt(1));
  CHECK(c.Run({"COPY", "k", "k", "db", "10"}).IsInt(0));
  REQUIRE(c.Run({"SET", "k", "v9b"}) == "OK");
  CHECK(c.Run({"COPY", "k", "k", "REPLACE", "DB", "10"}).IsInt(1));
  CHECK(c.Run({"COPY", "k", "k2", "DB", "9"}).IsInt(1));
  REQUIRE(c.Run({"SELECT", "10"}) == "OK");
  CHECK(c.Run({"GET", "k"}) == "v9b");
  CHECK(c.Run({"EXISTS", "k2"}).IsInt(0));
  REQUIRE(c.Run({"FLUSHDB"}) == "OK");
  REQUIRE(c.Run({"SELECT", "9"}) == "OK");
  CHECK(c.Run({"GET", "k2"}) == "v9b");
}

TEST_CASE("keys: COPY errors") {
  Client c;
  REQUIRE(c.Run({"SET", "a", "1"}) == "OK");
  CHECK(c.Run({"COPY", "a", "a"}).IsError("ERR source and destination objects are the same"));
  CHECK(c.Run({"COPY", "missing", "missing"})
            .IsError("ERR source and destination objects are the same"));
  CHECK(c.Run({"COPY", "a", "a", "DB", "9"})
            .IsError("ERR source and destination objects are the same"));
  CHECK(c.Run({"COPY", "a", "b", "DB", "99"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"COPY", "a", "b", "DB", "-1"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"COPY", "a", "b", "DB", "x"})
            .IsError("ERR value is not an integer or out of range"));
  CHECK(c.Run({"COPY", "a", "b", "DB", "9999999999"})
            .IsError("ERR value is out of range, value must between -2147483648 and 2147483647"));
  // DB is checked as soon as it is read, before later arguments.
  CHECK(c.Run({"COPY", "a", "b", "DB", "99", "junk"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"COPY", "a", "b", "junk", "DB", "99"}).IsError("ERR syntax error"));
  CHECK(c.Run({"COPY", "a", "b", "DB"}).IsError("ERR syntax error"));
  CHECK(c.Run({"COPY", "a"}).IsError("ERR wrong number of arguments for 'copy' command"));
  CHECK(c.Run({"EXISTS", "b"}).IsInt(0));
}

TEST_CASE("keys: MOVE moves a key and its TTL to another database") {
  Client c;
  REQUIRE(c.Run({"SELECT", "10"}) == "OK");
  REQUIRE(c.Run({"FLUSHDB"}) == "OK");
  REQUIRE(c.Run({"SELECT", "9"}) == "OK");
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  REQUIRE(c.Run({"EXPIRE", "k", "1000"}).IsInt(1));
  CHECK(c.Run({"MOVE", "k", "10"}).IsInt(1));
  CHECK(c.Run({"EXISTS", "k"}).IsInt(0));
  CHECK(c.Run({"MOVE", "k", "10"}).IsInt(0));
  REQUIRE(c.Run({"SET", "k", "again"}) == "OK");
  CHECK(c.Run({"MOVE", "k", "10"}).IsInt(0));  // already there
  CHECK(c.Run({"GET", "k"}) == "again");
  REQUIRE(c.Run({"SELECT", "10"}) == "OK");
  CHECK(c.Run({"GET", "k"}) == "v");
  Reply ttl = c.Run({"TTL", "k"});
  CHECK(ttl.integer > 990);
  CHECK(ttl.integer <= 1000);
  REQUIRE(c.Run({"FLUSHDB"}) == "OK");
}

TEST_CASE("keys: MOVE errors") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"MOVE", "k", "9"}).IsError("ERR source and destination objects are the same"));
  CHECK(c.Run({"MOVE", "k", "16"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"MOVE", "missing", "99"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"MOVE", "k", "-1"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"MOVE", "k", "x"}).IsError("ERR value is not an integer or out of range"));
  CHECK(c.Run({"MOVE", "k", "9999999999"})
            .IsError("ERR value is out of range, value must between -2147483648 and 2147483647"));
  CHECK(c.Run({"MOVE", "k"}).IsError("ERR wrong number of arguments for 'move' command"));
  CHECK(c.Run({"GET", "k"}) == "v");
}

// ---------------------------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------------------------

TEST_CASE("keys: EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT set the expiry") {
  Client c;
  for (const char* k : {"a", "b", "c", "d"}) REQUIRE(c.Run({"SET", k, "v"}) == "OK");
  const long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  CHECK(c.Run({"EXPIRE", "a", "100"}).IsInt(1));
  CHECK(c.Run({"PEXPIRE", "b", "100000"}).IsInt(1));
  const long long at_s = now_ms / 1000 + 200;
  CHECK(c.Run({"EXPIREAT", "c", std::to_string(at_s)}).IsInt(1));
  const long long at_ms = now_ms + 300000;
  CHECK(c.Run({"PEXPIREAT", "d", std::to_string(at_ms)}).IsInt(1));

  CHECK(c.Run({"TTL", "a"}).IsInt(100));
  long long pttl = c.Run({"PTTL", "b"}).integer;
  CHECK(pttl > 95000);
  CHECK(pttl <= 100000);
  CHECK(c.Run({"EXPIRETIME", "c"}).IsInt(at_s));
  CHECK(c.Run({"PEXPIRETIME", "c"}).IsInt(at_s * 1000));
  CHECK(c.Run({"PEXPIRETIME", "d"}).IsInt(at_ms));
  CHECK(c.Run({"EXPIRETIME", "d"}).IsInt((at_ms + 500) / 1000));
  long long ttl_d = c.Run({"TTL", "d"}).integer;
  CHECK(ttl_d >= 299);
  CHECK(ttl_d <= 300);
  long long exp_a = c.Run({"PEXPIRETIME", "a"}).integer;
  CHECK(exp_a >= now_ms + 99000);
  CHECK(exp_a <= now_ms + 101000);

  CHECK(c.Run({"EXPIRE", "missing", "100"}).IsInt(0));
  CHECK(c.Run({"EXISTS", "missing"}).IsInt(0));
}

TEST_CASE("keys: TTL family on missing keys and keys without expiry") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  for (const char* cmd : {"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"}) {
    CAPTURE(cmd);
    CHECK(c.Run({cmd, "missing"}).IsInt(-2));
    CHECK(c.Run({cmd, "k"}).IsInt(-1));
  }
  CHECK(c.Run({"TTL"}).IsError("ERR wrong number of arguments for 'ttl' command"));
  CHECK(c.Run({"PTTL", "a", "b"}).IsError("ERR wrong number of arguments for 'pttl' command"));
}

TEST_CASE("keys: EXPIRE NX and XX") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"EXPIRE", "k", "100", "XX"}).IsInt(0));
  CHECK(c.Run({"TTL", "k"}).IsInt(-1));
  CHECK(c.Run({"EXPIRE", "k", "100", "nx"}).IsInt(1));
  CHECK(c.Run({"EXPIRE", "k", "200", "NX"}).IsInt(0));
  CHECK(c.Run({"TTL", "k"}).IsInt(100));
  CHECK(c.Run({"EXPIRE", "k", "200", "xx"}).IsInt(1));
  CHECK(c.Run({"TTL", "k"}).IsInt(200));
  CHECK(c.Run({"EXPIRE", "missing", "100", "NX"}).IsInt(0));
}

TEST_CASE("keys: EXPIRE GT and LT treat a key without expiry as never expiring") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"EXPIRE", "k", "100", "GT"}).IsInt(0));
  CHECK(c.Run({"TTL", "k"}).IsInt(-1));
  CHECK(c.Run({"EXPIRE", "k", "100", "LT"}).IsInt(1));
  CHECK(c.Run({"EXPIRE", "k", "50", "GT"}).IsInt(0));
  CHECK(c.Run({"EXPIRE", "k", "200", "LT"}).IsInt(0));
  CHECK(c.Run({"TTL", "k"}).IsInt(100));
  CHECK(c.Run({"EXPIRE", "k", "50", "lt"}).IsInt(1));
  CHECK(c.Run({"TTL", "k"}).IsInt(50));
  CHECK(c.Run({"EXPIRE", "k", "300", "gt"}).IsInt(1));
  CHECK(c.Run({"TTL", "k"}).IsInt(300));
  CHECK(c.Run({"EXPIRE", "k", "400", "XX", "GT"}).IsInt(1));
  CHECK(c.Run({"TTL", "k"}).IsInt(400));
  // GT with a time in the past never applies, LT deletes.
  REQUIRE(c.Run({"SET", "p", "v"}) == "OK");
  CHECK(c.Run({"EXPIRE", "p", "-5", "GT"}).IsInt(0));
  CHECK(c.Run({"EXISTS", "p"}).IsInt(1));
  CHECK(c.Run({"EXPIRE", "p", "-5", "LT"}).IsInt(1));
  CHECK(c.Run({"EXISTS", "p"}).IsInt(0));
}

TEST_CASE("keys: EXPIRE option and time errors") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  const char* kNxErr = "ERR NX and XX, GT or LT options at the same time are not compatible";
  CHECK(c.Run({"EXPIRE", "k", "10", "NX", "XX"}).IsError(kNxErr));
  CHECK(c.Run({"EXPIRE", "k", "10", "NX", "GT"}).IsError(kNxErr));
  CHECK(c.Run({"PEXPIRE", "k", "10", "LT", "NX"}).IsError(kNxErr));
  CHECK(c.Run({"EXPIRE", "k", "10", "GT", "LT"})
            .IsError("ERR GT and LT options at the same time are not compatible"));
  CHECK(c.Run({"EXPIRE", "k", "10", "foo"}).IsError("ERR Unsupported option foo"));
  CHECK(c.Run({"EXPIRE", "k", "ten"}).IsError("ERR value is not an integer or out of range"));
  // Options are checked before the time.
  CHECK(c.Run({"EXPIRE", "k", "ten", "NX", "XX"}).IsError(kNxErr));
  CHECK(c.Run({"EXPIRE", "k", "9223372036854775807"})
            .IsError("ERR invalid expire time in 'expire' command"));
  CHECK(c.Run({"EXPIRE", "k", "-9223372036854775808"})
            .IsError("ERR invalid expire time in 'expire' command"));
  CHECK(c.Run({"PEXPIRE", "k", "9223372036854775807"})
            .IsError("ERR invalid expire time in 'pexpire' command"));
  CHECK(c.Run({"EXPIREAT", "k", "9223372036854775807"})
            .IsError("ERR invalid expire time in 'expireat' command"));
  CHECK(c.Run({"EXPIRE", "missing", "9223372036854775807"})
            .IsError("ERR invalid expire time in 'expire' command"));
  CHECK(c.Run({"EXPIRE", "k"}).IsError("ERR wrong number of arguments for 'expire' command"));
  CHECK(c.Run({"TTL", "k"}).IsInt(-1));
  // The largest absolute time in ms is valid.
  CHECK(c.Run({"PEXPIREAT", "k", "9223372036854775807"}).IsInt(1));
  CHECK(c.Run({"PEXPIRETIME", "k"}).IsInt(9223372036854775807LL));
}

TEST_CASE("keys: an expiry time in the past deletes the key and replies 1") {
  Client c;
  for (const char* k : {"a", "b", "c", "d", "e"}) REQUIRE(c.Run({"SET", k, "v"}) == "OK");
  CHECK(c.Run({"EXPIRE", "a", "0"}).IsInt(1));
  CHECK(c.Run({"PEXPIRE", "b", "-1"}).IsInt(1));
  CHECK(c.Run({"EXPIREAT", "c", "1"}).IsInt(1));
  CHECK(c.Run({"PEXPIREAT", "d", "1000"}).IsInt(1));
  CHECK(c.Run({"PEXPIRE", "e", "-9223372036854775808"}).IsInt(1));
  CHECK(c.Run({"EXISTS", "a", "b", "c", "d", "e"}).IsInt(0));
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
}

TEST_CASE("keys: PERSIST removes the expiry") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"PERSIST", "k"}).IsInt(0));
  REQUIRE(c.Run({"EXPIRE", "k", "100"}).IsInt(1));
  CHECK(c.Run({"PERSIST", "k"}).IsInt(1));
  CHECK(c.Run({"TTL", "k"}).IsInt(-1));
  CHECK(c.Run({"PERSIST", "k"}).IsInt(0));
  CHECK(c.Run({"PERSIST", "missing"}).IsInt(0));
  // A persisted key no longer expires.
  REQUIRE(c.Run({"PEXPIRE", "k", "50"}).IsInt(1));
  CHECK(c.Run({"PERSIST", "k"}).IsInt(1));
  SleepMs(120);
  CHECK(c.Run({"GET", "k"}) == "v");
}

TEST_CASE("keys: lazy expiry hides and removes an expired key") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  REQUIRE(c.Run({"PEXPIRE", "k", "50"}).IsInt(1));
  CHECK(c.Run({"GET", "k"}) == "v");
  SleepMs(120);
  CHECK(c.Run({"GET", "k"}).IsNil());
  CHECK(c.Run({"EXISTS", "k"}).IsInt(0));
  CHECK(c.Run({"TTL", "k"}).IsInt(-2));
  CHECK(c.Run({"TYPE", "k"}) == "none");
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
}

TEST_CASE("keys: active expiry removes untouched expired keys") {
  Client c;
  SetMany(c, "vol:", 0, 1000);
  for (int i = 0; i < 1000; ++i) c.Send({"PEXPIRE", "vol:" + std::to_string(i), "300"});
  for (int i = 0; i < 1000; ++i) REQUIRE(c.Read().IsInt(1));
  SetMany(c, "keep:", 0, 10);
  REQUIRE(c.Run({"DBSIZE"}).integer > 10);
  // DBSIZE counts keys not yet reaped, so only the background cycle can bring it down.
  long long size = -1;
  for (int i = 0; i < 30 && size != 10; ++i) {
    SleepMs(100);
    size = c.Run({"DBSIZE"}).integer;
  }
  CHECK(size == 10);
  CHECK(c.Run({"EXISTS", "keep:0", "keep:9"}).IsInt(2));
}

// ---------------------------------------------------------------------------------------------
// KEYS, SCAN, RANDOMKEY, DBSIZE
// ---------------------------------------------------------------------------------------------

TEST_CASE("keys: KEYS matches glob patterns") {
  Client c;
  for (const char* k : {"hello", "hallo", "hxllo", "hllo", "heeeello", "foo", "f*o", "f?o"})
    REQUIRE(c.Run({"SET", k, "v"}) == "OK");
  using V = std::vector<std::string>;
  CHECK(Sorted(c.Run({"KEYS", "*"})).size() == 8);
  CHECK(Sorted(c.Run({"KEYS", "h?llo"})) == V{"hallo", "hello", "hxllo"});
  CHECK(Sorted(c.Run({"KEYS", "h*llo"})) == V{"hallo", "heeeello", "hello", "hllo", "hxllo"});
  CHECK(Sorted(c.Run({"KEYS", "h[ae]llo"})) == V{"hallo", "hello"});
  CHECK(Sorted(c.Run({"KEYS", "h[^e]llo"})) == V{"hallo", "hxllo"});
  CHECK(Sorted(c.Run({"KEYS", "h[a-b]llo"})) == V{"hallo"});
  CHECK(Sorted(c.Run({"KEYS", "f\\*o"})) == V{"f*o"});
  CHECK(Sorted(c.Run({"KEYS", "foo"})) == V{"foo"});
  CHECK(c.Run({"KEYS", "nomatch*"}).IsArray());
  CHECK(c.Run({"KEYS", "nomatch*"}).size() == 0);
  CHECK(c.Run({"KEYS"}).IsError("ERR wrong number of arguments for 'keys' command"));
}

TEST_CASE("keys: KEYS over many shards and without expired keys") {
  Client c;
  SetMany(c, "k:", 0, 2000);
  REQUIRE(c.Run({"SET", "gone", "v"}) == "OK");
  REQUIRE(c.Run({"PEXPIRE", "gone", "20"}).IsInt(1));
  SleepMs(60);
  std::vector<std::string> keys = Sorted(c.Run({"KEYS", "*"}));
  CHECK(keys.size() == 2000);
  CHECK(std::find(keys.begin(), keys.end(), "gone") == keys.end());
  CHECK(c.Run({"KEYS", "k:1?9"}).size() == 10);
}

TEST_CASE("keys: SCAN iterates every key") {
  Client c;
  SetMany(c, "s:", 0, 1000);
  std::multiset<std::string> seen = ScanAll(c, {});
  std::set<std::string> distinct(seen.begin(), seen.end());
  CHECK(distinct.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(distinct.count("s:" + std::to_string(i)) == 1);
  // On an empty database the first call finishes the scan.
  REQUIRE(c.Run({"FLUSHDB"}) == "OK");
  CHECK(c.Run({"SCAN", "0"}).Dump() == "[0, []]");
}

TEST_CASE("keys: SCAN COUNT bounds the work of one call") {
  Client c;
  SetMany(c, "s:", 0, 1000);
  Reply small = c.Run({"SCAN", "0", "COUNT", "1"});
  REQUIRE(small.size() == 2);
  CHECK(small[0].str != "0");
  CHECK(small[1].size() < 100);
  Reply big = c.Run({"SCAN", "0", "COUNT", "100000"});
  REQUIRE(big.size() == 2);
  CHECK(big[0] == "0");
  CHECK(big[1].size() == 1000);
  std::multiset<std::string> seen = ScanAll(c, {"COUNT", "7"});
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 1000);
}

TEST_CASE("keys: SCAN MATCH and TYPE filter the keys") {
  Client c;
  SetMany(c, "a:", 0, 300);
  SetMany(c, "b:", 0, 300);
  std::multiset<std::string> a = ScanAll(c, {"MATCH", "a:*", "COUNT", "20"});
  std::set<std::string> distinct(a.begin(), a.end());
  CHECK(distinct.size() == 300);
  CHECK(std::all_of(distinct.begin(), distinct.end(),
                    [](const std::string& k) { return k.starts_with("a:"); }));
  std::multiset<std::string> one = ScanAll(c, {"MATCH", "b:12?"});
  CHECK(std::set<std::string>(one.begin(), one.end()).size() == 10);
  std::multiset<std::string> strings = ScanAll(c, {"TYPE", "string"});
  CHECK(std::set<std::string>(strings.begin(), strings.end()).size() == 600);
  std::multiset<std::string> upper = ScanAll(c, {"TYPE", "STRING", "MATCH", "a:1*"});
  CHECK(std::set<std::string>(upper.begin(), upper.end()).size() == 111);
  CHECK(ScanAll(c, {"TYPE", "list"}).empty());
  CHECK(ScanAll(c, {"TYPE", "nosuchtype"}).empty());
}

TEST_CASE("keys: SCAN does not return expired keys") {
  Client c;
  SetMany(c, "live:", 0, 50);
  for (int i = 0; i < 50; ++i) {
    const std::string k = "dead:" + std::to_string(i);
    REQUIRE(c.Run({"SET", k, "v"}) == "OK");
    REQUIRE(c.Run({"PEXPIRE", k, "20"}).IsInt(1));
  }
  SleepMs(60);
  std::multiset<std::string> seen = ScanAll(c, {});
  std::set<std::string> distinct(seen.begin(), seen.end());
  CHECK(distinct.size() == 50);
  CHECK(std::all_of(distinct.begin(), distinct.end(),
                    [](const std::string& k) { return k.starts_with("live:"); }));
}

TEST_CASE("keys: SCAN keeps returning every original key while keys are inserted") {
  Client c;
  SetMany(c, "orig:", 0, 1000);
  int next = 0;
  std::multiset<std::string> seen = ScanAll(c, {"COUNT", "20"}, [&] {
    if (next < 20000) {
      SetMany(c, "new:", next, 400);
      next += 400;
    }
  });
  CHECK(next >= 4000);
  for (int i = 0; i < 1000; ++i) {
    const std::string k = "orig:" + std::to_string(i);
    CAPTURE(k);
    CHECK(seen.count(k) >= 1);
  }
  CHECK(c.Run({"DBSIZE"}).IsInt(1000 + next));
}

TEST_CASE("keys: SCAN errors and cursor parsing") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"SCAN", "x"}).IsError("ERR invalid cursor"));
  CHECK(c.Run({"SCAN", "1x"}).IsError("ERR invalid cursor"));
  CHECK(c.Run({"SCAN", " 1"}).IsError("ERR invalid cursor"));
  CHECK(c.Run({"SCAN", "18446744073709551616"}).IsError("ERR invalid cursor"));
  CHECK(c.Run({"SCAN", "x", "COUNT", "0"}).IsError("ERR invalid cursor"));
  CHECK(c.Run({"SCAN", "0", "COUNT", "0"}).IsError("ERR syntax error"));
  CHECK(c.Run({"SCAN", "0", "COUNT", "-1"}).IsError("ERR syntax error"));
  CHECK(c.Run({"SCAN", "0", "COUNT", "x"}).IsError("ERR value is not an integer or out of range"));
  CHECK(c.Run({"SCAN", "0", "MATCH"}).IsError("ERR syntax error"));
  CHECK(c.Run({"SCAN", "0", "TYPE"}).IsError("ERR syntax error"));
  CHECK(c.Run({"SCAN", "0", "FOO", "1"}).IsError("ERR syntax error"));
  CHECK(c.Run({"SCAN"}).IsError("ERR wrong number of arguments for 'scan' command"));
  // Cursors are read like strtoul reads them, as Redis does.
  CHECK(c.Run({"SCAN", "00"}).Dump() == "[0, [k]]");
  CHECK(c.Run({"SCAN", "0", "COUNT", "1", "COUNT", "100"}).Dump() == "[0, [k]]");
  CHECK(c.Run({"SCAN", "18446744073709551615"}).IsArray());
  CHECK(c.Run({"SCAN", "-1"}).IsArray());
}

TEST_CASE("keys: RANDOMKEY") {
  Client c;
  CHECK(c.Run({"RANDOMKEY"}).IsNil());
  REQUIRE(c.Run({"SET", "only", "v"}) == "OK");
  CHECK(c.Run({"RANDOMKEY"}) == "only");
  SetMany(c, "r:", 0, 100);
  std::set<std::string> drawn;
  for (int i = 0; i < 50; ++i) {
    Reply r = c.Run({"RANDOMKEY"});
    REQUIRE(r.type == Reply::Type::kString);
    CHECK((r.str == "only" || r.str.starts_with("r:")));
    drawn.insert(r.str);
  }
  CHECK(drawn.size() > 10);
  CHECK(c.Run({"RANDOMKEY", "x"}).IsError("ERR wrong number of arguments for 'randomkey' command"));
}

TEST_CASE("keys: RANDOMKEY skips and removes expired keys") {
  Client c;
  for (int i = 0; i < 20; ++i) {
    const std::string k = "t:" + std::to_string(i);
    REQUIRE(c.Run({"SET", k, "v"}) == "OK");
    REQUIRE(c.Run({"PEXPIRE", k, "20"}).IsInt(1));
  }
  REQUIRE(c.Run({"SET", "live", "v"}) == "OK");
  SleepMs(60);
  for (int i = 0; i < 10; ++i) CHECK(c.Run({"RANDOMKEY"}) == "live");
  REQUIRE(c.Run({"DEL", "live"}).IsInt(1));
  for (int i = 0; i < 5; ++i) {
    const std::string k = "u:" + std::to_string(i);
    REQUIRE(c.Run({"SET", k, "v"}) == "OK");
    REQUIRE(c.Run({"PEXPIRE", k, "20"}).IsInt(1));
  }
  SleepMs(60);
  CHECK(c.Run({"RANDOMKEY"}).IsNil());
}

TEST_CASE("keys: DBSIZE counts the current database only") {
  Client c;
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
  SetMany(c, "d:", 0, 3);
  CHECK(c.Run({"DBSIZE"}).IsInt(3));
  REQUIRE(c.Run({"SELECT", "10"}) == "OK");
  REQUIRE(c.Run({"FLUSHDB"}) == "OK");
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
  REQUIRE(c.Run({"SELECT", "9"}) == "OK");
  REQUIRE(c.Run({"DEL", "d:0"}).IsInt(1));
  CHECK(c.Run({"DBSIZE"}).IsInt(2));
  CHECK(c.Run({"DBSIZE", "x"}).IsError("ERR wrong number of arguments for 'dbsize' command"));
}

// ---------------------------------------------------------------------------------------------
// FLUSHDB, FLUSHALL
// ---------------------------------------------------------------------------------------------

TEST_CASE("keys: FLUSHDB empties only the current database") {
  Client c;
  REQUIRE(c.Run({"SELECT", "10"}) == "OK");
  REQUIRE(c.Run({"SET", "other", "v"}) == "OK");
  REQUIRE(c.Run({"SELECT", "9"}) == "OK");
  SetMany(c, "f:", 0, 500);
  REQUIRE(c.Run({"EXPIRE", "f:0", "100"}).IsInt(1));
  CHECK(c.Run({"FLUSHDB"}) == "OK");
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
  CHECK(c.Run({"KEYS", "*"}).size() == 0);
  SetMany(c, "f:", 0, 5);
  CHECK(c.Run({"FLUSHDB", "ASYNC"}) == "OK");
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
  REQUIRE(c.Run({"SET", "x", "1"}) == "OK");
  CHECK(c.Run({"FLUSHDB", "sync"}) == "OK");
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
  CHECK(c.Run({"FLUSHDB", "foo"}).IsError("ERR syntax error"));
  CHECK(c.Run({"FLUSHDB", "ASYNC", "SYNC"}).IsError("ERR syntax error"));
  REQUIRE(c.Run({"SELECT", "10"}) == "OK");
  CHECK(c.Run({"GET", "other"}) == "v");
  REQUIRE(c.Run({"FLUSHDB"}) == "OK");
}

TEST_CASE("keys: FLUSHALL empties every database") {
  Client c;
  REQUIRE(c.Run({"SET", "a", "1"}) == "OK");
  REQUIRE(c.Run({"SELECT", "10"}) == "OK");
  REQUIRE(c.Run({"SET", "b", "2"}) == "OK");
  CHECK(c.Run({"FLUSHALL", "foo"}).IsError("ERR syntax error"));
  CHECK(c.Run({"DBSIZE"}).IsInt(1));
  CHECK(c.Run({"FLUSHALL"}) == "OK");
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
  REQUIRE(c.Run({"SELECT", "9"}) == "OK");
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
  CHECK(c.Run({"GET", "a"}).IsNil());
  REQUIRE(c.Run({"SET", "a", "1"}) == "OK");
  CHECK(c.Run({"FLUSHALL", "ASYNC"}) == "OK");
  CHECK(c.Run({"EXISTS", "a"}).IsInt(0));
  REQUIRE(c.Run({"SET", "a", "1"}) == "OK");
  CHECK(c.Run({"FLUSHALL", "SYNC"}) == "OK");
  CHECK(c.Run({"EXISTS", "a"}).IsInt(0));
}

// ---------------------------------------------------------------------------------------------
// OBJECT
// ---------------------------------------------------------------------------------------------

TEST_CASE("keys: OBJECT ENCODING names string encodings") {
  Client c;
  REQUIRE(c.Run({"SET", "int", "12345"}) == "OK");
  REQUIRE(c.Run({"SET", "neg", "-7"}) == "OK");
  REQUIRE(c.Run({"SET", "short", "hello"}) == "OK");
  REQUIRE(c.Run({"SET", "lead", "0123"}) == "OK");
  REQUIRE(c.Run({"SET", "huge", "12345678901234567890"}) == "OK");
  REQUIRE(c.Run({"SET", "long", std::string(45, 'x')}) == "OK");
  REQUIRE(c.Run({"SET", "edge", std::string(44, 'x')}) == "OK");
  REQUIRE(c.Run({"INCR", "counter"}).IsInt(1));
  CHECK(c.Run({"OBJECT", "ENCODING", "int"}) == "int");
  CHECK(c.Run({"OBJECT", "ENCODING", "neg"}) == "int");
  CHECK(c.Run({"OBJECT", "encoding", "counter"}) == "int");
  CHECK(c.Run({"OBJECT", "ENCODING", "short"}) == "embstr");
  CHECK(c.Run({"OBJECT", "ENCODING", "lead"}) == "embstr");
  CHECK(c.Run({"OBJECT", "ENCODING", "huge"}) == "embstr");
  CHECK(c.Run({"OBJECT", "ENCODING", "edge"}) == "embstr");
  CHECK(c.Run({"OBJECT", "ENCODING", "long"}) == "raw");
  CHECK(c.Run({"OBJECT", "ENCODING", "missing"}).IsNil());
}

TEST_CASE("keys: OBJECT REFCOUNT reports shared small integers like Redis") {
  Client c;
  REQUIRE(c.Run({"SET", "zero", "0"}) == "OK");
  REQUIRE(c.Run({"SET", "small", "9999"}) == "OK");
  REQUIRE(c.Run({"SET", "big", "10000"}) == "OK");
  REQUIRE(c.Run({"SET", "neg", "-1"}) == "OK");
  REQUIRE(c.Run({"SET", "str", "hello"}) == "OK");
  CHECK(c.Run({"OBJECT", "REFCOUNT", "zero"}).IsInt(INT_MAX));
  CHECK(c.Run({"OBJECT", "REFCOUNT", "small"}).IsInt(INT_MAX));
  CHECK(c.Run({"OBJECT", "REFCOUNT", "big"}).IsInt(1));
  CHECK(c.Run({"OBJECT", "REFCOUNT", "neg"}).IsInt(1));
  CHECK(c.Run({"OBJECT", "REFCOUNT", "str"}).IsInt(1));
  CHECK(c.Run({"OBJECT", "REFCOUNT", "missing"}).IsNil());
}

TEST_CASE("keys: OBJECT IDLETIME grows and only real accesses reset it") {
  Client c;
  Client quiet;
  REQUIRE(quiet.Run({"CLIENT", "NO-TOUCH", "ON"}) == "OK");
  for (const char* k : {"read", "write", "quiet-write", "quiet-touch"})
    REQUIRE(c.Run({"SET", k, "v"}) == "OK");
  CHECK(c.Run({"OBJECT", "IDLETIME", "read"}).integer <= 1);
  CHECK(c.Run({"OBJECT", "IDLETIME", "missing"}).IsNil());
  SleepMs(2200);
  // None of these count as an access.
  REQUIRE(c.Run({"TYPE", "read"}) == "string");
  REQUIRE(c.Run({"EXISTS", "read"}).IsInt(1));
  REQUIRE(c.Run({"TTL", "read"}).IsInt(-1));
  REQUIRE(c.Run({"OBJECT", "ENCODING", "read"}) == "embstr");
  // A write is an access, except from a client in NO-TOUCH mode; TOUCH always is.
  REQUIRE(c.Run({"EXPIRE", "write", "100"}).IsInt(1));
  REQUIRE(quiet.Run({"EXPIRE", "quiet-write", "100"}).IsInt(1));
  REQUIRE(quiet.Run({"TOUCH", "quiet-touch"}).IsInt(1));
  Reply idle = c.Run({"OBJECT", "IDLETIME", "read"});
  REQUIRE(idle.type == Reply::Type::kInteger);
  CHECK(idle.integer >= 2);
  CHECK(idle.integer <= 4);
  CHECK(c.Run({"OBJECT", "IDLETIME", "quiet-write"}).integer >= 2);
  CHECK(c.Run({"OBJECT", "IDLETIME", "write"}).integer <= 1);
  CHECK(c.Run({"OBJECT", "IDLETIME", "quiet-touch"}).integer <= 1);
  CHECK(c.Run({"TOUCH", "read"}).IsInt(1));
  Reply after = c.Run({"OBJECT", "IDLETIME", "read"});
  REQUIRE(after.type == Reply::Type::kInteger);
  CHECK(after.integer <= 1);
}

TEST_CASE("keys: OBJECT FREQ, HELP and errors") {
  Client c;
  REQUIRE(c.Run({"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"OBJECT", "FREQ", "k"})
            .IsError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                     "Please note that when switching between policies at runtime LRU and LFU "
                     "data will take some time to adjust."));
  CHECK(c.Run({"OBJECT", "FREQ", "missing"}).IsNil());
  Reply help = c.Run({"OBJECT", "HELP"});
  REQUIRE(help.IsArray());
  REQUIRE(help.size() == 15);
  CHECK(help[0].type == Reply::Type::kStatus);
  CHECK(help[0] == "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  CHECK(help[1] == "ENCODING <key>");
  CHECK(help[4] == "FREQ <key>");
  CHECK(help[7] == "IDLETIME <key>");
  CHECK(help[10] == "REFCOUNT <key>");
  CHECK(help[13] == "HELP");
  CHECK(help[14] == "    Prints this help.");
  CHECK(c.Run({"OBJECT", "foo", "k"}).IsError("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
  CHECK(c.Run({"OBJECT", "ENCODING"})
            .IsError("ERR wrong number of arguments for 'object|encoding' command"));
  CHECK(c.Run({"OBJECT", "ENCODING", "k", "x"})
            .IsError("ERR wrong number of arguments for 'object|encoding' command"));
  CHECK(c.Run({"OBJECT"}).IsError("ERR wrong number of arguments for 'object' command"));
}

TEST_CASE("keys: COMMAND INFO describes the family like Redis") {
  Client c;
  Reply del = c.Run({"COMMAND", "INFO", "del"});
  REQUIRE(del.size() == 1);
  REQUIRE(del[0].size() >= 6);
  CHECK(del[0][0] == "del");
  CHECK(del[0][1].IsInt(-2));
  CHECK(del[0][2].Dump() == "[write]");
  CHECK(del[0][3].IsInt(1));
  CHECK(del[0][4].IsInt(-1));
  CHECK(del[0][5].IsInt(1));
  Reply copy = c.Run({"COMMAND", "INFO", "copy"});
  REQUIRE(copy[0].size() >= 6);
  CHECK(copy[0][1].IsInt(-3));
  CHECK(copy[0][2].Dump() == "[write, denyoom]");
  CHECK(copy[0][4].IsInt(2));
  Reply scan = c.Run({"COMMAND", "INFO", "scan"});
  REQUIRE(scan[0].size() >= 6);
  CHECK(scan[0][2].Dump() == "[readonly]");
  CHECK(scan[0][3].IsInt(0));
}

}  // namespace runnel::test
