// Integration tests of the hash command family against the real server: every command, option
// and error reply in RESP2 (hiredis) and RESP3 (raw bytes), the listpack/hashtable encodings and
// their settings, the generic commands on hash keys, and persistence. Expected replies were
// taken from Redis 7.0.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
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

std::string Do(Client& c, std::initializer_list<std::string_view> args) {
  return c.Run(args).Dump();
}

std::string WrongArgs(std::string_view cmd) {
  return "!ERR wrong number of arguments for '" + std::string(cmd) + "' command";
}

// Fills `key` with fields f0..f<n-1> holding v0..v<n-1>, in one HSET.
void Fill(Client& c, std::string_view key, int n) {
  std::vector<std::string> args{"HSET", std::string(key)};
  for (int i = 0; i < n; ++i) {
    args.push_back("f" + std::to_string(i));
    args.push_back("v" + std::to_string(i));
  }
  REQUIRE(c.Run(args).IsInt(n));
}

// Field -> value of a flat [field, value, ...] reply.
std::map<std::string, std::string> PairsOf(const Reply& r) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < r.size(); i += 2) out[r[i].str] = r[i + 1].str;
  return out;
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
// Writes and reads
// ---------------------------------------------------------------------------------------------

TEST_CASE("hashes: HSET, HMSET, HSETNX, HGET and HMGET") {
  Client c;
  CHECK(Do(c, {"HSET", "h", "f", "v", "g"}) == WrongArgs("hset"));
  CHECK(Do(c, {"HMSET", "h", "f", "v", "g"}) == WrongArgs("hmset"));
  CHECK(Do(c, {"HSET", "h", "f"}) == WrongArgs("hset"));
  CHECK(Do(c, {"HSET", "h", "f", "v"}) == ":1");
  CHECK(Do(c, {"HSET", "h", "f", "v2", "g", "w"}) == ":1");  // counts new fields only
  CHECK(Do(c, {"HSET", "h", "x", "1", "x", "2"}) == ":1");   // a repeated field counts once
  CHECK(Do(c, {"HMSET", "h", "y", "3", "f", "v3"}) == "OK");
  CHECK(Do(c, {"HGET", "h", "f"}) == "v3");
  CHECK(Do(c, {"HGET", "h", "x"}) == "2");
  CHECK(Do(c, {"HGET", "h", "nope"}) == "(nil)");
  CHECK(Do(c, {"HGET", "nokey", "f"}) == "(nil)");
  CHECK(Do(c, {"HMGET", "h", "f", "nope", "g"}) == "[v3, (nil), w]");
  CHECK(Do(c, {"HMGET", "nokey", "a", "b"}) == "[(nil), (nil)]");
  CHECK(Do(c, {"HSETNX", "h", "f", "other"}) == ":0");
  CHECK(Do(c, {"HSETNX", "h", "z", "new"}) == ":1");
  CHECK(Do(c, {"HSETNX", "fresh", "a", "b"}) == ":1");
  CHECK(Do(c, {"HGET", "fresh", "a"}) == "b");
  CHECK(Do(c, {"HGET", "h", "z"}) == "new");
  // Empty and binary fields and values are ordinary strings.
  CHECK(Do(c, {"HSET", "h", "", ""}) == ":1");
  CHECK(Do(c, {"HGET", "h", ""}) == "");
  const std::string bin("a\0b\r\n", 5);
  CHECK(c.Run({"HSET", "h", bin, bin}).IsInt(1));
  CHECK(c.Run({"HGET", "h", bin}).str == bin);
  CHECK(Do(c, {"HGET", "h"}) == WrongArgs("hget"));
  CHECK(Do(c, {"HMGET", "h"}) == WrongArgs("hmget"));
  CHECK(Do(c, {"HSETNX", "h", "f"}) == WrongArgs("hsetnx"));
}

TEST_CASE("hashes: HDEL removes fields and deletes the emptied key") {
  Client c;
  CHECK(Do(c, {"HDEL", "nokey", "f"}) == ":0");
  Fill(c, "h", 4);
  CHECK(Do(c, {"HDEL", "h", "f0", "nope", "f0"}) == ":1");
  CHECK(Do(c, {"HLEN", "h"}) == ":3");
  CHECK(Do(c, {"HDEL", "h", "f1", "f2", "f3", "f9"}) == ":3");
  CHECK(Do(c, {"EXISTS", "h"}) == ":0");
  CHECK(Do(c, {"TYPE", "h"}) == "none");
  // The same in the table encoding.
  Fill(c, "big", 600);
  CHECK(Do(c, {"OBJECT", "ENCODING", "big"}) == "hashtable");
  std::vector<std::string> del{"HDEL", "big"};
  for (int i = 0; i < 600; ++i) del.push_back("f" + std::to_string(i));
  CHECK(c.Run(del).IsInt(600));
  CHECK(Do(c, {"EXISTS", "big"}) == ":0");
  CHECK(Do(c, {"HDEL", "h"}) == WrongArgs("hdel"));
}

TEST_CASE("hashes: HEXISTS, HLEN and HSTRLEN") {
  Client c;
  CHECK(Do(c, {"HSET", "h", "f", "hello", "e", ""}) == ":2");
  CHECK(Do(c, {"HEXISTS", "h", "f"}) == ":1");
  CHECK(Do(c, {"HEXISTS", "h", "e"}) == ":1");
  CHECK(Do(c, {"HEXISTS", "h", "x"}) == ":0");
  CHECK(Do(c, {"HEXISTS", "nokey", "x"}) == ":0");
  CHECK(Do(c, {"HLEN", "h"}) == ":2");
  CHECK(Do(c, {"HLEN", "nokey"}) == ":0");
  CHECK(Do(c, {"HSTRLEN", "h", "f"}) == ":5");
  CHECK(Do(c, {"HSTRLEN", "h", "e"}) == ":0");
  CHECK(Do(c, {"HSTRLEN", "h", "x"}) == ":0");
  CHECK(Do(c, {"HSTRLEN", "nokey", "x"}) == ":0");
  Fill(c, "big", 1000);
  CHECK(Do(c, {"HLEN", "big"}) == ":1000");
  CHECK(Do(c, {"HSTRLEN", "big", "f999"}) == ":4");
  CHECK(Do(c, {"HEXISTS", "big", "f999"}) == ":1");
  CHECK(Do(c, {"HLEN"}) == WrongArgs("hlen"));
  CHECK(Do(c, {"HSTRLEN", "h"}) == WrongArgs("hstrlen"));
}

TEST_CASE("hashes: HKEYS, HVALS and HGETALL in listpack order and as a table") {
  Client c;
  CHECK(Do(c, {"HKEYS", "nokey"}) == "[]");
  CHECK(Do(c, {"HVALS", "nokey"}) == "[]");
  CHECK(Do(c, {"HGETALL", "nokey"}) == "[]");
  CHECK(Do(c, {"HSET", "h", "b", "1", "a", "2", "c", "3"}) == ":3");
  CHECK(Do(c, {"HSET", "h", "a", "changed"}) == ":0");  // keeps its place
  CHECK(Do(c, {"HKEYS", "h"}) == "[b, a, c]");
  CHECK(Do(c, {"HVALS", "h"}) == "[1, changed, 3]");
  CHECK(Do(c, {"HGETALL", "h"}) == "[b, 1, a, changed, c, 3]");
  CHECK(Do(c, {"HDEL", "h", "b"}) == ":1");
  CHECK(Do(c, {"HSET", "h", "b", "4"}) == ":1");  // back at the end
  CHECK(Do(c, {"HGETALL", "h"}) == "[a, changed, c, 3, b, 4]");
  Fill(c, "big", 700);
  Reply all = c.Run({"HGETALL", "big"});
  REQUIRE(all.size() == 1400);
  auto pairs = PairsOf(all);
  CHECK(pairs.size() == 700);
  CHECK(pairs["f123"] == "v123");
  Reply keys = c.Run({"HKEYS", "big"}), vals = c.Run({"HVALS", "big"});
  REQUIRE(keys.size() == 700);
  REQUIRE(vals.size() == 700);
  for (size_t i = 0; i < 700; ++i) CHECK(vals[i].str == "v" + keys[i].str.substr(1));
}

// ---------------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------------

TEST_CASE("hashes: HINCRBY") {
  Client c;
  CHECK(Do(c, {"HINCRBY", "h", "n", "5"}) == ":5");  // creates key and field
  CHECK(Do(c, {"HINCRBY", "h", "n", "-7"}) == ":-2");
  CHECK(Do(c, {"HGET", "h", "n"}) == "-2");
  CHECK(Do(c, {"HINCRBY", "h", "n", "x"}) == kNotInt);
  CHECK(Do(c, {"HINCRBY", "h", "n", "007"}) == kNotInt);
  CHECK(Do(c, {"HINCRBY", "h", "n", "1.5"}) == kNotInt);
  CHECK(Do(c, {"HSET", "h", "s", "abc", "z", "007", "e", "", "sp", " 5"}) == ":4");
  for (const char* f : {"s", "z", "e", "sp"})
    CHECK(Do(c, {"HINCRBY", "h", f, "1"}) == "!ERR hash value is not an integer");
  CHECK(Do(c, {"HSET", "h", "max", "9223372036854775807"}) == ":1");
  CHECK(Do(c, {"HINCRBY", "h", "max", "1"}) == "!ERR increment or decrement would overflow");
  CHECK(Do(c, {"HINCRBY", "h", "max", "-1"}) == ":9223372036854775806");
  CHECK(Do(c, {"HINCRBY", "h", "min", "-9223372036854775808"}) == ":-9223372036854775808");
  CHECK(Do(c, {"HINCRBY", "h", "min", "-1"}) == "!ERR increment or decrement would overflow");
  CHECK(Do(c, {"HINCRBY", "h", "min", "0"}) == ":-9223372036854775808");
  CHECK(Do(c, {"HINCRBY", "h", "n"}) == WrongArgs("hincrby"));
  // A failed increment creates nothing.
  CHECK(Do(c, {"HINCRBY", "none", "n", "x"}) == kNotInt);
  CHECK(Do(c, {"EXISTS", "none"}) == ":0");
}

TEST_CASE("hashes: HINCRBYFLOAT formats like INCRBYFLOAT") {
  Client c;
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "f", "1.10"}) == "1.1");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "f", "5.0e3"}) == "5001.10000000000000009");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "f", "0x10"}) == "5017.10000000000000009");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "g", "-3"}) == "-3");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "g", "3"}) == "0");
  CHECK(Do(c, {"HSET", "h", "i", "10", "z", "007"}) == ":2");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "i", "0.5"}) == "10.5");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "z", "1"}) == "8");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "f", "inf"}) == "!ERR value is NaN or Infinity");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "f", "nan"}) == kNotFloat);
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "f", " 1"}) == kNotFloat);
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "f", "x"}) == kNotFloat);
  CHECK(Do(c, {"HSET", "h", "s", "abc", "e", "", "sp", " 5", "big", "1e308"}) == ":4");
  for (const char* f : {"s", "e", "sp"})
    CHECK(Do(c, {"HINCRBYFLOAT", "h", f, "1"}) == "!ERR hash value is not a float");
  const std::string huge =
      "19999999999999999999337175931169129132112019969483113441559409598984346973767612374420025"
      "384377707864089349445010802644630426949918792116719484162886039283753591820003920638155732"
      "621920901421333587830679157787782912108712612253672980323726043417317850688976324758260171"
      "1514636284849020905456510092687857156096";
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "big", "1e308"}) == huge);
  CHECK(Do(c, {"HGET", "h", "big"}) == huge);
  CHECK(Do(c, {"HSET", "h", "inf", "inf"}) == ":1");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "inf", "1"}) == "!ERR increment would produce NaN or Infinity");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "f"}) == WrongArgs("hincrbyfloat"));
}

// ---------------------------------------------------------------------------------------------
// Types and encodings
// ---------------------------------------------------------------------------------------------

TEST_CASE("hashes: every command replies WRONGTYPE on another type, after its own checks") {
  Client c;
  CHECK(Do(c, {"SET", "s", "x"}) == "OK");
  const std::vector<std::vector<std::string>> cmds = {{"HSET", "s", "f", "v"},
                                                      {"HMSET", "s", "f", "v"},
                                                      {"HSETNX", "s", "f", "v"},
                                                      {"HGET", "s", "f"},
                                                      {"HMGET", "s", "f"},
                                                      {"HDEL", "s", "f"},
                                                      {"HEXISTS", "s", "f"},
                                                      {"HLEN", "s"},
                                                      {"HSTRLEN", "s", "f"},
                                                      {"HKEYS", "s"},
                                                      {"HVALS", "s"},
                                                      {"HGETALL", "s"},
                                                      {"HINCRBY", "s", "f", "1"},
                                                      {"HINCRBYFLOAT", "s", "f", "1"},
                                                      {"HRANDFIELD", "s"},
                                                      {"HRANDFIELD", "s", "2"},
                                                      {"HRANDFIELD", "s", "-2", "WITHVALUES"},
                                                      {"HSCAN", "s", "0"},
                                                      {"HSCAN", "s", "0", "bad"}};
  for (const auto& cmd : cmds) CHECK(c.Run(cmd).Dump() == kWrongType);
  // Argument errors that Redis checks before the key's type.
  CHECK(Do(c, {"HINCRBY", "s", "f", "x"}) == kNotInt);
  CHECK(Do(c, {"HINCRBYFLOAT", "s", "f", "x"}) == kNotFloat);
  CHECK(Do(c, {"HINCRBYFLOAT", "s", "f", "inf"}) == "!ERR value is NaN or Infinity");
  CHECK(Do(c, {"HRANDFIELD", "s", "x"}) == kNotInt);
  CHECK(Do(c, {"HRANDFIELD", "s", "1", "foo"}) == kSyntax);
  CHECK(Do(c, {"HSCAN", "s", "x"}) == "!ERR invalid cursor");
  CHECK(Do(c, {"HSET", "s", "f", "v", "g"}) == WrongArgs("hset"));
  CHECK(Do(c, {"GET", "s"}) == "x");  // untouched
  // And the other way round: string commands on a hash.
  CHECK(Do(c, {"HSET", "h", "f", "v"}) == ":1");
  CHECK(Do(c, {"GET", "h"}) == kWrongType);
  CHECK(Do(c, {"INCR", "h"}) == kWrongType);
}

TEST_CASE("hashes: encodings follow hash-max-listpack-entries and -value") {
  ServerProcess p;
  Client c(p.port(), false);
  CHECK(Do(c, {"CONFIG", "GET", "hash-max-*"}) ==
        "[hash-max-listpack-entries, 512, hash-max-listpack-value, 64, "
        "hash-max-ziplist-entries, 512, hash-max-ziplist-value, 64]");
  Fill(c, "h512", 512);
  CHECK(Do(c, {"OBJECT", "ENCODING", "h512"}) == "listpack");
  CHECK(Do(c, {"HSET", "h512", "one", "more"}) == ":1");
  CHECK(Do(c, {"OBJECT", "ENCODING", "h512"}) == "hashtable");
  CHECK(Do(c, {"HDEL", "h512", "one", "f0", "f1"}) == ":3");
  CHECK(Do(c, {"OBJECT", "ENCODING", "h512"}) == "hashtable");  // never back
  const std::string v64(64, 'x'), v65(65, 'x');
  CHECK(Do(c, {"HSET", "a", "f", v64, v64, "v"}) == ":2");
  CHECK(Do(c, {"OBJECT", "ENCODING", "a"}) == "listpack");
  CHECK(Do(c, {"HSET", "b", "f", v65}) == ":1");
  CHECK(Do(c, {"OBJECT", "ENCODING", "b"}) == "hashtable");
  CHECK(Do(c, {"HSET", "c", v65, "v"}) == ":1");
  CHECK(Do(c, {"OBJECT", "ENCODING", "c"}) == "hashtable");
  CHECK(Do(c, {"HSET", "d", "f", "short"}) == ":1");
  CHECK(Do(c, {"HSETNX", "d", "f", v65}) == ":0");  // nothing written: stays packed
  CHECK(Do(c, {"OBJECT", "ENCODING", "d"}) == "listpack");
  CHECK(Do(c, {"HSETNX", "d", "g", v65}) == ":1");
  CHECK(Do(c, {"OBJECT", "ENCODING", "d"}) == "hashtable");
  CHECK(Do(c, {"HINCRBYFLOAT", "e", v65, "1"}) == "1");
  CHECK(Do(c, {"OBJECT", "ENCODING", "e"}) == "hashtable");
  // The aliases are the same settings; limits apply to later writes.
  CHECK(Do(c, {"CONFIG", "SET", "hash-max-ziplist-entries", "2"}) == "OK");
  CHECK(Do(c, {"CONFIG", "GET", "hash-max-listpack-entries"}) == "[hash-max-listpack-entries, 2]");
  CHECK(Do(c, {"HSET", "f", "a", "1", "b", "2"}) == ":2");
  CHECK(Do(c, {"OBJECT", "ENCODING", "f"}) == "listpack");
  CHECK(Do(c, {"HSET", "f", "c", "3"}) == ":1");
  CHECK(Do(c, {"OBJECT", "ENCODING", "f"}) == "hashtable");
  CHECK(Do(c, {"CONFIG", "SET", "hash-max-listpack-entries", "0"}) == "OK");
  CHECK(Do(c, {"HSET", "g", "a", "1"}) == ":1");
  CHECK(Do(c, {"OBJECT", "ENCODING", "g"}) == "hashtable");
  CHECK(Do(c, {"CONFIG", "SET", "hash-max-listpack-entries", "512"}) == "OK");
  CHECK(Do(c, {"CONFIG", "SET", "hash-max-listpack-value", "3"}) == "OK");
  CHECK(Do(c, {"HSET", "i", "f", "1"}) == ":1");
  CHECK(Do(c, {"HINCRBY", "i", "f", "1000"}) == ":1001");  // the result is too long
  CHECK(Do(c, {"OBJECT", "ENCODING", "i"}) == "hashtable");
  CHECK(Do(c, {"CONFIG", "SET", "hash-max-listpack-value", "1gb"}) == "OK");
  CHECK(Do(c, {"CONFIG", "GET", "hash-max-ziplist-value"}) ==
        "[hash-max-ziplist-value, 1073741824]");
  CHECK(Do(c, {"CONFIG", "SET", "hash-max-listpack-entries", "-1"}) ==
        "!ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - "
        "argument must be between 0 and 9223372036854775807 inclusive");
}

TEST_CASE("hashes: TYPE, OBJECT ENCODING, COPY, RENAME, DUMP/RESTORE, EXPIRE and SCAN TYPE") {
  Client c;
  CHECK(Do(c, {"HSET", "small", "a", "1", "b", "2"}) == ":2");
  Fill(c, "big", 600);
  CHECK(Do(c, {"TYPE", "small"}) == "hash");
  CHECK(Do(c, {"OBJECT", "ENCODING", "small"}) == "listpack");
  CHECK(Do(c, {"OBJECT", "ENCODING", "big"}) == "hashtable");
  CHECK(Do(c, {"COPY", "small", "small2"}) == ":1");
  CHECK(Do(c, {"COPY", "big", "big2"}) == ":1");
  CHECK(Do(c, {"HSET", "small2", "c", "3"}) == ":1");  // a deep copy
  CHECK(Do(c, {"HGETALL", "small"}) == "[a, 1, b, 2]");
  CHECK(Do(c, {"HGETALL", "small2"}) == "[a, 1, b, 2, c, 3]");
  CHECK(Do(c, {"OBJECT", "ENCODING", "big2"}) == "hashtable");
  CHECK(PairsOf(c.Run({"HGETALL", "big2"})) == PairsOf(c.Run({"HGETALL", "big"})));
  CHECK(Do(c, {"RENAME", "small2", "{x}moved"}) == "OK");
  CHECK(Do(c, {"HGET", "{x}moved", "c"}) == "3");
  for (const char* key : {"small", "big"}) {
    Reply dump = c.Run({"DUMP", key});
    REQUIRE(dump.type == Reply::Type::kString);
    std::string copy = std::string(key) + "-restored";
    CHECK(c.Run({"RESTORE", copy, "0", dump.str}) == "OK");
    CHECK(c.Run({"OBJECT", "ENCODING", copy}).str == c.Run({"OBJECT", "ENCODING", key}).str);
    CHECK(PairsOf(c.Run({"HGETALL", copy})) == PairsOf(c.Run({"HGETALL", key})));
  }
  CHECK(Do(c, {"PEXPIRE", "small", "1"}) == ":1");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(Do(c, {"HGET", "small", "a"}) == "(nil)");
  CHECK(Do(c, {"EXISTS", "small"}) == ":0");
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  Reply scan = c.Run({"SCAN", "0", "TYPE", "hash", "COUNT", "1000"});
  std::set<std::string> seen;
  for (const Reply& k : scan[1].elements) seen.insert(k.str);
  CHECK(seen == std::set<std::string>{"big", "big2", "{x}moved", "small-restored", "big-restored"});
  CHECK(Do(c, {"DEL", "big"}) == ":1");
  CHECK(Do(c, {"HLEN", "big"}) == ":0");
}

// ---------------------------------------------------------------------------------------------
// HRANDFIELD
// ---------------------------------------------------------------------------------------------

TEST_CASE("hashes: HRANDFIELD with and without a count") {
  Client c;
  CHECK(Do(c, {"HRANDFIELD", "nokey"}) == "(nil)");
  CHECK(Do(c, {"HRANDFIELD", "nokey", "5"}) == "[]");
  CHECK(Do(c, {"HRANDFIELD", "nokey", "-5", "WITHVALUES"}) == "[]");
  CHECK(Do(c, {"HRANDFIELD", "nokey", "x"}) == kNotInt);
  CHECK(Do(c, {"HRANDFIELD", "nokey", "1", "foo"}) == kSyntax);
  CHECK(Do(c, {"HRANDFIELD", "nokey", "1", "withvalues", "x"}) == kSyntax);
  CHECK(Do(c, {"HRANDFIELD", "nokey", "-9223372036854775808"}) ==
        "!ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
  CHECK(Do(c, {"HRANDFIELD", "nokey", "9223372036854775807", "WITHVALUES"}) ==
        "!ERR value is out of range");
  CHECK(Do(c, {"HRANDFIELD", "nokey", "-4611686018427387904", "WITHVALUES"}) ==
        "!ERR value is out of range");
  CHECK(Do(c, {"HRANDFIELD", "nokey", "-4611686018427387903", "WITHVALUES"}) == "[]");
  CHECK(Do(c, {"HSET", "h", "a", "1", "b", "2", "c", "3"}) == ":3");
  CHECK(Do(c, {"HRANDFIELD", "h", "0"}) == "[]");
  CHECK(Do(c, {"HRANDFIELD", "h", "0", "WITHVALUES"}) == "[]");
  // A count at least the size returns the whole hash, in its order.
  CHECK(Do(c, {"HRANDFIELD", "h", "3"}) == "[a, b, c]");
  CHECK(Do(c, {"HRANDFIELD", "h", "5", "withvalues"}) == "[a, 1, b, 2, c, 3]");
  const std::set<std::string> fields{"a", "b", "c"};
  CHECK(fields.count(c.Run({"HRANDFIELD", "h"}).str) == 1);
  Reply two = c.Run({"HRANDFIELD", "h", "2", "WITHVALUES"});
  REQUIRE(two.size() == 4);
  CHECK(two[0].str != two[2].str);
  CHECK(std::to_string(two[0].str[0] - 'a' + 1) == two[1].str);
  // Negative counts repeat fields and return exactly that many.
  Reply many = c.Run({"HRANDFIELD", "h", "-200"});
  REQUIRE(many.size() == 200);
  std::map<std::string, int> hits;
  for (const Reply& r : many.elements) ++hits[r.str];
  CHECK(hits.size() == 3);
  Reply pairs = c.Run({"HRANDFIELD", "h", "-4", "WITHVALUES"});
  CHECK(pairs.size() == 8);
  CHECK(Do(c, {"HRANDFIELD"}) == WrongArgs("hrandfield"));
}

TEST_CASE("hashes: a huge negative HRANDFIELD count cuts the client off, not the server") {
  Client c;
  c.Run({"HSET", "h", "a", "1", "b", "2"});
  {
    ConfigGuard limit(c, "client-output-buffer-limit", "normal 1mb 0 0");
    Client greedy(SharedServer().port(), false);
    REQUIRE(greedy.Run({"SELECT", "9"}) == "OK");
    Reply r = greedy.Run({"HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES"});
    CHECK(r.IsError());  // the connection was closed mid-reply
    CHECK(c.Run({"PING"}) == "PONG");
  }
  CHECK(c.Run({"HRANDFIELD", "h", "-3"}).size() == 3);
}

TEST_CASE("hashes: HRANDFIELD on a table draws distinct fields for positive counts") {
  Client c;
  Fill(c, "big", 1000);
  for (const char* count : {"1", "10", "400", "999"}) {
    Reply r = c.Run({"HRANDFIELD", "big", count, "WITHVALUES"});
    const size_t n = std::stoul(count);
    REQUIRE(r.size() == 2 * n);
    auto pairs = PairsOf(r);
    CHECK(pairs.size() == n);  // distinct
    for (const auto& [f, v] : pairs) CHECK(v == "v" + f.substr(1));
  }
  CHECK(c.Run({"HRANDFIELD", "big", "5000"}).size() == 1000);
  Reply many = c.Run({"HRANDFIELD", "big", "-3000"});
  REQUIRE(many.size() == 3000);
  std::set<std::string> distinct;
  for (const Reply& r : many.elements) distinct.insert(r.str);
  CHECK(distinct.size() > 800);  // about 950 expected
  CHECK(distinct.size() < 1000);
}

// ---------------------------------------------------------------------------------------------
// HSCAN
// ---------------------------------------------------------------------------------------------

TEST_CASE("hashes: HSCAN arguments, a missing key and a listpack hash") {
  Client c;
  CHECK(Do(c, {"HSCAN", "nokey", "x"}) == "!ERR invalid cursor");
  CHECK(Do(c, {"HSCAN", "nokey", " 1"}) == "!ERR invalid cursor");
  CHECK(Do(c, {"HSCAN", "nokey", "18446744073709551616"}) == "!ERR invalid cursor");
  // A missing key answers before its options are looked at, as in Redis.
  CHECK(Do(c, {"HSCAN", "nokey", "0", "COUNT", "0"}) == "[0, []]");
  CHECK(Do(c, {"HSCAN", "nokey", "0", "foo"}) == "[0, []]");
  CHECK(Do(c, {"HSCAN", "nokey", "-1"}) == "[0, []]");
  CHECK(Do(c, {"HSCAN", "nokey", "+1"}) == "[0, []]");
  CHECK(Do(c, {"HSET", "h", "a", "1", "b", "2", "ab", "3"}) == ":3");
  CHECK(Do(c, {"HSCAN", "h", "0"}) == "[0, [a, 1, b, 2, ab, 3]]");
  CHECK(Do(c, {"HSCAN", "h", "5"}) == "[0, [a, 1, b, 2, ab, 3]]");  // one call, any cursor
  CHECK(Do(c, {"HSCAN", "h", "0", "MATCH", "a*"}) == "[0, [a, 1, ab, 3]]");
  CHECK(Do(c, {"HSCAN", "h", "0", "match", "*", "count", "1"}) == "[0, [a, 1, b, 2, ab, 3]]");
  CHECK(Do(c, {"HSCAN", "h", "0", "MATCH", "z*"}) == "[0, []]");
  CHECK(Do(c, {"HSCAN", "h", "0", "COUNT", "0"}) == kSyntax);
  CHECK(Do(c, {"HSCAN", "h", "0", "COUNT", "-1"}) == kSyntax);
  CHECK(Do(c, {"HSCAN", "h", "0", "COUNT", "x"}) == kNotInt);
  CHECK(Do(c, {"HSCAN", "h", "0", "MATCH"}) == kSyntax);
  CHECK(Do(c, {"HSCAN", "h", "0", "TYPE", "string"}) == kSyntax);
  CHECK(Do(c, {"HSCAN", "h", "0", "NOVALUES"}) == kSyntax);  // 7.4
  CHECK(Do(c, {"HSCAN", "h"}) == WrongArgs("hscan"));
}

TEST_CASE("hashes: HSCAN walks a table in steps, and sees every field present throughout") {
  Client c;
  Fill(c, "big", 1000);
  Reply first = c.Run({"HSCAN", "big", "0", "COUNT", "10"});
  REQUIRE(first.size() == 2);
  CHECK(first[0].str != "0");
  CHECK(first[1].size() >= 20);  // COUNT counts pairs
  CHECK(first[1].size() < 200);
  std::map<std::string, std::string> seen;
  std::string cursor = "0";
  int calls = 0, added = 0;
  do {
    Reply r = c.Run({"HSCAN", "big", cursor, "COUNT", "20"});
    REQUIRE(r.size() == 2);
    cursor = r[0].str;
    for (auto& [f, v] : PairsOf(r[1])) seen[f] = v;
    // Writes between calls grow the table under the cursor.
    for (int i = 0; i < 30; ++i) c.Run({"HSET", "big", "n" + std::to_string(added++), "x"});
    ++calls;
  } while (cursor != "0");
  for (int i = 0; i < 1000; ++i) CHECK(seen["f" + std::to_string(i)] == "v" + std::to_string(i));
  CHECK(calls > 10);
  // MATCH filters after the step, so a step may come back empty with a cursor to go on.
  std::set<std::string> matched;
  cursor = "0";
  do {
    Reply r = c.Run({"HSCAN", "big", cursor, "MATCH", "f1??", "COUNT", "50"});
    cursor = r[0].str;
    for (size_t i = 0; i < r[1].size(); i += 2) matched.insert(r[1][i].str);
  } while (cursor != "0");
  CHECK(matched.size() == 100);  // f100..f199
}

// ---------------------------------------------------------------------------------------------
// RESP3
// ---------------------------------------------------------------------------------------------

TEST_CASE("hashes: RESP3 replies") {
  Resp3 r;
  r({"DEL", "h", "s"});
  CHECK(r({"HGETALL", "nokey"}) == "%0\r\n");
  CHECK(r({"HKEYS", "nokey"}) == "*0\r\n");
  CHECK(r({"HVALS", "nokey"}) == "*0\r\n");
  CHECK(r({"HGET", "nokey", "a"}) == "_\r\n");
  CHECK(r({"HMGET", "nokey", "a", "b"}) == "*2\r\n_\r\n_\r\n");
  CHECK(r({"HRANDFIELD", "nokey"}) == "_\r\n");
  CHECK(r({"HRANDFIELD", "nokey", "2"}) == "*0\r\n");
  CHECK(r({"HSCAN", "nokey", "0"}) == "*2\r\n$1\r\n0\r\n*0\r\n");
  CHECK(r({"HSET", "h", "a", "1", "b", "2"}) == ":2\r\n");
  CHECK(r({"HGETALL", "h"}) == "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
  CHECK(r({"HRANDFIELD", "h", "2", "WITHVALUES"}) ==
        "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
  const std::string one = r({"HRANDFIELD", "h", "-1", "WITHVALUES"});
  CHECK(
      (one == "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n" || one == "*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"));
  const std::string field = r({"HRANDFIELD", "h", "1"});
  CHECK((field == "*1\r\n$1\r\na\r\n" || field == "*1\r\n$1\r\nb\r\n"));
  CHECK(r({"HSCAN", "h", "0"}) ==
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
  CHECK(r({"HINCRBYFLOAT", "h", "a", "1.5"}) == "$3\r\n2.5\r\n");
  CHECK(r({"HINCRBY", "h", "b", "1"}) == ":3\r\n");
  CHECK(r({"HMSET", "h", "c", "3"}) == "+OK\r\n");
  CHECK(r({"HMGET", "h", "c", "x"}) == "*2\r\n$1\r\n3\r\n_\r\n");
  CHECK(r({"HGET", "h", "x"}) == "_\r\n");
  CHECK(r({"HKEYS", "h"}) == "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  CHECK(r({"HDEL", "h", "a", "b", "c"}) == ":3\r\n");
  CHECK(r({"EXISTS", "h"}) == ":0\r\n");
}

// ---------------------------------------------------------------------------------------------
// Transactions and persistence
// ---------------------------------------------------------------------------------------------

TEST_CASE("hashes: commands queue and run in MULTI/EXEC") {
  Client c;
  CHECK(Do(c, {"MULTI"}) == "OK");
  CHECK(Do(c, {"HSET", "h", "a", "1"}) == "QUEUED");
  CHECK(Do(c, {"HINCRBYFLOAT", "h", "a", "0.5"}) == "QUEUED");
  CHECK(Do(c, {"HINCRBY", "h", "a", "1"}) == "QUEUED");  // fails inside EXEC, others stay
  CHECK(Do(c, {"HDEL", "h", "a"}) == "QUEUED");
  CHECK(Do(c, {"EXEC"}) == "[:1, 1.5, !ERR hash value is not an integer, :1]");
  CHECK(Do(c, {"EXISTS", "h"}) == ":0");
}

TEST_CASE("hashes: survive kill -9 and a checkpoint") {
  ServerProcess p({"--appendfsync", "always"});
  const std::string v65(65, 'x');
  {
    Client c(p.port(), false);
    CHECK(Do(c, {"HSET", "small", "a", "1", "b", "2", "c", "3"}) == ":3");
    Fill(c, "big", 600);
    CHECK(Do(c, {"HSET", "long", "f", v65}) == ":1");
    CHECK(Do(c, {"SAVE"}) == "OK");
    // After the checkpoint: only the log has these.
    CHECK(Do(c, {"HDEL", "small", "b"}) == ":1");
    CHECK(Do(c, {"HINCRBYFLOAT", "small", "a", "0.1"}) == "1.1");
    CHECK(Do(c, {"HINCRBY", "small", "n", "7"}) == ":7");
    CHECK(Do(c, {"HSETNX", "small", "c", "no"}) == ":0");
    CHECK(Do(c, {"HMSET", "big", "f0", "changed", "new", "x"}) == "OK");
    CHECK(Do(c, {"HDEL", "big", "f1", "f2"}) == ":2");
    CHECK(Do(c, {"HSET", "gone", "a", "1"}) == ":1");
    CHECK(Do(c, {"HDEL", "gone", "a"}) == ":1");
    c.Run({"SELECT", "3"});
    CHECK(Do(c, {"HSET", "other-db", "k", "v"}) == ":1");
  }
  p.Stop(9);
  auto check = [&](ServerProcess& q) {
    Client c(q.port(), false);
    CHECK(Do(c, {"HGETALL", "small"}) == "[a, 1.1, c, 3, n, 7]");
    CHECK(Do(c, {"OBJECT", "ENCODING", "small"}) == "listpack");
    CHECK(Do(c, {"HLEN", "big"}) == ":599");
    CHECK(Do(c, {"HGET", "big", "f0"}) == "changed");
    CHECK(Do(c, {"HGET", "big", "f1"}) == "(nil)");
    CHECK(Do(c, {"HGET", "big", "f599"}) == "v599");
    CHECK(Do(c, {"OBJECT", "ENCODING", "big"}) == "hashtable");
    CHECK(Do(c, {"HGET", "long", "f"}) == v65);
    CHECK(Do(c, {"OBJECT", "ENCODING", "long"}) == "hashtable");
    CHECK(Do(c, {"EXISTS", "gone"}) == ":0");
    c.Run({"SELECT", "3"});
    CHECK(Do(c, {"HGET", "other-db", "k"}) == "v");
  };
  {
    ServerProcess q({"--dir", p.dir()});
    check(q);
    // A checkpoint of the recovered data, then a clean restart from it alone.
    Client c(q.port(), false);
    CHECK(Do(c, {"SAVE"}) == "OK");
  }
  ServerProcess r({"--dir", p.dir()});
  check(r);
}

}  // namespace runnel::test
