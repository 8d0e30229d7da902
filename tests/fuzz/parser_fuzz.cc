// libFuzzer target for the request parser. The first input byte picks the limits and where the
// rest is split; the rest is parsed as one buffer, in two pieces, and (if short) one byte at a
// time. Beyond the sanitizers' checks, the runs must agree with each other: feeding the same
// bytes in pieces may only change the outcome by hitting a too-big limit earlier.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "resp/parser.h"
#include "fuzz_check.h"

namespace {

using runnel::resp::Parser;
using runnel::resp::ParserLimits;
using runnel::resp::ParseStatus;

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  ParseStatus last = ParseStatus::kIncomplete;
  std::string error;
};

bool IsTooBig(std::string_view error) { return error.starts_with("too big"); }

bool IsKnownError(std::string_view e) {
  return e == "invalid multibulk length" || e == "unauthenticated multibulk length" ||
         e == "invalid bulk length" || e == "unauthenticated bulk length" ||
         e == "too big mbulk count string" || e == "too big bulk count string" ||
         e == "too big inline request" || e == "unbalanced quotes in request" ||
         (e.starts_with("expected '$', got '") && e.size() == 21 && e.back() == '\'');
}

// Parses as many commands as `buf` holds, checking the parser's promises on each call, and
// erases what was consumed. Returns false once the parser reports an error.
bool Drain(Parser& parser, std::string& buf, Outcome& out) {
  while (true) {
    size_t consumed = 12345;
    ParseStatus status = parser.Parse(buf.data(), buf.size(), &consumed);
    out.last = status;
    if (status == ParseStatus::kIncomplete) {
      FUZZ_CHECK(consumed == 0);
      FUZZ_CHECK(parser.args().empty());
      FUZZ_CHECK(parser.bytes_needed() == 0 || parser.bytes_needed() > buf.size());
      return true;
    }
    if (status == ParseStatus::kError) {
      out.error = std::string(parser.error());
      FUZZ_CHECK(IsKnownError(out.error));
      return false;
    }
    // Every command takes at least one byte, or a caller's loop would never end.
    FUZZ_CHECK(consumed > 0 && consumed <= buf.size());
    std::vector<std::string> args;
    for (std::string_view a : parser.args()) {
      FUZZ_CHECK(a.data() >= buf.data());
      FUZZ_CHECK(a.data() + a.size() <= buf.data() + consumed);
      args.emplace_back(a);  // reads every byte, so ASan sees any stray view
    }
    out.commands.push_back(std::move(args));
    buf.erase(0, consumed);
  }
}

// Feeds `input` in pieces ending at each of `cuts` (then the rest), moving the unconsumed bytes
// into a new buffer each time as a connection compacting its buffer would.
Outcome Feed(const ParserLimits& limits, std::string_view input, const std::vector<size_t>& cuts) {
  Parser parser(limits);
  Outcome out;
  std::string buf;
  size_t fed = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    if (end < fed) continue;
    std::string next = buf;
    next.append(input.substr(fed, end - fed));
    buf.swap(next);
    fed = end;
    if (!Drain(parser, buf, out)) break;
  }
  return out;
}

// A run fed in pieces must match the whole-buffer run, except that a too-big limit may trip
// before the terminator arrives; then its commands are a prefix of the whole run's.
void CheckAgrees(const Outcome& whole, const Outcome& pieces) {
  if (pieces.last == ParseStatus::kError && IsTooBig(pieces.error)) {
    FUZZ_CHECK(pieces.commands.size() <= whole.commands.size());
    for (size_t i = 0; i < pieces.commands.size(); ++i) {
      FUZZ_CHECK(pieces.commands[i] == whole.commands[i]);
    }
    return;
  }
  FUZZ_CHECK(pieces.commands == whole.commands);
  FUZZ_CHECK(pieces.last == whole.last);
  FUZZ_CHECK(pieces.error == whole.error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t control = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  // Small limits let short inputs reach every limit check.
  ParserLimits limits;
  if (control & 0x80) limits.max_inline_len = 24;
  if (control & 0x40) limits.max_bulk_len = 40;
  if (control & 0x20) limits.max_multibulk_len = 6;
  limits.unauthenticated = (control & 0x10) != 0;

  Outcome whole = Feed(limits, input, {});
  size_t split = input.empty() ? 0 : (control & 0x0f) * input.size() / 15;
  CheckAgrees(whole, Feed(limits, input, {split}));
  if (input.size() <= 512) {
    std::vector<size_t> every_byte;
    for (size_t i = 1; i < input.size(); ++i) every_byte.push_back(i);
    CheckAgrees(whole, Feed(limits, input, every_byte));
  }
  return 0;
}
