// Integration tests of the set command family against the real server: every command, option
// and error reply in RESP2 (hiredis) and RESP3 (raw bytes), the encodings OBJECT ENCODING
// reports (Redis 7.2's intset / listpack / hashtable rules), the generic commands on set keys,
// and persistence through kill -9 and a checkpoint. Expected replies and errors were taken from
// Redis 7.0; the order of members in a reply is unspecified, so tests sort before comparing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fixture.h"

namespace runnel::test {
namespace {

constexpr std::string_view kWrongType =
    "!WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr std::string_view kSyntax = "!ERR syntax error";
constexpr std::string_view kNotInt = "!ERR value is not an integer or out of range";
constexpr std::string_view kNotPositive = "!ERR value is out of range, must be positive";

std::string Do(Client& c, std::initializer_list<std::string_view> args) {
  return c.Run(args).Dump();
}

// An array reply's elements sorted, in Dump's form: "[a, b, c]".
std::string Sorted(const Reply& r) {
  if (!r.IsArray()) return r.Dump();
  std::vector<std::string> items;
  for (const Reply& e : r.elements) items.push_back(e.Dump());
  std::sort(items.begin(), items.end());
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

std::string SortedRun(Client& c, std::initializer_list<std::string_view> args) {
  return Sorted(c.Run(args));
}

std::set<std::string> AsSet(const Reply& r) {
  std::set<std::string> out;
  for (const Reply& e : r.elements) out.insert(e.str);
  return out;
}

// SADD key with the members "<prefix><i>" for i in [from, to), in one command.
void FillRange(Client& c, std::string_view key, int from, int to, std::string_view prefix = "") {
  std::vector<std::string> args{"SADD", std::string(key)};
  for (int i = from; i < to; ++i) args.push_back(std::string(prefix) + std::to_string(i));
  REQUIRE(c.Run(args).IsInt(to - from));
}
void Fill(Client& c, std::string_view key, int n, std::string_view prefix = "") {
  FillRange(c, key, 0, n, prefix);
}

std::string Encoding(Client& c, std::string_view key) {
  return c.Run({"OBJECT", "ENCODING", key}).Dump();
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
// Single-key commands
// ---------------------------------------------------------------------------------------------

TEST_CASE("sets: SADD, SREM, SCARD, SISMEMBER and SMISMEMBER") {
  Client c;
  CHECK(Do(c, {"SADD", "s", "a", "b", "a", "c"}) == ":3");
  CHECK(Do(c, {"SADD", "s", "c", "d"}) == ":1");
  CHECK(Do(c, {"SCARD", "s"}) == ":4");
  CHECK(Do(c, {"SCARD", "missing"}) == ":0");
  CHECK(Do(c, {"SISMEMBER", "s", "a"}) == ":1");
  CHECK(Do(c, {"SISMEMBER", "s", "z"}) == ":0");
  CHECK(Do(c, {"SISMEMBER", "missing", "a"}) == ":0");
  CHECK(Do(c, {"SMISMEMBER", "s", "a", "z", "d"}) == "[:1, :0, :1]");
  CHECK(Do(c, {"SMISMEMBER", "missing", "a", "b"}) == "[:0, :0]");
  CHECK(Do(c, {"SREM", "s", "a", "z", "a"}) == ":1");
  CHECK(Do(c, {"SREM", "missing", "a"}) == ":0");
  CHECK(SortedRun(c, {"SMEMBERS", "s"}) == "[b, c, d]");
  // Removing the last member deletes the key.
  CHECK(Do(c, {"SREM", "s", "b", "c", "d", "e"}) == ":3");
  CHECK(Do(c, {"EXISTS", "s"}) == ":0");
  CHECK(Do(c, {"SMEMBERS", "s"}) == "[]");
  // Binary-safe members.
  std::string bin("a\0b\r\n", 5);
  CHECK(c.Run({"SADD", "bin", bin, ""}).IsInt(2));
  CHECK(c.Run({"SISMEMBER", "bin", bin}).IsInt(1));
  CHECK(c.Run({"SISMEMBER", "bin", ""}).IsInt(1));
  CHECK(AsSet(c.Run({"SMEMBERS", "bin"})) == std::set<std::string>{bin, ""});
}

TEST_CASE("sets: integer-looking members keep their exact text") {
  Client c;
  CHECK(Do(c, {"SADD", "n", "1", "01", "-0", "+1", "1.0", " 1"}) == ":6");
  CHECK(Do(c, {"SCARD", "n"}) == ":6");
  CHECK(Do(c, {"SISMEMBER", "n", "01"}) == ":1");
  CHECK(SortedRun(c, {"SMEMBERS", "n"}) == "[ 1, +1, -0, 01, 1, 1.0]");
  CHECK(Do(c, {"SADD", "i", "-9223372036854775808", "9223372036854775807", "0"}) == ":3");
  CHECK(Encoding(c, "i") == "intset");
  CHECK(SortedRun(c, {"SMEMBERS", "i"}) == "[-9223372036854775808, 0, 9223372036854775807]");
  CHECK(Do(c, {"SISMEMBER", "i", "9223372036854775808"}) == ":0");
  CHECK(Do(c, {"SREM", "i", "00"}) == ":0");
}

TEST_CASE("sets: SMEMBERS, SRANDMEMBER and SPOP on missing keys") {
  Client c;
  CHECK(Do(c, {"SMEMBERS", "missing"}) == "[]");
  CHECK(Do(c, {"SRANDMEMBER", "missing"}) == "(nil)");
  CHECK(Do(c, {"SRANDMEMBER", "missing", "5"}) == "[]");
  CHECK(Do(c, {"SRANDMEMBER", "missing", "-5"}) == "[]");
  CHECK(Do(c, {"SPOP", "missing"}) == "(nil)");
  CHECK(Do(c, {"SPOP", "missing", "3"}) == "[]");
  CHECK(Do(c, {"SSCAN", "missing", "0"}) == "[0, []]");
  CHECK(Do(c, {"SSCAN", "missing", "0", "bad-option"}) == "[0, []]");  // as Redis: not parsed
}

TEST_CASE("sets: SRANDMEMBER with positive, negative and zero counts") {
  Client c;
  Fill(c, "s", 5, "m");
  const std::set<std::string> all = AsSet(c.Run({"SMEMBERS", "s"}));
  CHECK(all.count(c.Run({"SRANDMEMBER", "s"}).str) == 1);
  CHECK(Do(c, {"SRANDMEMBER", "s", "0"}) == "[]");
  Reply three = c.Run({"SRANDMEMBER", "s", "3"});
  REQUIRE(three.size() == 3);
  CHECK(AsSet(three).size() == 3);  // distinct
  for (const Reply& e : three.elements) CHECK(all.count(e.str) == 1);
  CHECK(AsSet(c.Run({"SRANDMEMBER", "s", "5"})) == all);
  CHECK(c.Run({"SRANDMEMBER", "s", "100"}).size() == 5);
  // Negative counts repeat members: every member shows up in 200 draws of 5.
  Reply many = c.Run({"SRANDMEMBER", "s", "-200"});
  CHECK(many.size() == 200);
  CHECK(AsSet(many) == all);
  CHECK(c.Run({"SRANDMEMBER", "s", "-1"}).size() == 1);
  // The same on a hash table, where distinct draws use both strategies.
  Fill(c, "big", 1000, "x");
  for (const char* n : {"10", "400", "999"}) {
    Reply r = c.Run({"SRANDMEMBER", "big", n});
    CHECK(r.size() == static_cast<size_t>(std::stoi(n)));
    CHECK(AsSet(r).size() == r.size());
  }
  CHECK(Do(c, {"SCARD", "s"}) == ":5");  // nothing removed
  CHECK(Do(c, {"SRANDMEMBER", "s", "abc"}) == kNotInt);
  CHECK(Do(c, {"SRANDMEMBER", "s", "9223372036854775808"}) == kNotInt);
  CHECK(Do(c, {"SRANDMEMBER", "s", "-9223372036854775808"}) ==
        "!ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
  CHECK(Do(c, {"SRANDMEMBER", "s", "1", "2"}) == kSyntax);
}

TEST_CASE("sets: a huge negative SRANDMEMBER count cuts the client off, not the server") {
  Client c;
  c.Run({"SADD", "s", "a", "b"});
  {
    ConfigGuard limit(c, "client-output-buffer-limit", "normal 1mb 0 0");
    Client greedy(SharedServer().port(), false);
    REQUIRE(greedy.Run({"SELECT", "9"}) == "OK");
    Reply r = greedy.Run({"SRANDMEMBER", "s", "-9223372036854775807"});
    CHECK(r.IsError());  // the connection was closed mid-reply
    CHECK(c.Run({"PING"}) == "PONG");
  }
  CHECK(c.Run({"SRANDMEMBER", "s", "-3"}).size() == 3);
}

TEST_CASE("sets: SPOP with and without a count; the set is deleted when emptied") {
  Client c;
  Fill(c, "s", 10, "m");
  std::set<std::string> left = AsSet(c.Run({"SMEMBERS", "s"}));
  Reply one = c.Run({"SPOP", "s"});
  CHECK(left.erase(one.str) == 1);
  Reply three = c.Run({"SPOP", "s", "3"});
  REQUIRE(three.size() == 3);
  for (const Reply& e : three.elements) CHECK(left.erase(e.str) == 1);
  CHECK(AsSet(c.Run({"SMEMBERS", "s"})) == left);
  CHECK(Do(c, {"SPOP", "s", "0"}) == "[]");
  CHECK(Do(c, {"SCARD", "s"}) == ":6");
  Reply rest = c.Run({"SPOP", "s", "100"});
  CHECK(AsSet(rest) == left);
  CHECK(Do(c, {"EXISTS", "s"}) == ":0");
  CHECK(Do(c, {"SADD", "one", "x"}) == ":1");
  CHECK(Do(c, {"SPOP", "one"}) == "x");
  CHECK(Do(c, {"EXISTS", "one"}) == ":0");
  for (const char* bad : {"-1", "abc", "9223372036854775808"})
    CHECK(Do(c, {"SPOP", "s", bad}) == kNotPositive);
  CHECK(Do(c, {"SPOP", "s", "1", "2"}) == kSyntax);
}

TEST_CASE("sets: SPOP of most of a set rebuilds the rest in a compact encoding, as Redis") {
  Client c;
  Fill(c, "h", 1000);  // 1000 integers in one SADD: straight to a hash table
  CHECK(Encoding(c, "h") == "hashtable");
  Reply popped = c.Run({"SPOP", "h", "950"});
  CHECK(AsSet(popped).size() == 950);
  CHECK(Do(c, {"SCARD", "h"}) == ":50");
  CHECK(Encoding(c, "h") == "listpack");  // what remains was copied out of a hash table
  Reply rest = c.Run({"SMEMBERS", "h"});
  std::set<std::string> all = AsSet(popped);
  for (const Reply& e : rest.elements) CHECK(all.insert(e.str).second);
  CHECK(all.size() == 1000);
  Fill(c, "i", 100);
  c.Run({"SPOP", "i", "90"});
  CHECK(Encoding(c, "i") == "intset");
  // A few from a big set: popped one by one, the encoding stays.
  Fill(c, "h2", 1000);
  CHECK(c.Run({"SPOP", "h2", "10"}).size() == 10);
  CHECK(Encoding(c, "h2") == "hashtable");
}

TEST_CASE("sets: SMOVE between sets, to itself, from missing keys, and WRONGTYPE") {
  Client c;
  c.Run({"SADD", "src", "a", "b"});
  c.Run({"SADD", "dst", "b", "c"});
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"SMOVE", "src", "dst", "a"}) == ":1");
  CHECK(SortedRun(c, {"SMEMBERS", "dst"}) == "[a, b, c]");
  CHECK(Do(c, {"SMOVE", "src", "dst", "zz"}) == ":0");
  CHECK(Do(c, {"SMOVE", "src", "dst", "b"}) == ":1");  // already in dst: just leaves src
  CHECK(Do(c, {"EXISTS", "src"}) == ":0");             // emptied, so deleted
  CHECK(Do(c, {"SMOVE", "dst", "new", "c"}) == ":1");  // creates the destination
  CHECK(Do(c, {"SMEMBERS", "new"}) == "[c]");
  CHECK(Do(c, {"SMOVE", "dst", "dst", "a"}) == ":1");
  CHECK(Do(c, {"SMOVE", "dst", "dst", "zz"}) == ":0");
  CHECK(Do(c, {"SCARD", "dst"}) == ":2");
  CHECK(Do(c, {"SMOVE", "missing", "dst", "a"}) == ":0");
  CHECK(Do(c, {"SMOVE", "missing", "str", "a"}) == ":0");  // no source: no type check
  CHECK(Do(c, {"SMOVE", "dst", "str", "a"}) == kWrongType);
  CHECK(Do(c, {"SMOVE", "str", "dst", "a"}) == kWrongType);
  CHECK(Do(c, {"SCARD", "dst"}) == ":2");
  // Across shards ("a" and "b" hash far apart) and inside one ({t}).
  c.Run({"SADD", "{t}1", "m"});
  CHECK(Do(c, {"SMOVE", "{t}1", "{t}2", "m"}) == ":1");
  CHECK(Do(c, {"SMEMBERS", "{t}2"}) == "[m]");
}

// ---------------------------------------------------------------------------------------------
// Set algebra
// ---------------------------------------------------------------------------------------------

TEST_CASE("sets: SINTER, SUNION and SDIFF, with missing and repeated keys") {
  Client c;
  c.Run({"SADD", "a", "1", "2", "3", "x"});
  c.Run({"SADD", "b", "2", "3", "4", "x", "y"});
  c.Run({"SADD", "c", "3", "x", "z"});
  CHECK(SortedRun(c, {"SINTER", "a", "b", "c"}) == "[3, x]");
  CHECK(SortedRun(c, {"SINTER", "a"}) == "[1, 2, 3, x]");
  CHECK(SortedRun(c, {"SINTER", "a", "a"}) == "[1, 2, 3, x]");
  CHECK(Do(c, {"SINTER", "a", "missing"}) == "[]");
  CHECK(SortedRun(c, {"SUNION", "a", "c", "missing"}) == "[1, 2, 3, x, z]");
  CHECK(Do(c, {"SUNION", "missing"}) == "[]");
  CHECK(SortedRun(c, {"SDIFF", "a", "b"}) == "[1]");
  CHECK(SortedRun(c, {"SDIFF", "b", "a", "c"}) == "[4, y]");
  CHECK(SortedRun(c, {"SDIFF", "a", "missing"}) == "[1, 2, 3, x]");
  CHECK(Do(c, {"SDIFF", "missing", "a"}) == "[]");
  CHECK(Do(c, {"SDIFF", "a", "b", "a"}) == "[]");  // a set minus itself
  // Both difference strategies: a big first set against small ones, and the reverse.
  Fill(c, "big", 2000);
  Fill(c, "small", 10);
  CHECK(c.Run({"SDIFF", "big", "small"}).size() == 1990);
  CHECK(Do(c, {"SDIFF", "small", "big"}) == "[]");
  c.Run({"SADD", "extra", "1500", "1501", "zz"});
  CHECK(c.Run({"SDIFF", "big", "small", "missing", "extra"}).size() == 1988);
  CHECK(c.Run({"SINTER", "big", "small"}).size() == 10);
  CHECK(c.Run({"SUNION", "big", "small", "c"}).size() == 2002);
}

TEST_CASE("sets: SINTERCARD with LIMIT, and its errors") {
  Client c;
  Fill(c, "a", 100);
  Fill(c, "b", 50);
  c.Run({"SET", "str", "x"});
  CHECK(Do(c, {"SINTERCARD", "2", "a", "b"}) == ":50");
  CHECK(Do(c, {"SINTERCARD", "1", "a"}) == ":100");
  CHECK(Do(c, {"SINTERCARD", "2", "a", "b", "LIMIT", "10"}) == ":10");
  CHECK(Do(c, {"SINTERCARD", "2", "a", "b", "limit", "0"}) == ":50");
  CHECK(Do(c, {"SINTERCARD", "2", "a", "b", "LIMIT", "3", "LIMIT", "70"}) == ":50");
  CHECK(Do(c, {"SINTERCARD", "2", "a", "missing"}) == ":0");
  CHECK(Do(c, {"SINTERCARD", "2", "missing", "str"}) == kWrongType);
  CHECK(Do(c, {"SINTERCARD", "1", "str"}) == kWrongType);
  for (const char* n : {"0", "-1", "abc"})
    CHECK(Do(c, {"SINTERCARD", n, "a"}) == "!ERR numkeys should be greater than 0");
  CHECK(Do(c, {"SINTERCARD", "3", "a", "b"}) ==
        "!ERR Number of keys can't be greater than number of args");
  CHECK(Do(c, {"SINTERCARD", "1", "a", "b"}) == kSyntax);  // "b" is not an option
  CHECK(Do(c, {"SINTERCARD", "1", "a", "LIMIT"}) == kSyntax);
  for (const char* bad : {"-1", "abc"})
    CHECK(Do(c, {"SINTERCARD", "1", "a", "LIMIT", bad}) == "!ERR LIMIT can't be negative");
  CHECK(Do(c, {"COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"}) == "[a, b]");
}

TEST_CASE("sets: the STORE commands replace or delete the destination") {
  Client c;
  c.Run({"SADD", "a", "1", "2", "3"});
  c.Run({"SADD", "b", "2", "3", "4"});
  c.Run({"SET", "dst", "string"});
  c.Run({"EXPIRE", "dst", "1000"});
  CHECK(Do(c, {"SINTERSTORE", "dst", "a", "b"}) == ":2");  // any type is replaced
  CHECK(Do(c, {"TYPE", "dst"}) == "set");
  CHECK(Do(c, {"TTL", "dst"}) == ":-1");
  CHECK(SortedRun(c, {"SMEMBERS", "dst"}) == "[2, 3]");
  CHECK(Do(c, {"SUNIONSTORE", "dst", "a", "b"}) == ":4");
  CHECK(SortedRun(c, {"SMEMBERS", "dst"}) == "[1, 2, 3, 4]");
  CHECK(Do(c, {"SDIFFSTORE", "dst", "a", "b"}) == ":1");
  CHECK(Do(c, {"SMEMBERS", "dst"}) == "[1]");
  CHECK(Do(c, {"SINTERSTORE", "a", "a", "b"}) == ":2");  // the destination is a source
  CHECK(SortedRun(c, {"SMEMBERS", "a"}) == "[2, 3]");
  // An empty result deletes the destination.
  CHECK(Do(c, {"SINTERSTORE", "dst", "a", "missing"}) == ":0");
  CHECK(Do(c, {"EXISTS", "dst"}) == ":0");
  c.Run({"SET", "dst", "x"});
  CHECK(Do(c, {"SUNIONSTORE", "dst", "missing"}) == ":0");
  CHECK(Do(c, {"EXISTS", "dst"}) == ":0");
  c.Run({"SET", "dst", "x"});
  CHECK(Do(c, {"SDIFFSTORE", "dst", "a", "a"}) == ":0");
  CHECK(Do(c, {"EXISTS", "dst"}) == ":0");
  // A source of another type fails the command and leaves the destination alone.
  c.Run({"SET", "str", "x"});
  c.Run({"SADD", "dst", "keep"});
  CHECK(Do(c, {"SUNIONSTORE", "dst", "a", "str"}) == kWrongType);
  CHECK(Do(c, {"SINTERSTORE", "dst", "missing", "str"}) == kWrongType);
  CHECK(Do(c, {"SDIFFSTORE", "dst", "str"}) == kWrongType);
  CHECK(Do(c, {"SMEMBERS", "dst"}) == "[keep]");
}

TEST_CASE("sets: stored results take the encoding Redis 7.2 gives them") {
  Client c;
  FillRange(c, "h1", 0, 600);  // integers, but hash tables (too many for one intset SADD)
  FillRange(c, "h2", 300, 900);
  CHECK(Encoding(c, "h1") == "hashtable");
  CHECK(Encoding(c, "h2") == "hashtable");
  CHECK(Do(c, {"SINTERSTORE", "i", "h1", "h2"}) == ":300");
  CHECK(Encoding(c, "i") == "intset");  // all integers, and few enough: converted back
  CHECK(c.Run({"SINTER", "h1", "h2"}).size() == 300);
  Fill(c, "h3", 200);
  Fill(c, "s1", 300, "m");
  Fill(c, "s2", 20, "m");
  CHECK(Do(c, {"SINTERSTORE", "l", "s1", "s2"}) == ":20");
  CHECK(Encoding(c, "l") == "listpack");
  CHECK(Encoding(c, "h3") == "intset");
  CHECK(Do(c, {"SINTERSTORE", "i2", "h1", "h3"}) == ":200");
  CHECK(Encoding(c, "i2") == "intset");
  CHECK(Do(c, {"SUNIONSTORE", "u", "s2", "h3"}) == ":220");
  CHECK(Encoding(c, "u") == "hashtable");
  c.Run({"SADD", "x", "1", "2"});
  c.Run({"SADD", "y", "a"});
  CHECK(Do(c, {"SUNIONSTORE", "u", "x", "y"}) == ":3");
  CHECK(Encoding(c, "u") == "listpack");
  CHECK(Do(c, {"SDIFFSTORE", "d", "x", "y"}) == ":2");
  CHECK(Encoding(c, "d") == "intset");
}

// ---------------------------------------------------------------------------------------------
// SSCAN
// ---------------------------------------------------------------------------------------------

TEST_CASE("sets: SSCAN walks every member of a hash table; compact sets come whole") {
  Client c;
  Fill(c, "big", 1000, "k");
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    Reply r = c.Run({"SSCAN", "big", cursor, "COUNT", "50"});
    REQUIRE(r.size() == 2);
    cursor = r[0].str;
    for (const Reply& e : r[1].elements) seen.insert(e.str);
    ++calls;
  } while (cursor != "0" && calls < 10000);
  CHECK(seen.size() == 1000);
  CHECK(calls > 5);  // really incremental
  // MATCH filters what the visited buckets held.
  std::set<std::string> matched;
  cursor = "0";
  do {
    Reply r = c.Run({"SSCAN", "big", cursor, "MATCH", "k1?", "COUNT", "100"});
    cursor = r[0].str;
    for (const Reply& e : r[1].elements) matched.insert(e.str);
  } while (cursor != "0");
  CHECK(matched.size() == 10);
  c.Run({"SADD", "small", "a", "b", "c", "1"});
  CHECK(Sorted(c.Run({"SSCAN", "small", "0"})[1]) == "[1, a, b, c]");
  CHECK(c.Run({"SSCAN", "small", "12345", "COUNT", "1"})[0] == "0");
  CHECK(Sorted(c.Run({"SSCAN", "small", "0", "match", "[ab]"})[1]) == "[a, b]");
  CHECK(Do(c, {"SSCAN", "small", "abc"}) == "!ERR invalid cursor");
  CHECK(Do(c, {"SSCAN", "small", "18446744073709551616"}) == "!ERR invalid cursor");
  CHECK(Do(c, {"SSCAN", "small", "0", "COUNT", "0"}) == kSyntax);
  CHECK(Do(c, {"SSCAN", "small", "0", "COUNT", "x"}) == kNotInt);
  CHECK(Do(c, {"SSCAN", "small", "0", "MATCH"}) == kSyntax);
  CHECK(Do(c, {"SSCAN", "small", "0", "TYPE", "set"}) == kSyntax);
  CHECK(Do(c, {"SSCAN", "missing", "abc"}) == "!ERR invalid cursor");
}

// ---------------------------------------------------------------------------------------------
// Encodings and settings
// ---------------------------------------------------------------------------------------------

TEST_CASE("sets: OBJECT ENCODING follows the intset, listpack and hashtable thresholds") {
  Client c;
  CHECK(Do(c, {"CONFIG", "GET", "set-max-*"}) ==
        "[set-max-intset-entries, 512, set-max-listpack-entries, 128, set-max-listpack-value, "
        "64]");
  c.Run({"SADD", "i", "1", "2", "3"});
  CHECK(Encoding(c, "i") == "intset");
  c.Run({"SADD", "i", "a"});
  CHECK(Encoding(c, "i") == "listpack");
  Fill(c, "i2", 512);
  CHECK(Encoding(c, "i2") == "intset");
  c.Run({"SADD", "i2", "512"});
  CHECK(Encoding(c, "i2") == "hashtable");
  Fill(c, "l", 128, "m");
  CHECK(Encoding(c, "l") == "listpack");
  c.Run({"SADD", "l", "m128"});
  CHECK(Encoding(c, "l") == "hashtable");
  c.Run({"SADD", "long", std::string(64, 'x')});
  CHECK(Encoding(c, "long") == "listpack");
  c.Run({"SADD", "long", std::string(65, 'x')});
  CHECK(Encoding(c, "long") == "hashtable");
  Fill(c, "many", 129, "m");  // the SADD's size decides at once
  CHECK(Encoding(c, "many") == "hashtable");
  // Removals never convert back.
  c.Run({"SREM", "l", "m1", "m2", "m3"});
  CHECK(Encoding(c, "l") == "hashtable");
  {
    ConfigGuard a(c, "set-max-intset-entries", "2");
    ConfigGuard b(c, "set-max-listpack-entries", "3");
    ConfigGuard v(c, "set-max-listpack-value", "5");
    c.Run({"SADD", "t", "1", "2"});
    CHECK(Encoding(c, "t") == "intset");
    c.Run({"SADD", "t", "3"});
    CHECK(Encoding(c, "t") == "hashtable");
    c.Run({"SADD", "u", "abcde"});
    CHECK(Encoding(c, "u") == "listpack");
    c.Run({"SADD", "u", "abcdef"});
    CHECK(Encoding(c, "u") == "hashtable");
  }
  CHECK(Do(c, {"CONFIG", "GET", "set-max-intset-entries"}) == "[set-max-intset-entries, 512]");
  CHECK(Do(c, {"CONFIG", "SET", "set-max-intset-entries", "-1"}) ==
        "!ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries') - "
        "argument must be between 0 and 9223372036854775807 inclusive");
  CHECK(Do(c, {"CONFIG", "SET", "set-max-listpack-value", "1kb"}) ==
        "!ERR CONFIG SET failed (possibly related to argument 'set-max-listpack-value') - "
        "argument couldn't be parsed into an integer");
}

// ---------------------------------------------------------------------------------------------
// Errors, RESP3, generic commands
// ---------------------------------------------------------------------------------------------

TEST_CASE("sets: WRONGTYPE from every command on a key of another type") {
  Client c;
  c.Run({"SET", "str", "x"});
  c.Run({"SADD", "s", "a"});
  const std::vector<std::vector<std::string>> cmds = {{"SADD", "str", "a"},
                                                      {"SREM", "str", "a"},
                                                      {"SISMEMBER", "str", "a"},
                                                      {"SMISMEMBER", "str", "a"},
                                                      {"SCARD", "str"},
                                                      {"SMEMBERS", "str"},
                                                      {"SRANDMEMBER", "str"},
                                                      {"SRANDMEMBER", "str", "2"},
                                                      {"SPOP", "str"},
                                                      {"SPOP", "str", "2"},
                                                      {"SINTER", "s", "str"},
                                                      {"SUNION", "str", "s"},
                                                      {"SDIFF", "s", "str"},
                                                      {"SINTERCARD", "2", "s", "str"},
                                                      {"SSCAN", "str", "0"},
                                                      {"SINTERSTORE", "d", "str"},
                                                      {"SUNIONSTORE", "d", "str"},
                                                      {"SDIFFSTORE", "d", "str"}};
  for (const auto& cmd : cmds) CHECK_MESSAGE(c.Run(cmd).Dump() == kWrongType, cmd[0]);
  CHECK(Do(c, {"GET", "s"}) == kWrongType);
  CHECK(Do(c, {"TYPE", "s"}) == "set");
  CHECK(Do(c, {"GET", "str"}) == "x");
}

TEST_CASE("sets: wrong numbers of arguments") {
  Client c;
  const std::vector<std::vector<std::string>> cmds = {{"SADD", "s"},
                                                      {"SREM", "s"},
                                                      {"SISMEMBER", "s"},
                                                      {"SISMEMBER", "s", "a", "b"},
                                                      {"SMISMEMBER", "s"},
                                                      {"SCARD"},
                                                      {"SMEMBERS"},
                                                      {"SRANDMEMBER"},
                                                      {"SPOP"},
                                                      {"SMOVE", "a", "b"},
                                                      {"SINTER"},
                                                      {"SINTERCARD", "1"},
                                                      {"SUNION"},
                                                      {"SDIFF"},
                                                      {"SINTERSTORE", "d"},
                                                      {"SUNIONSTORE", "d"},
                                                      {"SDIFFSTORE", "d"},
                                                      {"SSCAN", "s"}};
  for (const auto& cmd : cmds) {
    std::string name = cmd[0];
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    CHECK(c.Run(cmd).Dump() == "!ERR wrong number of arguments for '" + name + "' command");
  }
}

TEST_CASE("sets: RESP3 replies are sets where Redis sends sets") {
  Client c;
  c.Run({"SADD", "s", "a"});
  Resp3 r;
  CHECK(r({"SMEMBERS", "s"}) == "~1\r\n$1\r\na\r\n");
  CHECK(r({"SMEMBERS", "missing"}) == "~0\r\n");
  CHECK(r({"SINTER", "s"}) == "~1\r\n$1\r\na\r\n");
  CHECK(r({"SINTER", "missing", "s"}) == "~0\r\n");
  CHECK(r({"SUNION", "s"}) == "~1\r\n$1\r\na\r\n");
  CHECK(r({"SDIFF", "missing"}) == "~0\r\n");
  CHECK(r({"SRANDMEMBER", "s"}) == "$1\r\na\r\n");
  CHECK(r({"SRANDMEMBER", "missing"}) == "_\r\n");
  CHECK(r({"SRANDMEMBER", "s", "2"}) == "*1\r\n$1\r\na\r\n");
  CHECK(r({"SRANDMEMBER", "s", "-2"}) == "*2\r\n$1\r\na\r\n$1\r\na\r\n");
  CHECK(r({"SPOP", "missing"}) == "_\r\n");
  CHECK(r({"SPOP", "missing", "2"}) == "~0\r\n");
  CHECK(r({"SPOP", "s", "0"}) == "~0\r\n");
  CHECK(r({"SSCAN", "s", "0"}) == "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n");
  CHECK(r({"SMISMEMBER", "s", "a", "b"}) == "*2\r\n:1\r\n:0\r\n");
  CHECK(r({"SINTERCARD", "1", "s"}) == ":1\r\n");
  CHECK(r({"SADD", "s", "b"}) == ":1\r\n");
  std::string popped = r({"SPOP", "s", "5"});
  CHECK((popped == "~2\r\n$1\r\na\r\n$1\r\nb\r\n" || popped == "~2\r\n$1\r\nb\r\n$1\r\na\r\n"));
  CHECK(r({"EXISTS", "s"}) == ":0\r\n");
}

TEST_CASE("sets: DUMP/RESTORE and COPY keep members and encoding; RENAME moves them") {
  Client c;
  c.Run({"SADD", "i", "1", "2", "3"});
  c.Run({"SADD", "l", "a", "b"});
  Fill(c, "h", 600);
  for (const char* key : {"i", "l", "h"}) {
    std::string enc = Encoding(c, key);
    std::string members = SortedRun(c, {"SMEMBERS", key});
    Reply dump = c.Run({"DUMP", key});
    REQUIRE(dump.type == Reply::Type::kString);
    std::string copy = std::string(key) + "-restored";
    CHECK(c.Run({"RESTORE", copy, "0", dump.str}) == "OK");
    CHECK(Encoding(c, copy) == enc);
    CHECK(SortedRun(c, {"SMEMBERS", copy}) == members);
    std::string copied = std::string(key) + "-copied";
    CHECK(Do(c, {"COPY", key, copied}) == ":1");
    CHECK(Encoding(c, copied) == enc);
    c.Run({"SADD", copied, "extra"});  // a deep copy: the original is unchanged
    CHECK(SortedRun(c, {"SMEMBERS", key}) == members);
    CHECK(Do(c, {"RENAME", copy, "renamed"}) == "OK");
    CHECK(SortedRun(c, {"SMEMBERS", "renamed"}) == members);
    c.Run({"DEL", "renamed"});
  }
  std::set<std::string> found;
  std::string cursor = "0";
  do {
    Reply r = c.Run({"SCAN", cursor, "TYPE", "set", "MATCH", "[il]"});
    cursor = r[0].str;
    for (const Reply& e : r[1].elements) found.insert(e.str);
  } while (cursor != "0");
  CHECK(found == std::set<std::string>{"i", "l"});
}

TEST_CASE("sets: MULTI/EXEC with set commands") {
  Client c;
  c.Run({"SADD", "a", "x", "y"});
  c.Run({"MULTI"});
  c.Run({"SMOVE", "a", "b", "x"});
  c.Run({"SPOP", "a"});
  c.Run({"SUNIONSTORE", "u", "a", "b"});
  c.Run({"SCARD", "u"});
  CHECK(Do(c, {"EXEC"}) == "[:1, y, :1, :1]");
  CHECK(Do(c, {"EXISTS", "a"}) == ":0");
}

// ---------------------------------------------------------------------------------------------
// Persistence
// ---------------------------------------------------------------------------------------------

namespace {

// Every key's type, encoding and sorted members, as one comparable text.
std::string Snapshot(Client& c) {
  std::ostringstream out;
  Reply keys = c.Run({"KEYS", "*"});
  std::vector<std::string> names;
  for (const Reply& k : keys.elements) names.push_back(k.str);
  std::sort(names.begin(), names.end());
  for (const std::string& k : names) {
    out << k << " " << c.Run({"TYPE", k}).Dump() << " ";
    if (c.Run({"TYPE", k}) == "set") out << Encoding(c, k) << " " << Sorted(c.Run({"SMEMBERS", k}));
    out << "\n";
  }
  return out.str();
}

// Writes of every kind, with keys in several shards ("a" and "b" hash far apart).
void WriteSets(Client& c, const std::string& tag) {
  Fill(c, "a" + tag, 700);
  c.Run({"SADD", "b" + tag, "p", "q", "r", "1"});
  Fill(c, "c" + tag, 50, "m");
  c.Run({"SREM", "a" + tag, "5", "6"});
  c.Run({"SPOP", "a" + tag});
  c.Run({"SPOP", "a" + tag, "100"});
  c.Run({"SPOP", "c" + tag, "45"});  // rebuilds the rest
  c.Run({"SMOVE", "b" + tag, "a" + tag, "p"});
  c.Run({"SMOVE", "a" + tag, "new" + tag, "7"});
  // SPOP picks at random: a member both sets surely keep makes the intersection non-empty.
  c.Run({"SADD", "a" + tag, "shared"});
  c.Run({"SADD", "b" + tag, "shared"});
  c.Run({"SINTERSTORE", "inter" + tag, "a" + tag, "b" + tag});
  c.Run({"SUNIONSTORE", "union" + tag, "a" + tag, "b" + tag, "c" + tag});
  c.Run({"SDIFFSTORE", "diff" + tag, "a" + tag, "b" + tag});
  c.Run({"SET", "gone" + tag, "x"});
  c.Run({"SINTERSTORE", "gone" + tag, "b" + tag, "missing"});  // deletes it
  c.Run({"SADD", "popped" + tag, "1", "2"});
  c.Run({"SPOP", "popped" + tag, "5"});  // the whole set
  c.Run({"SADD", "{t}x" + tag, "1", "2", "three"});
  c.Run({"SMOVE", "{t}x" + tag, "{t}y" + tag, "three"});
}

bool LogMentions(const std::string& path, std::string_view text) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("sets: survive kill -9 and a checkpoint") {
  ServerProcess p({"--appendfsync", "always"});
  std::string before;
  {
    Client c(p.port(), false);
    WriteSets(c, "1");
    before = Snapshot(c);
    CHECK(before.find("inter1 set") != std::string::npos);
    CHECK(before.find("gone1") == std::string::npos);
    CHECK(before.find("popped1") == std::string::npos);
  }
  p.Stop(9);
  // Cross-shard commands must have logged per-shard effects.
  CHECK_FALSE(LogMentions(p.log_path(), "without per-shard effects"));
  ServerProcess q({"--dir", p.dir()});
  {
    Client c(q.port(), false);
    CHECK(Snapshot(c) == before);
    CHECK(c.Run({"SAVE"}) == "OK");
    WriteSets(c, "2");  // on top of the checkpoint, in the log only
    before = Snapshot(c);
    CHECK(before.find("union2 set") != std::string::npos);
  }
  q.Stop(9);
  CHECK_FALSE(LogMentions(q.log_path(), "without per-shard effects"));
  ServerProcess r({"--dir", p.dir()});
  Client c(r.port(), false);
  CHECK(Snapshot(c) == before);
  CHECK(Do(c, {"DEBUG", "RELOAD"}) == "OK");  // every encoding through a checkpoint and back
  CHECK(Snapshot(c) == before);
}

}  // namespace runnel::test
