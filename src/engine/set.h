// The set value type. A set starts compact and converts to a fuller representation as it grows,
// following Redis 7.2's rules (and its OBJECT ENCODING names):
//
//   intset    every member is an integer in canonical form, at most `intset_entries` of them
//   listpack  at most `listpack_entries` members, none longer than `listpack_value` bytes
//   hashtable anything else
//
// A set never converts back by itself when it shrinks; stores of computed results may ask for
// the intset form (ConvertToIntSetIfPossible). Knows nothing of RESP; the command layer
// (commands/sets*.cc) reads the limits from the config and maps results to replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "common/util.h"
#include "engine/object.h"
#include "engine/set_members.h"

namespace runnel::engine {

// The conversion thresholds (set-max-intset-entries, set-max-listpack-entries,
// set-max-listpack-value).
struct SetLimits {
  uint64_t intset_entries = 512;
  uint64_t listpack_entries = 128;
  uint64_t listpack_value = 64;
};

class Set final : public Object {
 public:
  enum class Encoding { kIntSet, kListpack, kHashTable };

  explicit Set(Encoding e = Encoding::kIntSet);
  // A set for `first` and about `size_hint` members (SADD on a new key): an intset if `first` is
  // an integer and the hint fits one, else a listpack if the hint fits one, else a hash table.
  static std::unique_ptr<Set> Create(std::string_view first, size_t size_hint,
                                     const SetLimits& limits);

  // --- Object ---
  size_t MemoryUsage() const override;
  const char* EncodingName() const override;
  Object* Clone() const override;
  void Serialize(std::string* out) const override;
  // The inverse of Serialize (same encoding); nullptr if `data` is not a well-formed, non-empty
  // set.
  static std::unique_ptr<Set> Deserialize(std::string_view data);

  // --- Members ---
  Encoding encoding() const { return static_cast<Encoding>(rep_.index()); }
  size_t size() const;
  bool Contains(std::string_view member) const;
  // Adds a member, converting first if it would not fit the current encoding; false if it was
  // already there.
  bool Add(std::string_view member, const SetLimits& limits);
  bool Remove(std::string_view member);
  // Before adding about `size_hint` members at once: converts to a hash table if that many
  // could not fit the current encoding.
  void PrepareFor(size_t size_hint, const SetLimits& limits);
  // Converts to an intset if every member is an integer and they are few enough.
  void ConvertToIntSetIfPossible(const SetLimits& limits);
  // Converts to `to` (a hash table sized for `capacity` members). Converting to an intset
  // requires every member to be an integer.
  void Convert(Encoding to, size_t capacity = 0);

  // Calls fn(member) for every member until fn returns false; returns false if it stopped early.
  // The view lives until the next call or the next change of the set.
  template <class Fn>
  bool ForEach(Fn fn) const;
  // A random member (the set must not be empty), copied to *out.
  void RandomMember(std::mt19937_64& rng, std::string* out) const;
  // Removes a random member and returns it.
  std::string PopRandom(std::mt19937_64& rng);
  // Calls fn(member) for `n` members drawn at random with repeats, until fn returns false.
  template <class Fn>
  void Sample(uint64_t n, std::mt19937_64& rng, Fn fn) const;
  // SSCAN: compact sets are returned whole with the cursor 0; hash tables visit buckets from
  // `cursor` until about `count` members were seen (or 10 x count buckets). Returns the next
  // cursor, 0 when done.
  template <class Fn>
  uint64_t Scan(uint64_t cursor, uint64_t count, Fn fn) const;

 private:
  friend class SetLoader;
  const IntSet& ints() const { return std::get<IntSet>(rep_); }
  IntSet& ints() { return std::get<IntSet>(rep_); }
  const PackedStrings& packed() const { return std::get<PackedStrings>(rep_); }
  PackedStrings& packed() { return std::get<PackedStrings>(rep_); }
  const MemberTable& table() const { return std::get<MemberTable>(rep_); }
  MemberTable& table() { return std::get<MemberTable>(rep_); }
  bool AddToIntSet(std::string_view member, const SetLimits& limits);
  bool AddToPacked(std::string_view member, const SetLimits& limits);

  std::variant<IntSet, PackedStrings, MemberTable> rep_;
};

// Decimal text of an intset member, for callers that need members as strings.
struct IntText {
  char buf[24];
  std::string_view Of(int64_t v) { return std::string_view(buf, FormatInt64(v, buf)); }
};

template <class Fn>
bool Set::ForEach(Fn fn) const {
  switch (encoding()) {
    case Encoding::kIntSet: {
      IntText text;
      const IntSet& s = ints();
      for (size_t i = 0; i < s.size(); ++i)
        if (!fn(text.Of(s.at(i)))) return false;
      return true;
    }
    case Encoding::kListpack:
      return packed().ForEach(fn);
    default:
      return table().ForEach(fn);
  }
}

template <class Fn>
void Set::Sample(uint64_t n, std::mt19937_64& rng, Fn fn) const {
  if (encoding() == Encoding::kListpack) {
    // Walking the buffer for each draw would be quadratic: find the members once.
    std::vector<uint32_t> offsets = packed().Offsets();
    for (uint64_t i = 0; i < n; ++i)
      if (!fn(packed().At(offsets[rng() % offsets.size()]))) return;
    return;
  }
  IntText text;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view m = encoding() == Encoding::kIntSet ? text.Of(ints().at(rng() % ints().size()))
                                                         : table().Random(rng);
    if (!fn(m)) return;
  }
}

template <class Fn>
uint64_t Set::Scan(uint64_t cursor, uint64_t count, Fn fn) const {
  if (encoding() != Encoding::kHashTable) {
    ForEach([&](std::string_view m) {
      fn(m);
      return true;
    });
    return 0;
  }
  uint64_t seen = 0;
  uint64_t budget = count > UINT64_MAX / 10 ? UINT64_MAX : count * 10;
  do {
    cursor = table().Scan(cursor, [&](std::string_view m) {
      ++seen;
      fn(m);
    });
  } while (cursor != 0 && --budget > 0 && seen < count);
  return cursor;
}

}  // namespace runnel::engine
