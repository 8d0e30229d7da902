// Tests of the reply encoder (RESP2 and RESP3, byte for byte) and the output block chain.
#include "resp/reply.h"

#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "resp/out_buffer.h"

namespace runnel::resp {
namespace {

using namespace std::string_literals;

// Runs `write` against a fresh writer speaking `protocol` and returns the bytes it produced.
template <typename F>
std::string Encode(int protocol, F write) {
  OutBuffer out;
  ReplyWriter w(&out, protocol);
  write(w);
  return out.ToString();
}

std::string Resp2(auto write) { return Encode(2, write); }
std::string Resp3(auto write) { return Encode(3, write); }

std::string Printf17g(double v) {
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  return std::string(buf, static_cast<size_t>(n));
}

std::string FormatDoubleString(double v) {
  char buf[32];
  return std::string(buf, FormatDouble(v, buf, sizeof(buf)));
}

// Collects what Gather reports, as a writev would send it.
std::string Gathered(const OutBuffer& out, int max = 64) {
  std::vector<iovec> iov(static_cast<size_t>(max));
  int n = out.Gather(iov.data(), max);
  std::string s;
  for (int i = 0; i < n; ++i) s.append(static_cast<char*>(iov[i].iov_base), iov[i].iov_len);
  return s;
}

TEST_CASE("reply: simple strings, errors and integers are the same in both protocols") {
  for (int protocol : {2, 3}) {
    CAPTURE(protocol);
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Ok(); }) == "+OK\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Simple("PONG"); }) == "+PONG\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Simple(""); }) == "+\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Error("ERR syntax error"); }) ==
          "-ERR syntax error\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Error("ERR bad\r\nline\rx\ny"); }) ==
          "-ERR bad  line x y\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Integer(0); }) == ":0\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Integer(42); }) == ":42\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Integer(-7); }) == ":-7\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Integer(INT64_MAX); }) ==
          ":9223372036854775807\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Integer(INT64_MIN); }) ==
          ":-9223372036854775808\r\n");
  }
}

TEST_CASE("reply: integers of every digit count") {
  int64_t v = 1;
  for (int digits = 1; digits <= 18; ++digits, v *= 10) {
    for (int64_t x : {v, v - 1, -v, 9 * v}) {
      CHECK(Resp2([x](ReplyWriter& w) { w.Integer(x); }) == ":" + std::to_string(x) + "\r\n");
    }
  }
}

TEST_CASE("reply: bulk strings") {
  for (int protocol : {2, 3}) {
    CAPTURE(protocol);
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Bulk("hello"); }) == "$5\r\nhello\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Bulk(""); }) == "$0\r\n\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Bulk("a\r\n\0b"s); }) == "$5\r\na\r\n\0b\r\n"s);
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.BulkInt(-123); }) == "$4\r\n-123\r\n");
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.BulkInt(INT64_MIN); }) ==
          "$20\r\n-9223372036854775808\r\n");
    for (size_t size : {511, 512, 513, 16 * 1024 - 8, 16 * 1024, 100000}) {
      std::string s(size, 'x');
      CHECK(Encode(protocol, [&](ReplyWriter& w) { w.Bulk(s); }) ==
            "$" + std::to_string(size) + "\r\n" + s + "\r\n");
    }
    CHECK(Encode(protocol, [](ReplyWriter& w) { w.Raw("+raw\r\n"); }) == "+raw\r\n");
  }
}

TEST_CASE("reply: nulls") {
  CHECK(Resp2([](ReplyWriter& w) { w.Null(); }) == "$-1\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.Null(); }) == "_\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.NullArray(); }) == "*-1\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.NullArray(); }) == "_\r\n");
}

TEST_CASE("reply: aggregate headers") {
  CHECK(Resp2([](ReplyWriter& w) { w.ArrayHeader(3); }) == "*3\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.ArrayHeader(3); }) == "*3\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.EmptyArray(); }) == "*0\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.EmptyArray(); }) == "*0\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.MapHeader(2); }) == "*4\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.MapHeader(2); }) == "%2\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.MapHeader(0); }) == "*0\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.SetHeader(5); }) == "*5\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.SetHeader(5); }) == "~5\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.PushHeader(3); }) == "*3\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.PushHeader(3); }) == ">3\r\n");
  CHECK(Resp3([](ReplyWriter& w) {
          w.MapHeader(1);
          w.Bulk("k");
          w.ArrayHeader(2);
          w.Integer(1);
          w.Null();
        }) == "%1\r\n$1\r\nk\r\n*2\r\n:1\r\n_\r\n");
}

TEST_CASE("reply: doubles") {
  CHECK(Resp3([](ReplyWriter& w) { w.Double(1.5); }) == ",1.5\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.Double(1.5); }) == "$3\r\n1.5\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.Double(3); }) == ",3\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.Double(3); }) == "$1\r\n3\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.Double(0.1); }) == ",0.1\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.Double(-0x1p-20); }) == "$19\r\n-9.5367431640625e-7\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.Double(1e17); }) == ",100000000000000000\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.Double(-0.0); }) == ",-0\r\n");
  double inf = std::numeric_limits<double>::infinity();
  CHECK(Resp3([=](ReplyWriter& w) { w.Double(inf); }) == ",inf\r\n");
  CHECK(Resp3([=](ReplyWriter& w) { w.Double(-inf); }) == ",-inf\r\n");
  CHECK(Resp2([=](ReplyWriter& w) { w.Double(inf); }) == "$3\r\ninf\r\n");
  CHECK(Resp2([=](ReplyWriter& w) { w.Double(-inf); }) == "$4\r\n-inf\r\n");
  double nan = std::nan("");
  CHECK(Resp3([=](ReplyWriter& w) { w.Double(nan); }) == ",nan\r\n");
  CHECK(Resp3([=](ReplyWriter& w) { w.Double(-nan); }) == ",nan\r\n");
  CHECK(Resp2([=](ReplyWriter& w) { w.Double(nan); }) == "$3\r\nnan\r\n");
}

TEST_CASE("reply: FormatDouble prints scores as Redis 7.2 does") {
  const std::vector<std::pair<double, std::string>> cases = {
      {0.0, "0"},
      {1.0, "1"},
      {-1.0, "-1"},
      {1.5, "1.5"},
      {-0.5, "-0.5"},
      {0.1, "0.1"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1.0 / 3, "0.3333333333333333"},
      {123.456, "123.456"},
      {1e16, "10000000000000000"},
      {1e17, "100000000000000000"},
      {4611686018427387904.0, "4611686018427387904"},  // 2^62: still an integer
      {9223372036854775808.0, "9223372036854776000"},  // 2^63: shortest digits, padded
      {5e18, "5e+18"},
      {1e21, "1e+21"},
      {-1e300, "-1e+300"},
      {1e-5, "0.00001"},
      {0.001234, "0.001234"},
      {0.0001234, "1.234e-4"},
      {1e-7, "1e-7"},
      {1.5e-7, "1.5e-7"},
      {-0x1p-20, "-9.5367431640625e-7"},
      {5e-324, "5e-324"},
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
  };
  for (const auto& [v, text] : cases) {
    CAPTURE(v);
    CHECK(FormatDoubleString(v) == text);
  }
  // Anything else reads back exactly, in no more digits than the shortest form needs.
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(-1e6, 1e6);
  std::vector<double> values;
  for (int i = 0; i < 2000; ++i) values.push_back(uniform(rng));
  for (int i = 0; i < 2000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    if (std::isfinite(d)) values.push_back(d);
  }
  for (double v : values) {
    CAPTURE(v);
    const std::string text = FormatDoubleString(v);
    CHECK(std::strtod(text.c_str(), nullptr) == v);
    char shortest[64];
    auto res = std::to_chars(shortest, shortest + sizeof(shortest), v,
                             std::chars_format::scientific);
    const std::string sci(shortest, res.ptr);
    auto digit_count = [](std::string_view t) {
      size_t e = t.find('e');
      std::string_view mantissa = t.substr(0, e);
      size_t n = 0;
      for (char c : mantissa) n += (c >= '0' && c <= '9') ? 1 : 0;
      return n;
    };
    if (text.find('e') != std::string::npos) CHECK(digit_count(text) == digit_count(sci));
  }
  char small[2];
  CHECK(FormatDouble(1.5, small, sizeof(small)) == 0);
}

TEST_CASE("reply: booleans") {
  CHECK(Resp3([](ReplyWriter& w) { w.Bool(true); }) == "#t\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.Bool(false); }) == "#f\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.Bool(true); }) == ":1\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.Bool(false); }) == ":0\r\n");
}

TEST_CASE("reply: verbatim strings") {
  CHECK(Resp3([](ReplyWriter& w) { w.Verbatim("txt", "Some string"); }) ==
        "=15\r\ntxt:Some string\r\n");
  CHECK(Resp3([](ReplyWriter& w) { w.Verbatim("mkd", ""); }) == "=4\r\nmkd:\r\n");
  CHECK(Resp2([](ReplyWriter& w) { w.Verbatim("txt", "Some string"); }) ==
        "$11\r\nSome string\r\n");
}

TEST_CASE("reply: protocol and buffer can be switched") {
  OutBuffer a;
  OutBuffer b;
  ReplyWriter w(&a, 2);
  w.Null();
  w.set_protocol(3);
  CHECK(w.protocol() == 3);
  w.Null();
  w.set_buffer(&b);
  CHECK(w.buffer() == &b);
  w.Bool(true);
  CHECK(a.ToString() == "$-1\r\n_\r\n");
  CHECK(b.ToString() == "#t\r\n");
}

TEST_CASE("reply: replies straddling block boundaries stay intact") {
  OutBuffer out;
  ReplyWriter w(&out, 3);
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    w.Integer(i * 1000003LL);
    expected += ":" + std::to_string(i * 1000003LL) + "\r\n";
    w.Bulk(std::string(static_cast<size_t>(i % 700), 'b'));
    expected += "$" + std::to_string(i % 700) + "\r\n" + std::string(i % 700, 'b') + "\r\n";
    w.Double(i + 0.25);
    expected += "," + Printf17g(i + 0.25) + "\r\n";
  }
  CHECK(out.size() == expected.size());
  CHECK(out.ToString() == expected);
  CHECK(Gathered(out, 1024) == expected);
}

TEST_CASE("OutBuffer: a large append spans several blocks") {
  constexpr size_t kBlock = OutBuffer::kBlockSize;
  OutBuffer out;
  CHECK(out.empty());
  CHECK(out.Gather(nullptr, 0) == 0);
  std::string data;
  for (size_t i = 0; i < 2 * kBlock + 1000; ++i) data += static_cast<char>('a' + i % 26);
  out.Append("xy", 2);
  out.Append(data);
  CHECK(out.size() == data.size() + 2);
  iovec iov[8];
  REQUIRE(out.Gather(iov, 8) == 3);
  CHECK(iov[0].iov_len == kBlock);
  CHECK(iov[1].iov_len == kBlock);
  CHECK(iov[2].iov_len == 1002);
  // Gather stops at `max` iovecs.
  CHECK(out.Gather(iov, 2) == 2);
  CHECK(out.ToString() == "xy" + data);
}

TEST_CASE("OutBuffer: partial consumption, as after short writes") {
  constexpr size_t kBlock = OutBuffer::kBlockSize;
  OutBuffer out;
  std::string data;
  for (size_t i = 0; i < 3 * kBlock; ++i) data += static_cast<char>(i * 7);
  out.Append(data);
  size_t sent = 0;
  for (size_t step : {size_t{1}, size_t{100}, kBlock - 101, size_t{5}, kBlock, kBlock - 10}) {
    out.Consume(step);
    sent += step;
    CHECK(out.size() == data.size() - sent);
    CHECK(Gathered(out) == data.substr(sent));
    CHECK(out.ToString() == data.substr(sent));
  }
  iovec iov[4];
  REQUIRE(out.Gather(iov, 4) == 1);
  CHECK(iov[0].iov_len == 5);
  out.Consume(5);
  CHECK(out.empty());
  CHECK(out.Gather(iov, 4) == 0);
  // The buffer is usable again after draining.
  out.Append("more");
  CHECK(out.ToString() == "more");
}

TEST_CASE("OutBuffer: Reserve and Commit") {
  OutBuffer out;
  std::string filler(OutBuffer::kBlockSize - 3, 'f');
  out.Append(filler);
  // Too little room left in the tail: Reserve must hand out a new contiguous block.
  char* p = out.Reserve(10);
  std::memcpy(p, "0123456789", 10);
  out.Commit(10);
  CHECK(out.ToString() == filler + "0123456789");
  // Reserving and committing nothing leaves no trace in Gather.
  out.Reserve(OutBuffer::kBlockSize);
  out.Commit(0);
  CHECK(Gathered(out) == filler + "0123456789");
  out.Consume(out.size());
  CHECK(out.empty());
}

TEST_CASE("OutBuffer: Splice moves content") {
  OutBuffer a;
  OutBuffer b;
  a.Append("head:");
  b.Append("small");
  a.Splice(b);
  CHECK(b.empty());
  CHECK(a.ToString() == "head:small");
  std::string big(3 * OutBuffer::kBlockSize, 'z');
  b.Append(big);
  b.Consume(7);
  a.Splice(b);
  CHECK(b.empty());
  CHECK(b.Gather(nullptr, 0) == 0);
  CHECK(a.size() == 10 + big.size() - 7);
  CHECK(a.ToString() == "head:small" + big.substr(7));
  a.Append("!");
  CHECK(a.ToString() == "head:small" + big.substr(7) + "!");
  OutBuffer empty;
  empty.Splice(a);
  CHECK(a.empty());
  CHECK(empty.size() == 11 + big.size() - 7);
  // b still works after giving its blocks away.
  b.Append("again");
  CHECK(b.ToString() == "again");
}

TEST_CASE("OutBuffer: Clear and reuse across threads") {
  OutBuffer out;
  out.Append(std::string(5 * OutBuffer::kBlockSize, 'c'));
  out.Clear();
  CHECK(out.empty());
  CHECK(out.ToString().empty());
  // Blocks pooled by a thread are released when it exits; the leak checker would notice if not.
  std::thread t([] {
    OutBuffer local;
    for (int i = 0; i < 3; ++i) {
      local.Append(std::string(100 * OutBuffer::kBlockSize, 'd'));
      local.Clear();
    }
  });
  t.join();
}

}  // namespace
}  // namespace runnel::resp
