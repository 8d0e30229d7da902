// Tests of the RESP request parser: Redis 7's acceptance rules, error texts and resumption.
#include "resp/parser.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

namespace runnel::resp {
namespace {

using Args = std::vector<std::string>;
using namespace std::string_literals;

struct Result {
  ParseStatus status;
  size_t consumed = 0;
  Args args;
  std::string error;
};

// Parses the front of `buf` (which the parser may rewrite, as inline unescaping does).
Result ParseOnce(Parser& parser, std::string& buf) {
  Result r;
  r.status = parser.Parse(buf.data(), buf.size(), &r.consumed);
  for (std::string_view a : parser.args()) {
    // Arguments must be views into the caller's buffer, never copies.
    CHECK(a.data() >= buf.data());
    CHECK(a.data() + a.size() <= buf.data() + buf.size());
    r.args.emplace_back(a);
  }
  r.error = std::string(parser.error());
  return r;
}

Result ParseOnce(std::string buf, ParserLimits limits = {}) {
  Parser parser(limits);
  return ParseOnce(parser, buf);
}

std::string ErrorOf(std::string buf, ParserLimits limits = {}) {
  Result r = ParseOnce(std::move(buf), limits);
  CHECK(r.status == ParseStatus::kError);
  return r.error;
}

// Feeds `stream` to a parser `chunk` bytes at a time the way a connection does: parse as many
// commands as are complete, then move the unconsumed bytes to the front of a new buffer.
std::vector<Args> FeedInChunks(const std::string& stream, size_t chunk) {
  Parser parser;
  std::vector<Args> commands;
  std::string buf;
  size_t fed = 0;
  while (fed < stream.size()) {
    size_t n = std::min(chunk, stream.size() - fed);
    // A fresh allocation each time, so a stale pointer into the old buffer would be caught.
    std::string next = buf + stream.substr(fed, n);
    buf.swap(next);
    fed += n;
    while (true) {
      Result r = ParseOnce(parser, buf);
      REQUIRE(r.status != ParseStatus::kError);
      if (r.status == ParseStatus::kIncomplete) {
        CHECK(r.consumed == 0);
        break;
      }
      commands.push_back(r.args);
      buf.erase(0, r.consumed);
    }
  }
  CHECK(buf.empty());
  return commands;
}

std::string Multibulk(const Args& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

TEST_CASE("parser: multibulk command") {
  Result r = ParseOnce("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  CHECK(r.status == ParseStatus::kOk);
  CHECK(r.consumed == 33);
  CHECK(r.args == Args{"SET", "key", "value"});
}

TEST_CASE("parser: bulk payload is binary safe") {
  std::string payload = "a\r\nb\0c\r\n"s;
  Result r = ParseOnce(Multibulk({"SET", payload, std::string(3, '\0')}));
  CHECK(r.status == ParseStatus::kOk);
  CHECK(r.args == Args{"SET", payload, std::string(3, '\0')});
}

TEST_CASE("parser: empty bulk and empty commands") {
  CHECK(ParseOnce("*2\r\n$0\r\n\r\n$0\r\n\r\n").args == Args{"", ""});
  for (std::string s : {"*0\r\n", "*-1\r\n", "*-7\r\n", "\r\n", "\n", "   \t \r\n"}) {
    Result r = ParseOnce(s);
    CHECK(r.status == ParseStatus::kOk);
    CHECK(r.consumed == s.size());
    CHECK(r.args.empty());
  }
}

TEST_CASE("parser: pipelined commands are consumed one at a time") {
  std::string buf = "*1\r\n$4\r\nPING\r\nECHO hi\r\n*0\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n";
  Parser parser;
  std::vector<Args> seen;
  while (true) {
    Result r = ParseOnce(parser, buf);
    if (r.status != ParseStatus::kOk) {
      CHECK(r.status == ParseStatus::kIncomplete);
      break;
    }
    seen.push_back(r.args);
    buf.erase(0, r.consumed);
  }
  CHECK(seen == std::vector<Args>{{"PING"}, {"ECHO", "hi"}, {}, {"GET", "k"}});
  CHECK(buf == "*1\r\n");
}

TEST_CASE("parser: the two bytes after a payload are skipped unchecked, as in Redis") {
  Result r = ParseOnce("*2\r\n$3\r\nfooXY$3\r\nbar\r\n");
  CHECK(r.status == ParseStatus::kOk);
  CHECK(r.args == Args{"foo", "bar"});
  // Likewise only the '\r' of a count line is looked for.
  r = ParseOnce("*1\rX$1\r\na\r\n");
  CHECK(r.args == Args{"a"});
}

TEST_CASE("parser: invalid multibulk length") {
  for (std::string count : {"", "abc", "+1", "01", "-0", " 1", "1 ", "1x", "0x10", "--1",
                            "99999999999999999999", "2147483648"}) {
    CAPTURE(count);
    CHECK(ErrorOf("*" + count + "\r\n") == "invalid multibulk length");
  }
  ParserLimits limits;
  limits.max_multibulk_len = 5;
  CHECK(ErrorOf("*6\r\n", limits) == "invalid multibulk length");
  CHECK(ParseOnce("*5\r\n", limits).status == ParseStatus::kIncomplete);
  CHECK(ParseOnce("*2147483647\r\n").status == ParseStatus::kIncomplete);
  CHECK(ParseOnce("*-9223372036854775808\r\n").status == ParseStatus::kOk);
}

TEST_CASE("parser: unauthenticated limits") {
  ParserLimits limits;
  limits.unauthenticated = true;
  CHECK(ErrorOf("*11\r\n", limits) == "unauthenticated multibulk length");
  CHECK(ParseOnce("*10\r\n", limits).status == ParseStatus::kIncomplete);
  // A malformed count is reported as such even before AUTH.
  CHECK(ErrorOf("*x\r\n", limits) == "invalid multibulk length");
  CHECK(ErrorOf("*1\r\n$16385\r\n", limits) == "unauthenticated bulk length");
  CHECK(ParseOnce("*1\r\n$16384\r\n", limits).status == ParseStatus::kIncomplete);
  CHECK(ErrorOf("*1\r\n$-1\r\n", limits) == "invalid bulk length");
}

TEST_CASE("parser: expected '$'") {
  CHECK(ErrorOf("*1\r\n+OK\r\n") == "expected '$', got '+'");
  CHECK(ErrorOf("*2\r\n$1\r\na\r\n:1\r\n") == "expected '$', got ':'");
  CHECK(ErrorOf("*1\r\n\r\n") == "expected '$', got '\r'");
  // The check waits for the whole line, as Redis does.
  CHECK(ParseOnce("*1\r\nX").status == ParseStatus::kIncomplete);
}

TEST_CASE("parser: invalid bulk length") {
  for (std::string len :
       {"", "abc", "-1", "-0", "+3", "03", " 3", "3 ", "99999999999999999999", "536870913"}) {
    CAPTURE(len);
    CHECK(ErrorOf("*1\r\n$" + len + "\r\n") == "invalid bulk length");
  }
  ParserLimits limits;
  limits.max_bulk_len = 10;
  CHECK(ErrorOf("*1\r\n$11\r\n", limits) == "invalid bulk length");
  CHECK(ParseOnce("*1\r\n$10\r\n0123456789\r\n", limits).args == Args{"0123456789"});
}

TEST_CASE("parser: count lines without \\r are limited") {
  ParserLimits limits;
  limits.max_inline_len = 16;
  CHECK(ParseOnce("*" + std::string(15, '1'), limits).status == ParseStatus::kIncomplete);
  CHECK(ErrorOf("*" + std::string(16, '1'), limits) == "too big mbulk count string");
  CHECK(ErrorOf("*1\r\n$" + std::string(16, '1'), limits) == "too big bulk count string");
  CHECK(ParseOnce("*1\r\n$" + std::string(15, '1'), limits).status == ParseStatus::kIncomplete);
  // With a '\r' in reach, a long line is parsed and refused as a bad number instead.
  CHECK(ErrorOf("*" + std::string(30, '1') + "\r\n", limits) == "invalid multibulk length");
  // The default limit is Redis's 64 KB.
  CHECK(ErrorOf("*" + std::string(64 * 1024 + 1, '1')) == "too big mbulk count string");
  CHECK(ParseOnce("*" + std::string(64 * 1024 - 1, '1')).status == ParseStatus::kIncomplete);
}

TEST_CASE("parser: a NUL hides the rest of a line, as with Redis's strchr") {
  ParserLimits limits;
  limits.max_inline_len = 16;
  CHECK(ParseOnce("*1\0\r\n"s, limits).status == ParseStatus::kIncomplete);
  CHECK(ErrorOf("*1\0\r\n$1\r\na\r\nxxxxxxx"s, limits) == "too big mbulk count string");
  CHECK(ParseOnce("*1\r\n$1\0\r\n"s, limits).status == ParseStatus::kIncomplete);
  CHECK(ErrorOf("*1\r\n$1\0\r\nxxxxxxxxxxxxxx"s, limits) == "too big bulk count string");
  CHECK(ParseOnce("GET a\0b\r\n"s, limits).status == ParseStatus::kIncomplete);
  CHECK(ErrorOf("GET a\0b\r\nxxxxxxxxxx"s, limits) == "too big inline request");
}

TEST_CASE("parser: inline commands") {
  CHECK(ParseOnce("SET key value\r\n").args == Args{"SET", "key", "value"});
  CHECK(ParseOnce("SET key value\n").args == Args{"SET", "key", "value"});
  CHECK(ParseOnce("  PING \t  \r\n").args == Args{"PING"});
  CHECK(ParseOnce("PING").status == ParseStatus::kIncomplete);
  CHECK(ParseOnce("PING\r").status == ParseStatus::kIncomplete);
  // A '\r' that does not precede the '\n' separates arguments.
  CHECK(ParseOnce("a\rb\r\r\n").args == Args{"a", "b"});
  // '\v' and '\f' are skipped between arguments but do not end one.
  CHECK(ParseOnce("\va\vb\f c\n").args == Args{"a\vb\f", "c"});
  Result r = ParseOnce("GET a\r\nGET b\r\n");
  CHECK(r.consumed == 7);
  CHECK(r.args == Args{"GET", "a"});
}

TEST_CASE("parser: inline quoting and escapes") {
  CHECK(ParseOnce("SET \"hello world\" 'x y'\r\n").args == Args{"SET", "hello world", "x y"});
  CHECK(ParseOnce("\"a\\nb\\r\\t\\b\\a\\\\\\\"z\"\n").args == Args{"a\nb\r\t\b\a\\\"z"});
  CHECK(ParseOnce("\"\\x41\\x6a\\x4G\\q\\xff\\x00\"\n").args == Args{"Ajx4Gq\xff\0"s});
  CHECK(ParseOnce("'it\\'s' 'a\\nb\\x'\n").args == Args{"it's", "a\\nb\\x"});
  CHECK(ParseOnce("\"\" '' x\n").args == Args{"", "", "x"});
  // A quote inside an unquoted word opens a quoted part of the same argument.
  CHECK(ParseOnce("foo\"bar baz\" q'u v'\n").args == Args{"foobar baz", "qu v"});
  // A closing quote may be followed by any space, including a '\r' left in the line.
  CHECK(ParseOnce("\"a\"\t'b'\v\"c\"\r\r\n").args == Args{"a", "b", "c"});
}

TEST_CASE("parser: unbalanced quotes") {
  for (std::string line :
       {"\"abc", "'abc", "\"a\"b", "'a'b", "x \"a\"\"b\"", "\"ab\\\"", "\"ab\\", "'ab\\'"}) {
    CAPTURE(line);
    CHECK(ErrorOf(line + "\r\n") == "unbalanced quotes in request");
  }
}

TEST_CASE("parser: inline arguments are unescaped in place") {
  std::string buf = "SET \"a\\x41\" 'b\\'c'\r\n";
  Parser parser;
  size_t consumed;
  REQUIRE(parser.Parse(buf.data(), buf.size(), &consumed) == ParseStatus::kOk);
  auto args = parser.args();
  REQUIRE(args.size() == 3);
  CHECK(args[1] == "aA");
  CHECK(args[1].data() == buf.data() + 4);
  CHECK(args[2] == "b'c");
  CHECK(args[2].data() == buf.data() + 12);
}

TEST_CASE("parser: too big inline request") {
  ParserLimits limits;
  limits.max_inline_len = 16;
  CHECK(ParseOnce(std::string(16, 'a'), limits).status == ParseStatus::kIncomplete);
  CHECK(ErrorOf(std::string(17, 'a'), limits) == "too big inline request");
  CHECK(ParseOnce(std::string(40, 'a') + "\n", limits).args == Args{std::string(40, 'a')});
  CHECK(ErrorOf(std::string(64 * 1024 + 1, 'a')) == "too big inline request");
}

TEST_CASE("parser: a command split at every byte boundary") {
  std::vector<std::string> commands = {
      Multibulk({"SET", "key", "v\r\n\0x"s}),
      Multibulk({}),
      "SET \"a b\" 'c\\'d' \"\\x41\"\r\n",
      "\r\n",
  };
  for (const std::string& cmd : commands) {
    CAPTURE(cmd);
    Result whole = ParseOnce(cmd);
    REQUIRE(whole.status == ParseStatus::kOk);
    // Two pieces: the parser sees a prefix, then the whole command in a new buffer.
    for (size_t k = 0; k < cmd.size(); ++k) {
      Parser parser;
      std::string prefix = cmd.substr(0, k);
      CHECK(ParseOnce(parser, prefix).status == ParseStatus::kIncomplete);
      std::string full = cmd;
      Result r = ParseOnce(parser, full);
      CHECK(r.status == ParseStatus::kOk);
      CHECK(r.consumed == cmd.size());
      CHECK(r.args == whole.args);
    }
    // One byte at a time into one parser, each time from a new buffer.
    Parser parser;
    for (size_t k = 0; k < cmd.size(); ++k) {
      std::string prefix = cmd.substr(0, k);
      REQUIRE(ParseOnce(parser, prefix).status == ParseStatus::kIncomplete);
    }
    std::string full = cmd;
    CHECK(ParseOnce(parser, full).args == whole.args);
  }
}

TEST_CASE("parser: a pipelined stream fed in chunks of every size") {
  std::vector<Args> expected = {{"PING"}, {"SET", "k", "a\r\n\0b"s}, {"ECHO", "x y"},
                                {},       {"MGET", "a", "", "c"},    {}};
  std::string stream = Multibulk(expected[0]) + Multibulk(expected[1]) + "ECHO \"x y\"\r\n" +
                       "*0\r\n" + Multibulk(expected[4]) + "\n";
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    CAPTURE(chunk);
    CHECK(FeedInChunks(stream, chunk) == expected);
  }
}

TEST_CASE("parser: bytes_needed announces a bulk's size") {
  Parser parser;
  std::string buf = "*2\r\n$3\r\nGET\r\n$100\r\nabc";
  size_t consumed;
  CHECK(parser.Parse(buf.data(), buf.size(), &consumed) == ParseStatus::kIncomplete);
  CHECK(parser.bytes_needed() == 19 + 100 + 2);
  buf += std::string(97, 'x') + "\r";
  CHECK(parser.Parse(buf.data(), buf.size(), &consumed) == ParseStatus::kIncomplete);
  CHECK(parser.bytes_needed() == 121);
  buf += "\n";
  CHECK(parser.Parse(buf.data(), buf.size(), &consumed) == ParseStatus::kOk);
  CHECK(consumed == buf.size());
  CHECK(parser.bytes_needed() == 0);
  // Once the payload is in, a pending header no longer announces the old size.
  buf = "*2\r\n$1\r\na\r\n$";
  CHECK(parser.Parse(buf.data(), 10, &consumed) == ParseStatus::kIncomplete);
  CHECK(parser.bytes_needed() == 11);
  CHECK(parser.Parse(buf.data(), buf.size(), &consumed) == ParseStatus::kIncomplete);
  CHECK(parser.bytes_needed() == 0);
}

TEST_CASE("parser: a 100 MB bulk arriving in 64 KB pieces") {
  constexpr size_t kPayload = 100 * 1024 * 1024;
  std::string header = "*2\r\n$3\r\nSET\r\n$" + std::to_string(kPayload) + "\r\n";
  std::string buf = header + std::string(kPayload, 'v') + "\r\n";
  Parser parser;
  size_t consumed;
  size_t calls = 0;
  size_t len = 0;
  ParseStatus status = ParseStatus::kIncomplete;
  // Each call must only look at what is new, or this loop would take minutes.
  while (status == ParseStatus::kIncomplete) {
    len = std::min(buf.size(), len + 64 * 1024);
    status = parser.Parse(buf.data(), len, &consumed);
    if (status == ParseStatus::kIncomplete && len > header.size()) {
      REQUIRE(parser.bytes_needed() == buf.size());
    }
    ++calls;
  }
  CHECK(status == ParseStatus::kOk);
  CHECK(consumed == buf.size());
  CHECK(calls == (buf.size() + 64 * 1024 - 1) / (64 * 1024));
  REQUIRE(parser.args().size() == 2);
  CHECK(parser.args()[1].size() == kPayload);
  CHECK(parser.args()[1].data() == buf.data() + header.size());
}

TEST_CASE("parser: Reset drops a partial command") {
  Parser parser;
  std::string partial = "*2\r\n$3\r\nGET\r\n$";
  size_t consumed;
  CHECK(parser.Parse(partial.data(), partial.size(), &consumed) == ParseStatus::kIncomplete);
  parser.Reset();
  std::string inline_cmd = "PING\r\n";
  CHECK(ParseOnce(parser, inline_cmd).args == Args{"PING"});
}

TEST_CASE("parser: set_limits applies to the next command") {
  Parser parser;
  ParserLimits limits;
  limits.unauthenticated = true;
  parser.set_limits(limits);
  std::string big = "*20\r\n";
  CHECK(ParseOnce(parser, big).error == "unauthenticated multibulk length");
  limits.unauthenticated = false;
  parser.set_limits(limits);
  CHECK(ParseOnce(parser, big).status == ParseStatus::kIncomplete);
}

TEST_CASE("parser: a parser is reusable after an error") {
  Parser parser;
  std::string bad = "*1\r\n$x\r\n";
  CHECK(ParseOnce(parser, bad).status == ParseStatus::kError);
  std::string good = Multibulk({"PING"});
  CHECK(ParseOnce(parser, good).args == Args{"PING"});
}

}  // namespace
}  // namespace runnel::resp
