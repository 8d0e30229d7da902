// Integration tests of the stream command family against the real server: every command,
// option and error reply in RESP2 (hiredis) and RESP3 (raw bytes), the generic commands on
// stream keys, and blocking reads ("streams-blocking: ..." cases, which need the dispatcher's
// blocking support). Expected replies were taken from Redis 7.0; XINFO's consumer fields follow
// Redis 7.2 (idle and inactive, seen-time and active-time).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
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
constexpr std::string_view kInvalidId =
    "!ERR Invalid stream ID specified as stream command argument";
constexpr std::string_view kTopItem =
    "!ERR The ID specified in XADD is equal or smaller than the target stream top item";

std::string Do(Client& c, std::initializer_list<std::string_view> args) {
  return c.Run(args).Dump();
}

// Adds entries "<i>-0" with field f and value v<i>, for i in [from, to].
void Fill(Client& c, std::string_view key, int from, int to) {
  for (int i = from; i <= to; ++i) {
    std::string id = std::to_string(i) + "-0", v = "v" + std::to_string(i);
    REQUIRE(c.Run({"XADD", key, id, "f", v}) == id);
  }
}

std::string Entry(int i) {
  return "[" + std::to_string(i) + "-0, [f, v" + std::to_string(i) + "]]";
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
// XADD
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: XADD with explicit, partial and automatic IDs") {
  Client c;
  CHECK(Do(c, {"XADD", "s", "1-1", "f", "v"}) == "1-1");
  CHECK(Do(c, {"XADD", "s", "1-*", "f", "v"}) == "1-2");
  CHECK(Do(c, {"XADD", "s", "1", "f", "v"}) == kTopItem);  // "1" is 1-0
  CHECK(Do(c, {"XADD", "s", "2", "a", "b", "c", "d"}) == "2-0");
  CHECK(Do(c, {"XADD", "s", "1-2", "f", "v"}) == kTopItem);
  CHECK(Do(c, {"XADD", "s", "0-*", "f", "v"}) == kTopItem);
  CHECK(Do(c, {"XADD", "s", " 5-1", "f", "v"}) == "5-1");  // Redis's strtoull leniency
  CHECK(Do(c, {"XADD", "s", "+6", "f", "v"}) == "6-0");
  CHECK(Do(c, {"XADD", "s", "00011-0", "f", "v"}) == "11-0");
  for (const char* bad : {"-9", "9-", "10-1-1", "18446744073709551616-0", "5-x", "foo"})
    CHECK(Do(c, {"XADD", "s", bad, "f", "v"}) == kInvalidId);
  CHECK(Do(c, {"XADD", "t", "0-*", "f", "v"}) == "0-1");
  // Automatic IDs are the server's time, and always grow.
  Reply a = c.Run({"XADD", "auto", "*", "f", "v"});
  REQUIRE(a.type == Reply::Type::kString);
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  CHECK(std::abs(std::stoll(a.str) - now_ms) < 10000);
  CHECK(Do(c, {"XADD", "auto", "99999999999999-5", "f", "v"}) == "99999999999999-5");
  CHECK(Do(c, {"XADD", "auto", "*", "f", "v"}) == "99999999999999-6");  // the clock is behind
  CHECK(Do(c, {"XADD", "auto", "99999999999999-*", "f", "v"}) == "99999999999999-7");
}

TEST_CASE("streams: XADD errors, in Redis's order") {
  Client c;
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  CHECK(Do(c, {"XADD", "s"}) == "!ERR wrong number of arguments for 'xadd' command");
  CHECK(Do(c, {"XADD", "s", "*", "f"}) == "!ERR wrong number of arguments for 'xadd' command");
  CHECK(Do(c, {"XADD", "s", "*", "f", "v", "g"}) ==
        "!ERR wrong number of arguments for 'xadd' command");
  CHECK(Do(c, {"XADD", "s", "MAXLEN", "5", "*", "f"}) ==
        "!ERR wrong number of arguments for 'xadd' command");
  CHECK(Do(c, {"XADD", "s", "foo", "*", "f", "v"}) == kInvalidId);  // the ID before the arity
  CHECK(Do(c, {"XADD", "str", "*", "f", "v"}) == kWrongType);
  CHECK(Do(c, {"XADD", "str", "0-0", "f", "v"}) ==
        "!ERR The ID specified in XADD must be greater than 0-0");  // before the type
  CHECK(Do(c, {"XADD", "s", "MAXLEN", "-1", "*", "f", "v"}) ==
        "!ERR The MAXLEN argument must be >= 0.");
  CHECK(Do(c, {"XADD", "s", "MAXLEN", "abc", "*", "f", "v"}) == kNotInt);
  CHECK(Do(c, {"XADD", "s", "MAXLEN", "~5", "*", "f", "v"}) == kNotInt);
  CHECK(Do(c, {"XADD", "s", "MAXLEN", "=", "5", "LIMIT", "10", "*", "f", "v"}) ==
        "!ERR syntax error, LIMIT cannot be used without the special ~ option");
  CHECK(Do(c, {"XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "*", "f", "v"}) ==
        "!ERR The LIMIT argument must be >= 0.");
  CHECK(Do(c, {"XADD", "s", "LIMIT", "10", "*", "f", "v"}) ==
        "!ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  const std::string_view both =
      "!ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
  CHECK(Do(c, {"XADD", "s", "MINID", "5", "MAXLEN", "3", "*", "f", "v"}) == both);
  CHECK(Do(c, {"XADD", "s", "MAXLEN", "1", "MAXLEN", "2", "*", "f", "v"}) == both);
  CHECK(Do(c, {"XADD", "s", "MINID", "abc", "*", "f", "v"}) == kInvalidId);
  CHECK(Do(c, {"EXISTS", "s"}) == ":0");  // no failed XADD created the key
  CHECK(Do(c, {"XADD", "m", "18446744073709551615-18446744073709551615", "f", "v"}) ==
        "18446744073709551615-18446744073709551615");
  const std::string_view exhausted =
      "!ERR The stream has exhausted the last possible ID, unable to add more items";
  CHECK(Do(c, {"XADD", "m", "*", "f", "v"}) == exhausted);
  CHECK(Do(c, {"XADD", "m", "18446744073709551615-*", "f", "v"}) == exhausted);
}

TEST_CASE("streams: XADD NOMKSTREAM and trimming options") {
  Client c;
  CHECK(c.Run({"XADD", "s", "NOMKSTREAM", "*", "f", "v"}).IsNil());
  CHECK(Do(c, {"EXISTS", "s"}) == ":0");
  CHECK(Do(c, {"XADD", "s", "1-0", "f", "v"}) == "1-0");
  CHECK(Do(c, {"XADD", "s", "nomkstream", "nomkstream", "2-0", "f", "v"}) == "2-0");
  Fill(c, "s", 3, 10);
  CHECK(Do(c, {"XADD", "s", "MAXLEN", "5", "11-0", "f", "v11"}) == "11-0");
  CHECK(Do(c, {"XLEN", "s"}) == ":5");
  CHECK(Do(c, {"XADD", "s", "MINID", "=", "9", "12-0", "f", "v12"}) == "12-0");
  CHECK(Do(c, {"XRANGE", "s", "-", "+", "COUNT", "1"}) == "[" + Entry(9) + "]");
  // Approximate trimming drops whole chunks of 100 entries only.
  for (int i = 13; i <= 250; ++i) c.Send({"XADD", "big", std::to_string(i) + "-0", "f", "v"});
  for (int i = 13; i <= 250; ++i) REQUIRE(c.Read().type == Reply::Type::kString);
  CHECK(Do(c, {"XADD", "big", "MAXLEN", "~", "200", "251-0", "f", "v"}) == "251-0");
  CHECK(Do(c, {"XLEN", "big"}) == ":239");  // removing a chunk would leave fewer than 200
  CHECK(Do(c, {"XADD", "big", "MAXLEN", "~", "10", "LIMIT", "50", "252-0", "f", "v"}) == "252-0");
  CHECK(Do(c, {"XLEN", "big"}) == ":240");  // a chunk is more than LIMIT
  CHECK(Do(c, {"XADD", "big", "limit", "100", "maxlen", "~", "10", "253-0", "f", "v"}) == "253-0");
  CHECK(Do(c, {"XLEN", "big"}) == ":141");
  CHECK(Do(c, {"XADD", "big", "MINID", "~", "0", "LIMIT", "0", "254-0", "f", "v"}) == "254-0");
}

// ---------------------------------------------------------------------------------------------
// XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: XRANGE and XREVRANGE bounds, exclusive ranges and COUNT") {
  Client c;
  Fill(c, "s", 1, 5);
  CHECK(Do(c, {"XADD", "s", "5-1", "f", "v5b"}) == "5-1");
  CHECK(Do(c, {"XRANGE", "s", "2", "3"}) == "[" + Entry(2) + ", " + Entry(3) + "]");
  CHECK(Do(c, {"XRANGE", "s", "5", "5"}) == "[" + Entry(5) + ", [5-1, [f, v5b]]]");
  CHECK(Do(c, {"XRANGE", "s", "(4", "5-0"}) == "[" + Entry(5) + "]");
  CHECK(Do(c, {"XRANGE", "s", "(3-0", "(5-0"}) == "[" + Entry(4) + "]");
  CHECK(Do(c, {"XREVRANGE", "s", "(5-0", "(3"}) == "[" + Entry(4) + "]");
  CHECK(Do(c, {"XRANGE", "s", "(4", "(5"}) == "[" + Entry(5) + ", [5-1, [f, v5b]]]");  // 5-max
  CHECK(Do(c, {"XREVRANGE", "s", "+", "-", "COUNT", "2"}) == "[[5-1, [f, v5b]], " + Entry(5) + "]");
  CHECK(Do(c, {"XRANGE", "s", "-", "+", "count", "1", "COUNT", "2"}) ==
        "[" + Entry(1) + ", " + Entry(2) + "]");
  CHECK(Do(c, {"XRANGE", "s", "+", "-"}) == "[]");
  CHECK(Do(c, {"XREVRANGE", "s", "-", "+"}) == "[]");
  CHECK(Do(c, {"XRANGE", "s", "-", "(0"}) == "[]");
  CHECK(Do(c, {"XRANGE", "nokey", "-", "+"}) == "[]");
  CHECK(c.Run({"XRANGE", "s", "-", "+", "COUNT", "0"}).IsNil());  // a null array
  CHECK(c.Run({"XRANGE", "s", "-", "+", "COUNT", "-1"}).IsNil());
  CHECK(Do(c, {"XRANGE", "nokey", "-", "+", "COUNT", "0"}) == "[]");
  CHECK(Do(c, {"XRANGE", "s", "-", "+", "COUNT"}) == kSyntax);
  CHECK(Do(c, {"XRANGE", "s", "-", "+", "COUNT", "x"}) == kNotInt);
  CHECK(Do(c, {"XRANGE", "s", "-", "+", "FOO", "1"}) == kSyntax);
  for (const char* bad : {"x", "(-", "(", "(+"})
    CHECK(Do(c, {"XRANGE", "s", bad, "+"}) == kInvalidId);
  CHECK(Do(c, {"XRANGE", "s", "-", "(0-0"}) == "!ERR invalid end ID for the interval");
  CHECK(Do(c, {"XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"}) ==
        "!ERR invalid start ID for the interval");
  CHECK(Do(c, {"XREVRANGE", "s", "(0-0", "-"}) == "!ERR invalid end ID for the interval");
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  CHECK(Do(c, {"XRANGE", "str", "-", "+"}) == kWrongType);
  CHECK(Do(c, {"XRANGE", "str", "x", "+"}) == kInvalidId);  // arguments before the type
  CHECK(Do(c, {"XRANGE", "str", "-", "+", "COUNT", "0"}) == kWrongType);
}

TEST_CASE("streams: XLEN, XDEL and the deleted-entry bookkeeping") {
  Client c;
  Fill(c, "s", 1, 5);
  CHECK(Do(c, {"XLEN", "s"}) == ":5");
  CHECK(Do(c, {"XLEN", "nokey"}) == ":0");
  CHECK(Do(c, {"XDEL", "s", "2-0", "2-0", "x"}) == kInvalidId);  // all IDs parsed first
  CHECK(Do(c, {"XDEL", "s", "2-0", "2-0", "2"}) == ":1");
  CHECK(Do(c, {"XDEL", "s", "9-0"}) == ":0");
  CHECK(Do(c, {"XDEL", "nokey", "x"}) == ":0");  // a missing key is checked first
  CHECK(Do(c, {"XDEL", "s"}) == "!ERR wrong number of arguments for 'xdel' command");
  CHECK(Do(c, {"XLEN", "s"}) == ":4");
  CHECK(Do(c, {"XRANGE", "s", "-", "+", "COUNT", "2"}) == "[" + Entry(1) + ", " + Entry(3) + "]");
  Reply info = c.Run({"XINFO", "STREAM", "s"});
  REQUIRE(info.size() == 20);
  CHECK(info[9].Dump() == "2-0");  // max-deleted-entry-id
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  CHECK(Do(c, {"XLEN", "str"}) == kWrongType);
  CHECK(Do(c, {"XDEL", "str", "x"}) == kWrongType);
}

TEST_CASE("streams: XTRIM strategies, limits and errors") {
  Client c;
  Fill(c, "s", 1, 5);
  CHECK(Do(c, {"XTRIM", "s", "MAXLEN", "10"}) == ":0");
  CHECK(Do(c, {"XTRIM", "s", "MAXLEN", "~", "2"}) == ":0");  // one partial chunk: kept
  CHECK(Do(c, {"XTRIM", "s", "MINID", "2-5"}) == ":2");
  CHECK(Do(c, {"XTRIM", "s", "maxlen", "=", "1"}) == ":2");
  CHECK(Do(c, {"XRANGE", "s", "-", "+"}) == "[" + Entry(5) + "]");
  CHECK(Do(c, {"XTRIM", "s", "MINID", "~", "100", "LIMIT", "0"}) == ":1");
  CHECK(Do(c, {"XLEN", "s"}) == ":0");
  CHECK(Do(c, {"EXISTS", "s"}) == ":1");  // an emptied stream stays
  CHECK(Do(c, {"XTRIM", "nokey", "MAXLEN", "1"}) == ":0");
  CHECK(Do(c, {"XTRIM", "s", "foo"}) == "!ERR wrong number of arguments for 'xtrim' command");
  CHECK(Do(c, {"XTRIM", "s", "MAXLEN", "3", "foo"}) == kSyntax);
  CHECK(Do(c, {"XTRIM", "s", "LIMIT", "5"}) ==
        "!ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  CHECK(Do(c, {"XTRIM", "s", "MINID", "=", "2", "LIMIT", "1"}) ==
        "!ERR syntax error, LIMIT cannot be used without the special ~ option");
  CHECK(Do(c, {"XTRIM", "nokey", "MAXLEN", "-1"}) == "!ERR The MAXLEN argument must be >= 0.");
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  CHECK(Do(c, {"XTRIM", "str", "MAXLEN", "1"}) == kWrongType);
  CHECK(Do(c, {"XTRIM", "str", "foo", "bar"}) == kSyntax);
}

TEST_CASE("streams: XSETID sets the last ID and the counters") {
  Client c;
  Fill(c, "s", 1, 6);
  CHECK(Do(c, {"XDEL", "s", "1-0", "2-0"}) == ":2");
  CHECK(Do(c, {"XSETID", "s", "5-0"}) ==
        "!ERR The ID specified in XSETID is smaller than the target stream top item");
  CHECK(Do(c, {"XSETID", "s", "6-0"}) == "OK");
  CHECK(Do(c, {"XSETID", "s", "8-0", "ENTRIESADDED", "3"}) ==
        "!ERR The entries_added specified in XSETID is smaller than the target stream length");
  CHECK(Do(c, {"XSETID", "s", "8-0", "ENTRIESADDED", "-1"}) ==
        "!ERR entries_added must be positive");
  CHECK(Do(c, {"XSETID", "s", "8-0", "ENTRIESADDED", "100", "MAXDELETEDID", "9-0"}) ==
        "!ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
  CHECK(Do(c, {"XSETID", "s", "8-0", "ENTRIESADDED", "100", "MAXDELETEDID", "7-0"}) == "OK");
  CHECK(Do(c, {"XSETID", "s", "8-0", "foo"}) == kSyntax);
  CHECK(Do(c, {"XSETID", "s", "8-0", "ENTRIESADDED"}) == kSyntax);
  CHECK(Do(c, {"XSETID", "s", "8-0", "ENTRIESADDED", "x"}) == kNotInt);
  CHECK(Do(c, {"XSETID", "s", "8-0", "MAXDELETEDID", "x"}) == kInvalidId);
  CHECK(Do(c, {"XSETID", "nokey", "1-0"}) == "!ERR no such key");
  CHECK(Do(c, {"XSETID", "nokey", "8-0", "MAXDELETEDID", "9-0"}) ==
        "!ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
  Reply info = c.Run({"XINFO", "STREAM", "s"});
  REQUIRE(info.size() == 20);
  CHECK(info[7].Dump() == "8-0");    // last-generated-id
  CHECK(info[9].Dump() == "7-0");    // max-deleted-entry-id
  CHECK(info[11].Dump() == ":100");  // entries-added
  CHECK(Do(c, {"XADD", "s", "8-0", "f", "v"}) == kTopItem);
  CHECK(Do(c, {"XADD", "s", "8-*", "f", "v"}) == "8-1");
  CHECK(Do(c, {"XDEL", "s", "3-0", "4-0", "5-0", "6-0", "8-1"}) == ":5");
  CHECK(Do(c, {"XSETID", "s", "0-0"}) == "OK");  // an empty stream takes any ID
}

// ---------------------------------------------------------------------------------------------
// XREAD (without blocking)
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: XREAD from several streams, with $, + and COUNT") {
  Client c;
  Fill(c, "s", 1, 3);
  CHECK(Do(c, {"XADD", "s2", "7-0", "g", "w"}) == "7-0");
  const std::string all = "[" + Entry(1) + ", " + Entry(2) + ", " + Entry(3) + "]";
  CHECK(Do(c, {"XREAD", "STREAMS", "s", "0"}) == "[[s, " + all + "]]");
  CHECK(Do(c, {"XREAD", "COUNT", "1", "STREAMS", "s", "s2", "0", "0"}) ==
        "[[s, [" + Entry(1) + "]], [s2, [[7-0, [g, w]]]]]");
  CHECK(Do(c, {"XREAD", "COUNT", "0", "STREAMS", "s", "0"}) == "[[s, " + all + "]]");
  CHECK(Do(c, {"XREAD", "COUNT", "-1", "STREAMS", "s", "1-0"}) ==
        "[[s, [" + Entry(2) + ", " + Entry(3) + "]]]");
  CHECK(Do(c, {"XREAD", "STREAMS", "s", "nokey", "2", "0"}) == "[[s, [" + Entry(3) + "]]]");
  CHECK(c.Run({"XREAD", "STREAMS", "s", "$"}).IsNil());
  CHECK(c.Run({"XREAD", "STREAMS", "s", "3"}).IsNil());
  CHECK(c.Run({"XREAD", "STREAMS", "nokey", "0"}).IsNil());
  CHECK(Do(c, {"XREAD", "STREAMS", "s2", "s", "+", "+"}) ==
        "[[s2, [[7-0, [g, w]]]], [s, [" + Entry(3) + "]]]");  // + is the last entry
  CHECK(c.Run({"XREAD", "STREAMS", "nokey", "+"}).IsNil());
}

TEST_CASE("streams: XREAD argument errors") {
  Client c;
  Fill(c, "s", 1, 1);
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  const std::string_view unbalanced =
      "!ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
  CHECK(Do(c, {"XREAD", "STREAMS", "s"}) == "!ERR wrong number of arguments for 'xread' command");
  CHECK(Do(c, {"XREAD", "STREAMS", "s", "s2", "0"}) == unbalanced);
  CHECK(Do(c, {"XREAD", "COUNT", "x", "STREAMS", "s", "0"}) == kNotInt);
  CHECK(Do(c, {"XREAD", "BLOCK", "-1", "STREAMS", "s", "0"}) == "!ERR timeout is negative");
  CHECK(Do(c, {"XREAD", "BLOCK", "x", "STREAMS", "s", "0"}) ==
        "!ERR timeout is not an integer or out of range");
  CHECK(Do(c, {"XREAD", "FOO", "STREAMS", "s", "0"}) == kSyntax);
  CHECK(Do(c, {"XREAD", "COUNT", "1", "BLOCK", "2"}) == kSyntax);
  CHECK(Do(c, {"XREAD", "STREAMS", "s", ">"}) ==
        "!ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
        "<consumer> option.");
  CHECK(Do(c, {"XREAD", "NOACK", "STREAMS", "s", "0"}) ==
        "!ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
  CHECK(Do(c, {"XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"}) ==
        "!ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
  for (const char* bad : {"(1", "-", "x"})
    CHECK(Do(c, {"XREAD", "STREAMS", "s", bad}) == kInvalidId);
  CHECK(Do(c, {"XREAD", "STREAMS", "str", "x"}) == kWrongType);  // per key: type, then ID
  CHECK(Do(c, {"XREAD", "STREAMS", "s", "str", "x", "0"}) == kInvalidId);
  CHECK(Do(c, {"XREAD", "STREAMS", "nokey", "str", "0", "0"}) == kWrongType);
}

// ---------------------------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: XGROUP CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER") {
  Client c;
  Fill(c, "s", 1, 4);
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  const std::string_view need_key =
      "!ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to "
      "use the MKSTREAM option to create an empty stream automatically.";
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) ==
        "!BUSYGROUP Consumer Group name already exists");
  CHECK(Do(c, {"XGROUP", "CREATE", "nokey", "g", "0"}) == need_key);
  CHECK(Do(c, {"XGROUP", "CREATE", "nokey", "g", "x", "MKSTREAM"}) == kInvalidId);
  CHECK(Do(c, {"EXISTS", "nokey"}) == ":0");
  CHECK(Do(c, {"XGROUP", "CREATE", "mk", "g", "$", "MKSTREAM"}) == "OK");
  CHECK(Do(c, {"XLEN", "mk"}) == ":0");
  CHECK(Do(c, {"XGROUP", "CREATE", "str", "g", "x"}) == kWrongType);
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g2", "0", "foo"}) ==
        "!ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP.");
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "-2"}) ==
        "!ERR value for ENTRIESREAD must be positive or -1");
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "x"}) == kNotInt);
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g3", "+"}) == kInvalidId);
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g3", "$", "ENTRIESREAD", "4"}) == "OK");
  CHECK(Do(c, {"XGROUP", "SETID", "s", "g", "2"}) == "OK");
  CHECK(Do(c, {"XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "4"}) == "OK");
  CHECK(Do(c, {"XGROUP", "SETID", "s", "nog", "x"}) ==
        "!NOGROUP No such consumer group 'nog' for key name 's'");
  CHECK(Do(c, {"XGROUP", "SETID", "nokey", "g", "0"}) == need_key);
  CHECK(Do(c, {"XGROUP", "SETID", "s", "g", "0", "foo"}) ==
        "!ERR unknown subcommand or wrong number of arguments for 'setid'. Try XGROUP HELP.");
  CHECK(Do(c, {"XGROUP", "SETID", "s", "g", "x"}) == kInvalidId);
  CHECK(Do(c, {"XGROUP", "CREATECONSUMER", "s", "g", "c1"}) == ":1");
  CHECK(Do(c, {"XGROUP", "CREATECONSUMER", "s", "g", "c1"}) == ":0");
  CHECK(Do(c, {"XGROUP", "CREATECONSUMER", "s", "nog", "c1"}) ==
        "!NOGROUP No such consumer group 'nog' for key name 's'");
  CHECK(Do(c, {"XGROUP", "CREATECONSUMER", "str", "g", "c"}) == kWrongType);
  CHECK(c.Run({"XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"})
            .IsNil());  // SETID $ left nothing new
  CHECK(Do(c, {"XGROUP", "SETID", "s", "g", "0"}) == "OK");
  CHECK(c.Run({"XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"}).size() == 1);
  CHECK(Do(c, {"XGROUP", "DELCONSUMER", "s", "g", "c1"}) == ":2");  // its pending entries
  CHECK(Do(c, {"XGROUP", "DELCONSUMER", "s", "g", "nobody"}) == ":0");
  CHECK(Do(c, {"XPENDING", "s", "g"}) == "[:0, (nil), (nil), (nil)]");
  CHECK(Do(c, {"XGROUP", "DESTROY", "s", "g3"}) == ":1");
  CHECK(Do(c, {"XGROUP", "DESTROY", "s", "g3"}) == ":0");
  CHECK(Do(c, {"XGROUP", "DESTROY", "nokey", "g"}) == need_key);
  CHECK(Do(c, {"XGROUP", "DESTROY", "s"}) ==
        "!ERR wrong number of arguments for 'xgroup|destroy' command");
  CHECK(Do(c, {"XGROUP", "FOO"}) == "!ERR unknown subcommand 'FOO'. Try XGROUP HELP.");
  Reply help = c.Run({"XGROUP", "HELP"});
  REQUIRE(help.size() == 17);
  CHECK(help[0] == "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  CHECK(help[16] == "    Prints this help.");
}

// ---------------------------------------------------------------------------------------------
// XREADGROUP (without blocking), XACK, XPENDING
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: XREADGROUP delivers new entries and a consumer's history") {
  Client c;
  Fill(c, "s", 1, 4);
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"}) ==
        "[[s, [" + Entry(1) + ", " + Entry(2) + "]]]");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", ">"}) ==
        "[[s, [" + Entry(3) + "]]]");
  CHECK(Do(c, {"XDEL", "s", "2-0"}) == ":1");
  // History: the consumer's own pending entries after the ID; deleted ones without fields.
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"}) ==
        "[[s, [" + Entry(1) + ", [2-0, (nil)]]]]");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "1"}) ==
        "[[s, [[2-0, (nil)]]]]");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"}) == "[[s, []]]");
  // Delivery counts: history reads count, deleted entries are left alone.
  CHECK(Do(c, {"XPENDING", "s", "g", "-", "+", "10"}).find("[1-0, alice, :") != std::string::npos);
  Reply p = c.Run({"XPENDING", "s", "g", "-", "+", "10"});
  REQUIRE(p.size() == 3);
  CHECK(p[0][3].integer == 2);  // delivered, then re-read once
  CHECK(p[1][3].integer == 1);
  CHECK(p[2][1] == "bob");
  // NOACK delivers without a PEL entry; reading with nothing new gives a null reply.
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "dave", "NOACK", "STREAMS", "s", ">"}) ==
        "[[s, [" + Entry(4) + "]]]");
  CHECK(c.Run({"XREADGROUP", "GROUP", "g", "erin", "STREAMS", "s", ">"}).IsNil());
  CHECK(Do(c, {"XPENDING", "s", "g"}) == "[:3, 1-0, 3-0, [[alice, 2], [bob, 1]]]");
  // Consumers are created when served (history always is; > only with entries to give).
  Reply consumers = c.Run({"XINFO", "CONSUMERS", "s", "g"});
  REQUIRE(consumers.size() == 4);
  CHECK(consumers[2][1] == "carol");
  CHECK(consumers[3][1] == "dave");
}

TEST_CASE("streams: XREADGROUP errors") {
  Client c;
  Fill(c, "s", 1, 2);
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}) ==
        "!NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option");
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"}) ==
        "!NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"}) == kWrongType);
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"})
            .starts_with("!ERR The $ ID is meaningless in the context of XREADGROUP"));
  for (const char* bad : {"x", "(1", "+", "-"})
    CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", bad}) == kInvalidId);
  CHECK(Do(c, {"XREADGROUP", "COUNT", "1", "BLOCK", "1", "STREAMS", "s", "0"}) ==
        "!ERR Missing GROUP option for XREADGROUP");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">", "x"})
            .starts_with("!ERR Unbalanced XREAD list of streams"));
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "-1", "STREAMS", "s", ">"}) ==
        "!ERR timeout is negative");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c", "GROUP", "g2", "d", "STREAMS", "s", "0"}) ==
        "!NOGROUP No such key 's' or consumer group 'g2' in XREADGROUP with GROUP option");
  CHECK(Do(c, {"XREADGROUP", "GROUP", "g", "c"}) ==
        "!ERR wrong number of arguments for 'xreadgroup' command");
}

TEST_CASE("streams: XACK and XPENDING in every form") {
  Client c;
  Fill(c, "s", 1, 4);
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  CHECK(Do(c, {"XPENDING", "s", "g"}) == "[:0, (nil), (nil), (nil)]");
  c.Run({"XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"});
  c.Run({"XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"});
  CHECK(Do(c, {"XPENDING", "s", "g"}) == "[:4, 1-0, 4-0, [[alice, 2], [bob, 2]]]");
  Reply all = c.Run({"XPENDING", "s", "g", "-", "+", "10"});
  REQUIRE(all.size() == 4);
  CHECK(all[0][0] == "1-0");
  CHECK(all[0][1] == "alice");
  CHECK((all[0][2].type == Reply::Type::kInteger && all[0][2].integer >= 0));
  CHECK(all[0][3].integer == 1);
  CHECK(c.Run({"XPENDING", "s", "g", "-", "+", "10", "bob"}).size() == 2);
  CHECK(c.Run({"XPENDING", "s", "g", "(1", "3", "10"}).size() == 2);
  CHECK(c.Run({"XPENDING", "s", "g", "-", "+", "1"}).size() == 1);
  CHECK(Do(c, {"XPENDING", "s", "g", "-", "+", "0"}) == "[]");
  CHECK(Do(c, {"XPENDING", "s", "g", "-", "+", "-1"}) == "[]");
  CHECK(Do(c, {"XPENDING", "s", "g", "-", "+", "10", "nobody"}) == "[]");
  CHECK(c.Run({"XPENDING", "s", "g", "IDLE", "0", "-", "+", "10"}).size() == 4);
  CHECK(Do(c, {"XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"}) == "[]");
  CHECK(c.Run({"XPENDING", "s", "g", "-", "+", "10", "bob", "extra", "extra"}).size() == 2);
  CHECK(Do(c, {"XPENDING", "s", "g", "-", "+", "10", "bob", "e1", "e2", "e3"}) == kSyntax);
  CHECK(Do(c, {"XPENDING", "s", "g", "-", "+"}) == kSyntax);
  CHECK(Do(c, {"XPENDING", "s", "g", "IDLE", "10"}) == kSyntax);
  CHECK(Do(c, {"XPENDING", "s", "g", "IDLE", "x", "-", "+", "10"}) == kNotInt);
  CHECK(Do(c, {"XPENDING", "s", "g", "-", "+", "x"}) == kNotInt);
  CHECK(Do(c, {"XPENDING", "nokey", "g", "x", "+", "10"}) == kInvalidId);  // before the key
  CHECK(Do(c, {"XPENDING", "s", "nog"}) == "!NOGROUP No such key 's' or consumer group 'nog'");
  CHECK(Do(c, {"XPENDING", "str", "g"}) == kWrongType);
  // XACK
  CHECK(Do(c, {"XACK", "s", "g", "1-0", "x"}) == kInvalidId);
  CHECK(Do(c, {"XACK", "s", "g", "1-0", "1-0", "3"}) == ":2");
  CHECK(Do(c, {"XACK", "s", "g", "1-0"}) == ":0");
  CHECK(Do(c, {"XACK", "s", "nog", "x"}) == ":0");  // no group: nothing to parse
  CHECK(Do(c, {"XACK", "nokey", "g", "1"}) == ":0");
  CHECK(Do(c, {"XACK", "str", "g", "1"}) == kWrongType);
  CHECK(Do(c, {"XPENDING", "s", "g"}) == "[:2, 2-0, 4-0, [[alice, 1], [bob, 1]]]");
}

// ---------------------------------------------------------------------------------------------
// XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: XCLAIM moves pending entries and their counters") {
  Client c;
  Fill(c, "s", 1, 5);
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  c.Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"});
  CHECK(Do(c, {"XDEL", "s", "3-0"}) == ":1");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "-1", "2-0"}) == "[" + Entry(2) + "]");
  // A deleted entry leaves the PEL and the reply.
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "2-0", "3-0", "JUSTID"}) == "[2-0]");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "2-0", "RETRYCOUNT", "7", "IDLE", "5000"}) ==
        "[" + Entry(2) + "]");
  Reply p = c.Run({"XPENDING", "s", "g", "-", "+", "10"});
  REQUIRE(p.size() == 4);
  CHECK(p[1][0] == "2-0");
  CHECK(p[1][1] == "bob");
  CHECK(p[1][2].integer >= 5000);
  CHECK(p[1][3].integer == 7);
  CHECK(Do(c, {"XCLAIM", "s", "g", "carol", "1000000", "1-0"}) == "[]");   // not idle enough
  CHECK(c.Run({"XINFO", "CONSUMERS", "s", "g"}).size() == 2);              // carol was not created
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "9-0", "FORCE"}) == "[]");  // no such entry
  CHECK(Do(c, {"XACK", "s", "g", "4-0", "5-0"}) == ":2");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "100000", "4-0", "FORCE"}) == "[" + Entry(4) + "]");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "5-0", "FORCE", "JUSTID", "LASTID", "10-0"}) ==
        "[5-0]");
  p = c.Run({"XPENDING", "s", "g", "4-0", "5-0", "10"});
  REQUIRE(p.size() == 2);
  CHECK(p[0][3].integer == 2);  // FORCE created it, then the claim counted
  CHECK(p[1][3].integer == 1);  // JUSTID does not count
  Reply groups = c.Run({"XINFO", "GROUPS", "s"});
  CHECK(groups[0][7] == "10-0");  // LASTID moved the group on
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "1-0", "TIME", "99999999999999"}) ==
        "[" + Entry(1) + "]");
  CHECK(c.Run({"XPENDING", "s", "g", "-", "1-0", "1"})[0][2].integer < 5000);  // time now
}

TEST_CASE("streams: XCLAIM errors") {
  Client c;
  Fill(c, "s", 1, 2);
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0"}) ==
        "!ERR wrong number of arguments for 'xclaim' command");
  CHECK(Do(c, {"XCLAIM", "nokey", "g", "bob", "x", "1"}) ==
        "!NOGROUP No such key 'nokey' or consumer group 'g'");  // before the arguments
  CHECK(Do(c, {"XCLAIM", "s", "nog", "bob", "0", "1"}) ==
        "!NOGROUP No such key 's' or consumer group 'nog'");
  CHECK(Do(c, {"XCLAIM", "str", "g", "bob", "0", "1"}) == kWrongType);
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "x", "1"}) ==
        "!ERR Invalid min-idle-time argument for XCLAIM");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "x"}) == "!ERR Unrecognized XCLAIM option 'x'");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "1", "IDLE"}) ==
        "!ERR Unrecognized XCLAIM option 'IDLE'");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "1", "IDLE", "x"}) ==
        "!ERR Invalid IDLE option argument for XCLAIM");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "1", "TIME", "x"}) ==
        "!ERR Invalid TIME option argument for XCLAIM");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "1", "RETRYCOUNT", "x"}) ==
        "!ERR Invalid RETRYCOUNT option argument for XCLAIM");
  CHECK(Do(c, {"XCLAIM", "s", "g", "bob", "0", "1", "LASTID", "x"}) == kInvalidId);
}

TEST_CASE("streams: XAUTOCLAIM scans with a cursor and reports deleted entries") {
  Client c;
  Fill(c, "s", 1, 6);
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  c.Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"});
  CHECK(Do(c, {"XDEL", "s", "1-0", "2-0"}) == ":2");
  // Deleted entries count towards COUNT and are dropped from the PEL.
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "1"}) == "[2-0, [], [1-0]]");
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "2-0", "COUNT", "2"}) ==
        "[4-0, [" + Entry(3) + "], [2-0]]");
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "(4", "JUSTID"}) == "[0-0, [5-0, 6-0], []]");
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "+", "JUSTID"}) == "[0-0, [], []]");
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "carol", "100000", "-"}) == "[0-0, [], []]");
  Reply p = c.Run({"XPENDING", "s", "g", "-", "+", "10"});
  REQUIRE(p.size() == 4);
  CHECK(p[0][3].integer == 2);  // 3-0: delivered, then claimed
  CHECK(p[2][3].integer == 1);  // 5-0: JUSTID does not count
  CHECK(Do(c, {"XPENDING", "s", "g"}) == "[:4, 3-0, 6-0, [[alice, 1], [bob, 3]]]");
  CHECK(c.Run({"XINFO", "CONSUMERS", "s", "g"}).size() == 2);  // no carol
  const std::string_view bad_count = "!ERR COUNT must be > 0";
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "0"}) == bad_count);
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "x"}) == bad_count);
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "922337203685477580"}) ==
        bad_count);
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "1000000000000000"}) ==
        "!ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "x", "0"}) ==
        "!ERR Invalid min-idle-time argument for XAUTOCLAIM");
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "x"}) == kInvalidId);
  CHECK(Do(c, {"XAUTOCLAIM", "s", "g", "bob", "0", "0", "JUSTID", "foo"}) == kSyntax);
  CHECK(Do(c, {"XAUTOCLAIM", "nokey", "g", "bob", "0", "0"}) ==
        "!NOGROUP No such key 'nokey' or consumer group 'g'");
  CHECK(Do(c, {"XAUTOCLAIM", "nokey", "g", "bob", "x", "0"}) ==
        "!ERR Invalid min-idle-time argument for XAUTOCLAIM");  // arguments first
}

// ---------------------------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: XINFO STREAM, FULL, GROUPS and CONSUMERS") {
  Client c;
  Fill(c, "s", 1, 3);
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  c.Run({"XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"});
  CHECK(Do(c, {"XINFO", "STREAM", "s"}) ==
        "[length, :3, radix-tree-keys, :1, radix-tree-nodes, :2, last-generated-id, 3-0, "
        "max-deleted-entry-id, 0-0, entries-added, :3, recorded-first-entry-id, 1-0, groups, :1, "
        "first-entry, " +
            Entry(1) + ", last-entry, " + Entry(3) + "]");
  CHECK(Do(c, {"XINFO", "GROUPS", "s"}) ==
        "[[name, g, consumers, :1, pending, :2, last-delivered-id, 2-0, entries-read, :2, lag, "
        ":1]]");
  Reply consumers = c.Run({"XINFO", "CONSUMERS", "s", "g"});
  REQUIRE(consumers.size() == 1);
  REQUIRE(consumers[0].size() == 8);
  CHECK(consumers[0][4] == "idle");
  CHECK(consumers[0][6] == "inactive");
  Reply full = c.Run({"XINFO", "STREAM", "s", "FULL", "COUNT", "1"});
  REQUIRE(full.size() == 18);
  CHECK(full[14] == "entries");
  CHECK(full[15].Dump() == "[" + Entry(1) + "]");
  const Reply& group = full[17][0];
  CHECK(group[9].integer == 2);  // pel-count
  CHECK(group[11].size() == 1);  // pending, cut to COUNT
  CHECK(group[11][0][1] == "alice");
  const Reply& alice = group[13][0];
  CHECK(alice[0] == "name");
  CHECK(alice[6] == "pel-count");
  CHECK(alice[7].integer == 2);
  CHECK(alice[9].size() == 1);  // pending, cut to COUNT
  CHECK(c.Run({"XINFO", "STREAM", "s", "FULL"})[15].size() == 3);
  CHECK(c.Run({"XINFO", "STREAM", "s", "FULL", "COUNT", "0"})[15].size() == 3);
  // Lag and entries-read become unknown (nil) behind a deletion.
  CHECK(Do(c, {"XDEL", "s", "3-0"}) == ":1");
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g2", "1-0"}) == "OK");
  CHECK(c.Run({"XINFO", "GROUPS", "s"})[1].Dump() ==
        "[name, g2, consumers, :0, pending, :0, last-delivered-id, 1-0, entries-read, (nil), "
        "lag, (nil)]");
  CHECK(Do(c, {"XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"}) == "OK");
  CHECK(Do(c, {"XINFO", "STREAM", "e"}).ends_with("first-entry, (nil), last-entry, (nil)]"));
}

TEST_CASE("streams: XINFO errors and HELP") {
  Client c;
  Fill(c, "s", 1, 1);
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  const std::string_view bad_stream =
      "!ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.";
  CHECK(Do(c, {"XINFO", "STREAM", "nokey"}) == "!ERR no such key");
  CHECK(Do(c, {"XINFO", "STREAM", "nokey", "FULL", "COUNT", "x"}) == "!ERR no such key");
  CHECK(Do(c, {"XINFO", "STREAM", "str"}) == kWrongType);
  CHECK(Do(c, {"XINFO", "STREAM", "s", "foo"}) == bad_stream);
  CHECK(Do(c, {"XINFO", "STREAM", "s", "FULL", "COUNT"}) == bad_stream);
  CHECK(Do(c, {"XINFO", "STREAM", "s", "FULL", "FOO", "1"}) == bad_stream);
  CHECK(Do(c, {"XINFO", "STREAM", "s", "FULL", "COUNT", "x"}) == kNotInt);
  CHECK(Do(c, {"XINFO", "GROUPS", "nokey"}) == "!ERR no such key");
  CHECK(Do(c, {"XINFO", "CONSUMERS", "s", "nog"}) ==
        "!NOGROUP No such consumer group 'nog' for key name 's'");
  CHECK(Do(c, {"XINFO", "CONSUMERS", "s"}) ==
        "!ERR wrong number of arguments for 'xinfo|consumers' command");
  CHECK(Do(c, {"XINFO", "FOO"}) == "!ERR unknown subcommand 'FOO'. Try XINFO HELP.");
  Reply help = c.Run({"XINFO", "HELP"});
  REQUIRE(help.size() == 9);
  CHECK(help[5] == "STREAM <key> [FULL [COUNT <count>]");
}

// ---------------------------------------------------------------------------------------------
// RESP3
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: RESP3 maps and nulls") {
  Client c;
  Fill(c, "r3", 1, 2);
  Resp3 r;
  CHECK(r({"XREAD", "STREAMS", "r3", "1"}) ==
        "%1\r\n$2\r\nr3\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$2\r\nv2\r\n");
  CHECK(r({"XREAD", "STREAMS", "r3", "$"}) == "_\r\n");
  CHECK(r({"XRANGE", "r3", "-", "+", "COUNT", "0"}) == "_\r\n");
  CHECK(r({"XADD", "none", "NOMKSTREAM", "*", "f", "v"}) == "_\r\n");
  CHECK(r({"XGROUP", "CREATE", "r3", "g", "0"}) == "+OK\r\n");
  CHECK(r({"XPENDING", "r3", "g"}) == "*4\r\n:0\r\n_\r\n_\r\n_\r\n");
  CHECK(r({"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "r3", ">"})
            .starts_with("%1\r\n$2\r\nr3\r\n*1\r\n"));
  CHECK(r({"XDEL", "r3", "1-0"}) == ":1\r\n");
  CHECK(r({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "r3", "0"}) ==
        "%1\r\n$2\r\nr3\r\n*1\r\n*2\r\n$3\r\n1-0\r\n_\r\n");
  CHECK(
      r({"XINFO", "GROUPS", "r3"}) ==
      "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n"
      "$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n");
  CHECK(r({"XADD", "r3", "3-0", "f", "v3"}) == "$3\r\n3-0\r\n");
  CHECK(r({"XADD", "r3", "4-0", "f", "v4"}) == "$3\r\n4-0\r\n");
  CHECK(r({"XDEL", "r3", "3-0"}) == ":1\r\n");
  CHECK(r({"XGROUP", "CREATE", "r3", "g2", "2-0", "ENTRIESREAD", "-1"}) == "+OK\r\n");
  CHECK(r({"XINFO", "GROUPS", "r3"})
            .ends_with(
                "$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n_\r\n"));  // unknown behind a deletion
  CHECK(r({"XINFO", "STREAM", "r3"}).starts_with("%10\r\n$6\r\nlength\r\n:2\r\n"));
  CHECK(r({"XINFO", "STREAM", "r3", "FULL"}).starts_with("%9\r\n"));
  CHECK(r({"XINFO", "CONSUMERS", "r3", "g"}).starts_with("*1\r\n%4\r\n$4\r\nname\r\n$1\r\nc\r\n"));
  CHECK(r({"XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"}) == "+OK\r\n");
  CHECK(r({"XINFO", "STREAM", "empty"})
            .ends_with("$11\r\nfirst-entry\r\n_\r\n$10\r\nlast-entry\r\n_\r\n"));
}

// ---------------------------------------------------------------------------------------------
// Generic commands on streams, WRONGTYPE, concurrency
// ---------------------------------------------------------------------------------------------

TEST_CASE("streams: TYPE, OBJECT ENCODING, DEL, RENAME, COPY and EXPIRE on a stream") {
  Client c;
  Fill(c, "s", 1, 3);
  CHECK(Do(c, {"XGROUP", "CREATE", "s", "g", "0"}) == "OK");
  c.Run({"XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"});
  CHECK(Do(c, {"TYPE", "s"}) == "stream");
  CHECK(Do(c, {"OBJECT", "ENCODING", "s"}) == "stream");
  CHECK(Do(c, {"COPY", "s", "copy"}) == ":1");
  CHECK(Do(c, {"XADD", "s", "4-0", "f", "v4"}) == "4-0");
  CHECK(Do(c, {"XLEN", "copy"}) == ":3");  // a deep copy
  CHECK(Do(c, {"XPENDING", "copy", "g"}) == "[:3, 1-0, 3-0, [[alice, 3]]]");
  CHECK(Do(c, {"RENAME", "copy", "moved"}) == "OK");
  CHECK(Do(c, {"XRANGE", "moved", "-", "+", "COUNT", "1"}) == "[" + Entry(1) + "]");
  CHECK(Do(c, {"PEXPIRE", "moved", "100"}) == ":1");
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  CHECK(Do(c, {"XLEN", "moved"}) == ":0");
  CHECK(Do(c, {"EXISTS", "moved"}) == ":0");
  CHECK(Do(c, {"DEL", "s"}) == ":1");
  CHECK(Do(c, {"TYPE", "s"}) == "none");
}

TEST_CASE("streams: every stream command on a string key is WRONGTYPE") {
  Client c;
  CHECK(Do(c, {"SET", "str", "x"}) == "OK");
  const std::vector<std::vector<std::string>> cmds = {
      {"XADD", "str", "*", "f", "v"},
      {"XRANGE", "str", "-", "+"},
      {"XREVRANGE", "str", "+", "-"},
      {"XLEN", "str"},
      {"XDEL", "str", "1-0"},
      {"XTRIM", "str", "MAXLEN", "1"},
      {"XSETID", "str", "1-0"},
      {"XREAD", "STREAMS", "str", "0"},
      {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"},
      {"XGROUP", "CREATE", "str", "g", "0"},
      {"XGROUP", "SETID", "str", "g", "0"},
      {"XGROUP", "DESTROY", "str", "g"},
      {"XGROUP", "CREATECONSUMER", "str", "g", "c"},
      {"XGROUP", "DELCONSUMER", "str", "g", "c"},
      {"XACK", "str", "g", "1-0"},
      {"XPENDING", "str", "g"},
      {"XCLAIM", "str", "g", "c", "0", "1-0"},
      {"XAUTOCLAIM", "str", "g", "c", "0", "0"},
      {"XINFO", "STREAM", "str"},
      {"XINFO", "GROUPS", "str"},
      {"XINFO", "CONSUMERS", "str", "g"},
  };
  for (const auto& cmd : cmds) {
    CAPTURE(cmd[0]);
    CAPTURE(cmd[1]);
    CHECK(c.Run(cmd).Dump() == kWrongType);
  }
  CHECK(Do(c, {"GET", "str"}) == "x");
}

TEST_CASE("streams: COMMAND reports the stream commands and XREAD's keys") {
  Client c;
  Reply info = c.Run({"COMMAND", "INFO", "xadd", "xreadgroup", "xgroup"});
  REQUIRE(info.size() == 3);
  CHECK(info[0][0] == "xadd");
  CHECK(info[0][1].integer == -5);
  CHECK(info[1][1].integer == -7);
  CHECK(Do(c, {"COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"}) ==
        "[a, b]");
  CHECK(Do(c, {"COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "streams", "c", "STREAMS", "k", ">"}) ==
        "[k]");
}

TEST_CASE("streams: concurrent producers on many connections get unique, ordered IDs") {
  constexpr int kClients = 8, kPerClient = 300;
  Client c;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> ids(kClients);
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      Client c(SharedServer().port(), false);
      c.Run({"SELECT", "9"});
      for (int i = 0; i < kPerClient; ++i) c.Send({"XADD", "conc", "*", "t", std::to_string(t)});
      for (int i = 0; i < kPerClient; ++i) ids[t].push_back(c.Read().str);
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> unique;
  for (auto& v : ids) unique.insert(v.begin(), v.end());
  CHECK(unique.size() == kClients * kPerClient);
  CHECK(c.Run({"XLEN", "conc"}).integer == kClients * kPerClient);
  // Each connection's IDs come back in the stream in the order it added them.
  Reply all = c.Run({"XRANGE", "conc", "-", "+"});
  REQUIRE(all.size() == kClients * kPerClient);
  std::vector<size_t> next(kClients, 0);
  for (const Reply& e : all.elements) {
    int t = std::stoi(e[1][1].str);
    REQUIRE(next[t] < ids[t].size());
    CHECK(e[0].str == ids[t][next[t]++]);
  }
}

}  // namespace runnel::test
