// Integration tests of the list command family against the real server: every command, option
// and error reply (expected replies taken from Redis 7.0), RESP3 nulls, the listpack/quicklist
// encodings, the generic key commands on lists, MULTI/EXEC, and durability through kill -9 and
// a checkpoint. Blocking commands are in lists_blocking_test.cc.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "engine/keyspace.h"
#include "fixture.h"

namespace runnel::test {
namespace {

constexpr std::string_view kWrongType =
    "!WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr std::string_view kSyntax = "!ERR syntax error";
constexpr std::string_view kNotInt = "!ERR value is not an integer or out of range";

std::string Do(Client& c, std::initializer_list<std::string_view> args) {
  return c.Run(args).Dump();
}

// Two keys on different shards, and two on the same one (hash tags).
bool OtherShards(std::string_view a, std::string_view b) {
  return engine::Keyspace::ShardOf(a) != engine::Keyspace::ShardOf(b);
}

}  // namespace

TEST_CASE("lists: LPUSH, RPUSH, LPUSHX, RPUSHX and LRANGE") {
  Client c;
  CHECK(Do(c, {"LPUSHX", "l", "a"}) == ":0");
  CHECK(Do(c, {"RPUSHX", "l", "a", "b"}) == ":0");
  CHECK(Do(c, {"EXISTS", "l"}) == ":0");
  CHECK(Do(c, {"RPUSH", "l", "a", "b", "c"}) == ":3");
  CHECK(Do(c, {"LPUSH", "l", "x", "y"}) == ":5");
  CHECK(Do(c, {"LRANGE", "l", "0", "-1"}) == "[y, x, a, b, c]");
  CHECK(Do(c, {"LPUSHX", "l", "p", "q"}) == ":7");
  CHECK(Do(c, {"RPUSHX", "l", "z"}) == ":8");
  CHECK(Do(c, {"LRANGE", "l", "0", "2"}) == "[q, p, y]");
  CHECK(Do(c, {"LRANGE", "l", "-2", "-1"}) == "[c, z]");
  CHECK(Do(c, {"LRANGE", "l", "-100", "100"}) == "[q, p, y, x, a, b, c, z]");
  CHECK(Do(c, {"LRANGE", "l", "5", "2"}) == "[]");
  CHECK(Do(c, {"LRANGE", "l", "8", "9"}) == "[]");
  CHECK(Do(c, {"LRANGE", "nokey", "0", "-1"}) == "[]");
  CHECK(Do(c, {"LRANGE", "l", "x", "1"}) == kNotInt);
  CHECK(Do(c, {"LRANGE", "l", "0", "1.5"}) == kNotInt);
  CHECK(Do(c, {"RPUSH", "e", ""}) == ":1");
  CHECK(Do(c, {"LINDEX", "e", "0"}) == "");
  CHECK(Do(c, {"LPUSH", "l"}) == "!ERR wrong number of arguments for 'lpush' command");
  CHECK(Do(c, {"TYPE", "l"}) == "list");
}

TEST_CASE("lists: LPOP and RPOP with and without a count, nulls in RESP2 and RESP3") {
  Client c;
  CHECK(c.Run({"LPOP", "l"}).IsNil());
  CHECK(c.Run({"RPOP", "l", "3"}).IsNil());
  CHECK(Do(c, {"RPUSH", "l", "a", "b", "c", "d", "e"}) == ":5");
  CHECK(Do(c, {"LPOP", "l"}) == "a");
  CHECK(Do(c, {"RPOP", "l"}) == "e");
  CHECK(Do(c, {"LPOP", "l", "0"}) == "[]");
  CHECK(Do(c, {"LPOP", "l", "2"}) == "[b, c]");
  CHECK(Do(c, {"RPOP", "l", "9"}) == "[d]");
  CHECK(Do(c, {"EXISTS", "l"}) == ":0");  // empty lists are deleted
  CHECK(Do(c, {"LPOP", "l", "-1"}) == "!ERR value is out of range, must be positive");
  CHECK(Do(c, {"LPOP", "l", "x"}) == "!ERR value is out of range, must be positive");
  CHECK(Do(c, {"LPOP", "l", "1", "2"}) == "!ERR wrong number of arguments for 'lpop' command");
  RawClient r;
  CHECK(r.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(r.Command({"LPOP", "nokey"}) == "$-1\r\n");
  CHECK(r.Command({"LPOP", "nokey", "1"}) == "*-1\r\n");
  REQUIRE(r.Command({"HELLO", "3"}).starts_with("%"));
  CHECK(r.Command({"LPOP", "nokey"}) == "_\r\n");
  CHECK(r.Command({"RPOP", "nokey", "2"}) == "_\r\n");
  CHECK(r.Command({"RPUSH", "r3", "a"}) == ":1\r\n");
  CHECK(r.Command({"LPOP", "r3", "0"}) == "*0\r\n");
  CHECK(r.Command({"LPOP", "r3", "5"}) == "*1\r\n$1\r\na\r\n");
}

TEST_CASE("lists: LLEN, LINDEX and LSET") {
  Client c;
  CHECK(Do(c, {"LLEN", "l"}) == ":0");
  CHECK(c.Run({"LINDEX", "l", "0"}).IsNil());
  CHECK(c.Run({"LINDEX", "l", "x"}).IsNil());  // Redis looks the key up first
  CHECK(Do(c, {"LSET", "l", "0", "v"}) == "!ERR no such key");
  CHECK(Do(c, {"LSET", "l", "x", "v"}) == "!ERR no such key");
  CHECK(Do(c, {"RPUSH", "l", "a", "b", "c"}) == ":3");
  CHECK(Do(c, {"LLEN", "l"}) == ":3");
  CHECK(Do(c, {"LINDEX", "l", "0"}) == "a");
  CHECK(Do(c, {"LINDEX", "l", "-1"}) == "c");
  CHECK(Do(c, {"LINDEX", "l", "-3"}) == "a");
  CHECK(c.Run({"LINDEX", "l", "3"}).IsNil());
  CHECK(c.Run({"LINDEX", "l", "-4"}).IsNil());
  CHECK(Do(c, {"LINDEX", "l", "x"}) == kNotInt);
  CHECK(Do(c, {"LSET", "l", "1", "B"}) == "OK");
  CHECK(Do(c, {"LSET", "l", "-1", "C"}) == "OK");
  CHECK(Do(c, {"LSET", "l", "3", "v"}) == "!ERR index out of range");
  CHECK(Do(c, {"LSET", "l", "-4", "v"}) == "!ERR index out of range");
  CHECK(Do(c, {"LSET", "l", "x", "v"}) == kNotInt);
  CHECK(Do(c, {"LRANGE", "l", "0", "-1"}) == "[a, B, C]");
}

TEST_CASE("lists: LINSERT, LREM and LTRIM") {
  Client c;
  CHECK(Do(c, {"LINSERT", "l", "BEFORE", "a", "x"}) == ":0");
  CHECK(Do(c, {"RPUSH", "l", "a", "b", "c", "b"}) == ":4");
  CHECK(Do(c, {"LINSERT", "l", "before", "b", "X"}) == ":5");
  CHECK(Do(c, {"LINSERT", "l", "AFTER", "b", "Y"}) == ":6");
  CHECK(Do(c, {"LINSERT", "l", "AFTER", "zz", "Y"}) == ":-1");
  CHECK(Do(c, {"LINSERT", "l", "middle", "b", "Y"}) == kSyntax);
  CHECK(Do(c, {"LRANGE", "l", "0", "-1"}) == "[a, X, b, Y, c, b]");
  CHECK(Do(c, {"RPUSH", "l", "b", "b"}) == ":8");
  CHECK(Do(c, {"LREM", "l", "1", "b"}) == ":1");
  CHECK(Do(c, {"LREM", "l", "-2", "b"}) == ":2");
  CHECK(Do(c, {"LRANGE", "l", "0", "-1"}) == "[a, X, Y, c, b]");
  CHECK(Do(c, {"LREM", "l", "0", "zz"}) == ":0");
  CHECK(Do(c, {"LREM", "l", "x", "b"}) == kNotInt);
  CHECK(Do(c, {"LREM", "nokey", "0", "b"}) == ":0");
  CHECK(Do(c, {"RPUSH", "m", "v", "v", "w", "v"}) == ":4");
  CHECK(Do(c, {"LREM", "m", "0", "v"}) == ":3");
  CHECK(Do(c, {"LREM", "m", "0", "w"}) == ":1");
  CHECK(Do(c, {"EXISTS", "m"}) == ":0");
  CHECK(Do(c, {"LTRIM", "l", "1", "-2"}) == "OK");
  CHECK(Do(c, {"LRANGE", "l", "0", "-1"}) == "[X, Y, c]");
  CHECK(Do(c, {"LTRIM", "l", "-100", "100"}) == "OK");
  CHECK(Do(c, {"LLEN", "l"}) == ":3");
  CHECK(Do(c, {"LTRIM", "l", "x", "1"}) == kNotInt);
  CHECK(Do(c, {"LTRIM", "nokey", "0", "1"}) == "OK");
  CHECK(Do(c, {"LTRIM", "l", "2", "1"}) == "OK");
  CHECK(Do(c, {"EXISTS", "l"}) == ":0");
}

TEST_CASE("lists: LPOS with RANK, COUNT and MAXLEN") {
  Client c;
  CHECK(c.Run({"LPOS", "l", "c"}).IsNil());
  CHECK(Do(c, {"LPOS", "l", "c", "COUNT", "1"}) == "[]");
  CHECK(Do(c, {"RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"}) == ":8");
  CHECK(Do(c, {"LPOS", "l", "c"}) == ":2");
  CHECK(Do(c, {"LPOS", "l", "c", "RANK", "-1"}) == ":7");
  CHECK(Do(c, {"LPOS", "l", "c", "RANK", "2"}) == ":6");
  CHECK(c.Run({"LPOS", "l", "c", "RANK", "4"}).IsNil());
  CHECK(Do(c, {"LPOS", "l", "c", "COUNT", "0"}) == "[:2, :6, :7]");
  CHECK(Do(c, {"LPOS", "l", "c", "COUNT", "2"}) == "[:2, :6]");
  CHECK(Do(c, {"LPOS", "l", "c", "RANK", "-1", "COUNT", "2"}) == "[:7, :6]");
  CHECK(Do(c, {"LPOS", "l", "c", "MAXLEN", "3", "COUNT", "0"}) == "[:2]");
  CHECK(Do(c, {"LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1", "COUNT", "0"}) == "[:7]");
  CHECK(c.Run({"LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1", "RANK", "-2"}).IsNil());
  CHECK(Do(c, {"LPOS", "l", "zz", "COUNT", "0"}) == "[]");
  CHECK(Do(c, {"LPOS", "l", "c", "RANK", "0"}) ==
        "!ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
        "or use negative to start from the end of the list");
  CHECK(Do(c, {"LPOS", "l", "c", "RANK", "x"}) == kNotInt);
  CHECK(Do(c, {"LPOS", "l", "c", "COUNT", "-1"}) == "!ERR COUNT can't be negative");
  CHECK(Do(c, {"LPOS", "l", "c", "COUNT", "x"}) == "!ERR COUNT can't be negative");
  CHECK(Do(c, {"LPOS", "l", "c", "MAXLEN", "-1"}) == "!ERR MAXLEN can't be negative");
  CHECK(Do(c, {"LPOS", "l", "c", "FOO", "1"}) == kSyntax);
  CHECK(Do(c, {"LPOS", "l", "c", "RANK"}) == kSyntax);
}

TEST_CASE("lists: LMOVE and RPOPLPUSH on one key, on one shard and across shards") {
  Client c;
  REQUIRE(OtherShards("src", "dst"));
  CHECK(c.Run({"LMOVE", "src", "dst", "LEFT", "RIGHT"}).IsNil());
  CHECK(Do(c, {"RPUSH", "src", "a", "b", "c"}) == ":3");
  CHECK(Do(c, {"LMOVE", "src", "dst", "LEFT", "RIGHT"}) == "a");
  CHECK(Do(c, {"LMOVE", "src", "dst", "right", "left"}) == "c");
  CHECK(Do(c, {"LRANGE", "dst", "0", "-1"}) == "[c, a]");
  CHECK(Do(c, {"RPOPLPUSH", "src", "dst"}) == "b");
  CHECK(Do(c, {"EXISTS", "src"}) == ":0");
  CHECK(Do(c, {"LRANGE", "dst", "0", "-1"}) == "[b, c, a]");
  CHECK(Do(c, {"LMOVE", "dst", "dst", "LEFT", "RIGHT"}) == "b");  // rotation
  CHECK(Do(c, {"RPOPLPUSH", "dst", "dst"}) == "b");
  CHECK(Do(c, {"LRANGE", "dst", "0", "-1"}) == "[b, c, a]");
  CHECK(Do(c, {"RPUSH", "one", "x"}) == ":1");
  CHECK(Do(c, {"PEXPIRE", "one", "100000"}) == ":1");
  CHECK(Do(c, {"LMOVE", "one", "one", "LEFT", "LEFT"}) == "x");
  CHECK(c.Run({"PTTL", "one"}).integer > 90000);  // never emptied, so the TTL stays
  CHECK(Do(c, {"RPOPLPUSH", "{t}a", "{t}b"}) == "(nil)");
  CHECK(Do(c, {"LMOVE", "dst", "d2", "UP", "LEFT"}) == kSyntax);
  CHECK(Do(c, {"LMOVE", "dst", "d2", "LEFT", "DOWN"}) == kSyntax);
  CHECK(Do(c, {"SET", "s", "x"}) == "OK");
  CHECK(Do(c, {"LMOVE", "dst", "s", "LEFT", "LEFT"}) == kWrongType);
  CHECK(Do(c, {"LMOVE", "s", "dst", "LEFT", "LEFT"}) == kWrongType);
  CHECK(Do(c, {"LMOVE", "nokey", "s", "LEFT", "LEFT"}) == "(nil)");  // as Redis: src first
  CHECK(Do(c, {"RPOPLPUSH", "dst", "s"}) == kWrongType);
  CHECK(Do(c, {"LLEN", "dst"}) == ":3");  // nothing popped by the failed moves
}

TEST_CASE("lists: LMPOP") {
  Client c;
  CHECK(c.Run({"LMPOP", "2", "a", "b", "LEFT"}).IsNil());
  CHECK(Do(c, {"RPUSH", "b", "1", "2", "3"}) == ":3");
  CHECK(Do(c, {"LMPOP", "2", "a", "b", "LEFT"}) == "[b, [1]]");
  CHECK(Do(c, {"LMPOP", "2", "a", "b", "RIGHT", "COUNT", "10"}) == "[b, [3, 2]]");
  CHECK(Do(c, {"EXISTS", "b"}) == ":0");
  CHECK(Do(c, {"RPUSH", "a", "x", "y"}) == ":2");
  CHECK(Do(c, {"LMPOP", "1", "a", "left", "count", "1"}) == "[a, [x]]");
  CHECK(Do(c, {"LMPOP", "0", "a", "LEFT"}) == "!ERR numkeys should be greater than 0");
  CHECK(Do(c, {"LMPOP", "x", "a", "LEFT"}) == "!ERR numkeys should be greater than 0");
  CHECK(Do(c, {"LMPOP", "-1", "a", "LEFT"}) == "!ERR numkeys should be greater than 0");
  CHECK(Do(c, {"LMPOP", "2", "a", "LEFT"}) == kSyntax);
  CHECK(Do(c, {"LMPOP", "99999999999", "a", "LEFT"}) == kSyntax);
  CHECK(Do(c, {"LMPOP", "1", "a", "MIDDLE"}) == kSyntax);
  CHECK(Do(c, {"LMPOP", "1", "a", "LEFT", "COUNT", "0"}) == "!ERR count should be greater than 0");
  CHECK(Do(c, {"LMPOP", "1", "a", "LEFT", "COUNT", "x"}) == "!ERR count should be greater than 0");
  CHECK(Do(c, {"LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "2"}) == kSyntax);
  CHECK(Do(c, {"LMPOP", "1", "a", "LEFT", "COUNT"}) == kSyntax);
  CHECK(Do(c, {"LMPOP", "1", "a", "LEFT", "FOO"}) == kSyntax);
  CHECK(Do(c, {"SET", "s", "x"}) == "OK");
  CHECK(Do(c, {"LMPOP", "2", "nokey", "s", "LEFT"}) == kWrongType);
  CHECK(Do(c, {"LMPOP", "2", "a", "s", "LEFT"}) == "[a, [y]]");  // served before s is seen
  CHECK(Do(c, {"COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"}) == "[a, b]");
  RawClient r;
  REQUIRE(r.Command({"HELLO", "3"}).starts_with("%"));
  CHECK(r.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(r.Command({"LMPOP", "1", "nokey", "LEFT"}) == "_\r\n");
}

TEST_CASE("lists: WRONGTYPE from every list command") {
  Client c;
  CHECK(Do(c, {"SET", "s", "x"}) == "OK");
  const std::vector<std::vector<std::string>> cmds = {{"LPUSH", "s", "a"},
                                                      {"RPUSH", "s", "a"},
                                                      {"LPUSHX", "s", "a"},
                                                      {"RPUSHX", "s", "a"},
                                                      {"LPOP", "s"},
                                                      {"RPOP", "s", "2"},
                                                      {"LLEN", "s"},
                                                      {"LRANGE", "s", "0", "1"},
                                                      {"LINDEX", "s", "0"},
                                                      {"LSET", "s", "0", "v"},
                                                      {"LINSERT", "s", "BEFORE", "a", "b"},
                                                      {"LREM", "s", "0", "a"},
                                                      {"LTRIM", "s", "0", "1"},
                                                      {"LPOS", "s", "a"},
                                                      {"LMOVE", "s", "d", "LEFT", "LEFT"},
                                                      {"RPOPLPUSH", "s", "d"},
                                                      {"LMPOP", "1", "s", "LEFT"},
                                                      {"BLPOP", "s", "0.01"},
                                                      {"BRPOP", "s", "0.01"},
                                                      {"BLMOVE", "s", "d", "LEFT", "LEFT", "0.01"},
                                                      {"BRPOPLPUSH", "s", "d", "1"},
                                                      {"BLMPOP", "0.01", "1", "s", "LEFT"}};
  for (const auto& cmd : cmds) CHECK_MESSAGE(c.Run(cmd).Dump() == kWrongType, cmd[0]);
  CHECK(Do(c, {"GET", "s"}) == "x");
  CHECK(Do(c, {"RPUSH", "l", "a"}) == ":1");
  CHECK(Do(c, {"GET", "l"}) == kWrongType);
  CHECK(Do(c, {"APPEND", "l", "x"}) == kWrongType);
}

TEST_CASE("lists: OBJECT ENCODING is listpack, then quicklist past list-max-listpack-size") {
  Client c;
  CHECK(Do(c, {"CONFIG", "GET", "list-max-listpack-size"}) == "[list-max-listpack-size, -2]");
  CHECK(Do(c, {"CONFIG", "GET", "list-compress-depth"}) == "[list-compress-depth, 0]");
  CHECK(Do(c, {"RPUSH", "l", "a", "b"}) == ":2");
  CHECK(Do(c, {"OBJECT", "ENCODING", "l"}) == "listpack");
  std::string big(100, 'x');
  for (int i = 0; i < 100; ++i) c.Run({"RPUSH", "l", big});
  CHECK(Do(c, {"OBJECT", "ENCODING", "l"}) == "quicklist");
  CHECK(Do(c, {"LTRIM", "l", "0", "9"}) == "OK");
  CHECK(Do(c, {"OBJECT", "ENCODING", "l"}) == "listpack");
  CHECK(Do(c, {"RPUSH", "big", std::string(9000, 'y')}) == ":1");
  CHECK(Do(c, {"OBJECT", "ENCODING", "big"}) == "quicklist");
  // A count limit.
  CHECK(Do(c, {"CONFIG", "SET", "list-max-listpack-size", "4"}) == "OK");
  CHECK(Do(c, {"RPUSH", "n", "1", "2", "3", "4"}) == ":4");
  CHECK(Do(c, {"OBJECT", "ENCODING", "n"}) == "listpack");
  CHECK(Do(c, {"RPUSH", "n", "5"}) == ":5");
  CHECK(Do(c, {"OBJECT", "ENCODING", "n"}) == "quicklist");
  CHECK(Do(c, {"RPOP", "n", "3"}) == "[5, 4, 3]");
  CHECK(Do(c, {"OBJECT", "ENCODING", "n"}) == "listpack");
  CHECK(Do(c, {"CONFIG", "SET", "list-max-listpack-size", "-2"}) == "OK");
  CHECK(Do(c, {"CONFIG", "SET", "list-compress-depth", "-1"}).starts_with("!ERR"));
}

TEST_CASE("lists: a long quicklist answers like a short one") {
  Client c;
  std::vector<std::string> push = {"RPUSH", "q"};
  for (int i = 0; i < 5000; ++i) push.push_back("e" + std::to_string(i));
  CHECK(c.Run(push).IsInt(5000));
  CHECK(Do(c, {"OBJECT", "ENCODING", "q"}) == "quicklist");
  CHECK(Do(c, {"LINDEX", "q", "2500"}) == "e2500");
  CHECK(Do(c, {"LINDEX", "q", "-1"}) == "e4999");
  CHECK(Do(c, {"LSET", "q", "3000", "changed"}) == "OK");
  CHECK(Do(c, {"LRANGE", "q", "2999", "3001"}) == "[e2999, changed, e3001]");
  CHECK(Do(c, {"LINSERT", "q", "AFTER", "e1000", "new"}) == ":5001");
  CHECK(Do(c, {"LPOS", "q", "new"}) == ":1001");
  CHECK(Do(c, {"LREM", "q", "0", "new"}) == ":1");
  CHECK(Do(c, {"LPOS", "q", "e4000", "RANK", "-1"}) == ":4000");
  CHECK(Do(c, {"LTRIM", "q", "1000", "-1001"}) == "OK");
  CHECK(Do(c, {"LLEN", "q"}) == ":3000");
  CHECK(Do(c, {"LPOP", "q"}) == "e1000");
  CHECK(Do(c, {"RPOP", "q"}) == "e3999");
  CHECK(c.Run({"LRANGE", "q", "0", "-1"}).size() == 2998);
}

TEST_CASE("lists: TYPE, RENAME, COPY, EXPIRE, SCAN TYPE, DUMP and RESTORE on lists") {
  Client c;
  CHECK(Do(c, {"RPUSH", "l", "a", "b"}) == ":2");
  CHECK(Do(c, {"SET", "s", "x"}) == "OK");
  CHECK(Do(c, {"SCAN", "0", "TYPE", "list", "COUNT", "100"}) == "[0, [l]]");
  CHECK(Do(c, {"COPY", "l", "l2"}) == ":1");
  CHECK(Do(c, {"RPUSH", "l2", "c"}) == ":3");
  CHECK(Do(c, {"LLEN", "l"}) == ":2");
  CHECK(Do(c, {"RENAME", "l2", "l3"}) == "OK");
  CHECK(Do(c, {"LRANGE", "l3", "0", "-1"}) == "[a, b, c]");
  std::string dump = c.Run({"DUMP", "l3"}).str;
  CHECK(Do(c, {"RESTORE", "l4", "0", dump}) == "OK");
  CHECK(Do(c, {"LRANGE", "l4", "0", "-1"}) == "[a, b, c]");
  CHECK(Do(c, {"PEXPIRE", "l4", "50"}) == ":1");
  for (int i = 0; i < 100 && c.Run({"EXISTS", "l4"}).integer == 1; ++i) c.Run({"PING"});
  CHECK(Do(c, {"DEL", "l", "l3"}) == ":2");
}

TEST_CASE("lists: list commands inside MULTI/EXEC") {
  Client c;
  CHECK(Do(c, {"MULTI"}) == "OK");
  CHECK(Do(c, {"RPUSH", "{m}a", "1", "2"}) == "QUEUED");
  CHECK(Do(c, {"LMOVE", "{m}a", "{m}b", "LEFT", "LEFT"}) == "QUEUED");
  CHECK(Do(c, {"LMPOP", "2", "{m}a", "{m}b", "RIGHT"}) == "QUEUED");
  CHECK(Do(c, {"BLPOP", "{m}a", "0"}) == "QUEUED");
  CHECK(Do(c, {"BRPOP", "{m}b", "0"}) == "QUEUED");
  CHECK(Do(c, {"EXEC"}) == "[:2, 1, [{m}a, [2]], (nil), [{m}b, 1]]");
  CHECK(Do(c, {"EXISTS", "{m}a", "{m}b"}) == ":0");
}

TEST_CASE("lists: COMMAND INFO rows as Redis 7 reports them") {
  Client c;
  Reply blpop = c.Run({"COMMAND", "INFO", "blpop"});
  REQUIRE(blpop.size() == 1);
  REQUIRE(blpop[0].size() >= 7);
  CHECK(blpop[0][1].IsInt(-3));
  CHECK(blpop[0][2].Dump() == "[write, noscript, blocking]");
  CHECK(blpop[0][4].IsInt(-2));
  CHECK(blpop[0][6].Dump() == "[@write, @list, @slow, @blocking]");
  Reply lmpop = c.Run({"COMMAND", "INFO", "lmpop"});
  REQUIRE(lmpop.size() == 1);
  CHECK(lmpop[0][2].Dump() == "[write, movablekeys]");
  CHECK(lmpop[0][3].IsInt(0));
  CHECK(Do(c, {"COMMAND", "GETKEYS", "BLMPOP", "0", "2", "x", "y", "LEFT"}) == "[x, y]");
  CHECK(Do(c, {"COMMAND", "GETKEYS", "BLPOP", "x", "y", "0"}) == "[x, y]");
  CHECK(Do(c, {"COMMAND", "GETKEYS", "BLMOVE", "x", "y", "LEFT", "LEFT", "0"}) == "[x, y]");
}

TEST_CASE("lists: survive kill -9 and a checkpoint") {
  ServerProcess p({"--appendfsync", "always"});
  REQUIRE(OtherShards("src", "dst"));
  {
    Client c(p.port(), false);
    CHECK(c.Run({"RPUSH", "small", "a", "b", "c"}).IsInt(3));
    std::vector<std::string> push = {"RPUSH", "big"};
    for (int i = 0; i < 3000; ++i) push.push_back("element-" + std::to_string(i));
    CHECK(c.Run(push).IsInt(3000));
    CHECK(c.Run({"LSET", "big", "10", "ten"}) == "OK");
    CHECK(c.Run({"LINSERT", "big", "BEFORE", "element-20", "x"}).IsInt(3001));
    CHECK(c.Run({"LREM", "big", "1", "element-30"}).IsInt(1));
    CHECK(c.Run({"LTRIM", "big", "1", "-2"}) == "OK");
    CHECK(c.Run({"RPUSH", "src", "1", "2", "3", "4"}).IsInt(4));
    CHECK(c.Run({"LMOVE", "src", "dst", "LEFT", "RIGHT"}) == "1");
    CHECK(c.Run({"RPOPLPUSH", "src", "dst"}) == "4");
    CHECK(c.Run({"LMPOP", "2", "nokey", "src", "LEFT", "COUNT", "5"}).Dump() == "[src, [2, 3]]");
    CHECK(c.Run({"BLPOP", "small", "0"}).Dump() == "[small, a]");
    CHECK(c.Run({"BLMOVE", "dst", "src", "LEFT", "LEFT", "0"}) == "4");
  }
  p.Stop(9);
  auto check = [](Client& c) {
    CHECK(c.Run({"LRANGE", "small", "0", "-1"}).Dump() == "[b, c]");
    CHECK(c.Run({"LLEN", "big"}).IsInt(2998));
    CHECK(c.Run({"LINDEX", "big", "9"}) == "ten");
    CHECK(c.Run({"LPOS", "big", "x"}).IsInt(19));
    CHECK(c.Run({"LPOS", "big", "element-30"}).IsNil());
    CHECK(c.Run({"OBJECT", "ENCODING", "big"}) == "quicklist");
    CHECK(c.Run({"OBJECT", "ENCODING", "small"}) == "listpack");
    CHECK(c.Run({"LRANGE", "src", "0", "-1"}).Dump() == "[4]");
    CHECK(c.Run({"LRANGE", "dst", "0", "-1"}).Dump() == "[1]");
  };
  ServerProcess q({"--dir", p.dir()});
  {
    Client c(q.port(), false);
    check(c);
    CHECK(c.Run({"SAVE"}) == "OK");
    CHECK(c.Run({"RPUSH", "after", "z"}).IsInt(1));
  }
  q.Stop(9);
  ServerProcess r({"--dir", p.dir()});
  Client c(r.port(), false);
  check(c);
  CHECK(c.Run({"LRANGE", "after", "0", "-1"}).Dump() == "[z]");
}

}  // namespace runnel::test
