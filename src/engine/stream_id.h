// StreamId: a stream entry's ID, "<ms>-<seq>", two unsigned 64-bit numbers ordered as a pair;
// with its text form.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace runnel::engine {

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  auto operator<=>(const StreamId&) const = default;
  static constexpr StreamId Min() { return {0, 0}; }
  static constexpr StreamId Max() { return {UINT64_MAX, UINT64_MAX}; }
  bool IsZero() const { return ms == 0 && seq == 0; }
  // The next / previous ID in order; false (and no change) at the end of the ID space.
  bool Increment();
  bool Decrement();
  // "<ms>-<seq>" into buf (at least kMaxText bytes); returns the length.
  static constexpr size_t kMaxText = 42;
  size_t Format(char* buf) const;
  std::string ToString() const;
};

// Parses "<ms>" or "<ms>-<seq>" as Redis does (each part an unsigned 64-bit number). When the
// sequence is missing it is `missing_seq` and *seq_given (if not null) is false. Also accepts
// "<ms>-*" when seq_auto is not null (then *seq_auto is true). Returns false if malformed.
bool ParseStreamId(std::string_view s, uint64_t missing_seq, StreamId* id,
                   bool* seq_given = nullptr, bool* seq_auto = nullptr);

// Parses an unsigned 64-bit decimal number with the leniency of Redis's string2ull (it falls
// back to strtoull for values a signed parse rejects).
bool ParseStreamNumber(std::string_view s, uint64_t* out);

}  // namespace runnel::engine
