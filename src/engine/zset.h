// The sorted-set value type. Elements are (member, score) pairs ordered by score, then by member
// bytes. Two representations, with Redis 7.2's OBJECT ENCODING names and conversion rules:
//
//   listpack  at most `listpack_entries` elements, no member longer than `listpack_value`
//             bytes: one packed buffer (ZPacked)
//   skiplist  anything else: a skip list with spans plus a member index (ZSkipList)
//
// A set converts to a skip list as soon as an insert passes a limit and never converts back by
// itself; stores of computed results pick the encoding that fits (Create, ShrinkIfFits). Scores
// are never NaN: Add refuses an increment that would make one. Knows nothing of RESP; the
// command layer (commands/zsets*.cc) reads the limits from the config and builds replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <variant>

#include "engine/object.h"
#include "engine/zset_packed.h"
#include "engine/zset_range.h"
#include "engine/zset_skiplist.h"

namespace runnel::engine {

// The conversion thresholds (zset-max-listpack-entries, zset-max-listpack-value).
struct ZSetLimits {
  uint64_t listpack_entries = 128;
  uint64_t listpack_value = 64;
};

// ZADD's conditions.
enum ZAddFlag : int {
  kZAddNx = 1,    // only add new members
  kZAddXx = 2,    // only update existing ones
  kZAddGt = 4,    // update only to a greater score
  kZAddLt = 8,    // update only to a lower score
  kZAddIncr = 16  // the score is an increment
};

class ZSet final : public Object {
 public:
  enum class Encoding { kListpack, kSkipList };

  // What Add did; `score` is the member's score afterwards (with INCR, the new one).
  struct AddResult {
    enum Kind { kAdded, kUpdated, kUnchanged, kSkipped, kNaN } kind;
    double score;
  };

  explicit ZSet(Encoding e = Encoding::kListpack);
  // A set for about `size_hint` elements whose longest member has `max_member_len` bytes.
  static std::unique_ptr<ZSet> Create(size_t size_hint, size_t max_member_len,
                                      const ZSetLimits& limits);

  // --- Object ---
  size_t MemoryUsage() const override;
  const char* EncodingName() const override;
  Object* Clone() const override;
  void Serialize(std::string* out) const override;
  // The inverse of Serialize (same encoding); nullptr if `data` is not a well-formed, non-empty
  // sorted set.
  static std::unique_ptr<ZSet> Deserialize(std::string_view data);

  Encoding encoding() const { return static_cast<Encoding>(rep_.index()); }
  size_t size() const;

  // --- Single elements ---
  // ZADD with `flags` (ZAddFlag): converts first if a new member would not fit the listpack.
  AddResult Add(std::string_view member, double score, int flags, const ZSetLimits& limits);
  bool Remove(std::string_view member);
  bool Score(std::string_view member, double* score) const;
  // The 0-based rank of `member` counted from the lowest (or, with `reverse`, the highest)
  // element, and its score.
  bool Rank(std::string_view member, bool reverse, uint64_t* rank, double* score) const;

  // --- Encodings ---
  // Before adding about `size_hint` elements at once: converts to a skip list if that many
  // could never fit the listpack (as Redis's ZADD does with its argument count).
  void PrepareFor(size_t size_hint, const ZSetLimits& limits);
  // Converts a skip list that fits the listpack limits to a listpack (stores of results).
  void ShrinkIfFits(const ZSetLimits& limits);
  void Convert(Encoding to);

  // --- Walks; fn(member, score) returns false to stop ---
  void ForEach(ElementVisitor fn) const;
  // Ranks start..stop (0-based, inclusive, stop < size()), counted from the lowest element or,
  // with `reverse`, from the highest; visited in that direction.
  void RangeByRank(uint64_t start, uint64_t stop, bool reverse, ElementVisitor fn) const;
  // The elements inside a range, from the low end (or the high end with `reverse`), skipping
  // `offset` of them and visiting at most `limit`.
  void RangeByScore(const ScoreRange& r, bool reverse, uint64_t offset, uint64_t limit,
                    ElementVisitor fn) const;
  void RangeByLex(const LexRange& r, bool reverse, uint64_t offset, uint64_t limit,
                  ElementVisitor fn) const;
  uint64_t CountByScore(const ScoreRange& r) const;
  uint64_t CountByLex(const LexRange& r) const;

  // --- Removals of ranges; each returns how many elements went ---
  uint64_t RemoveRangeByRank(uint64_t start, uint64_t stop);  // ascending ranks, inclusive
  uint64_t RemoveRangeByScore(const ScoreRange& r);
  uint64_t RemoveRangeByLex(const LexRange& r);
  // Removes up to `count` of the lowest (or, with `max`, highest) elements, calling fn for each
  // just before it goes, lowest (highest) first.
  void Pop(bool max, uint64_t count, ElementVisitor fn);

  // --- Random elements and scans ---
  // Calls fn for `n` elements drawn at random with repeats, until fn returns false.
  void Sample(uint64_t n, std::mt19937_64& rng, ElementVisitor fn) const;
  // ZSCAN: a listpack is returned whole with the cursor 0; a skip list visits index buckets
  // from `cursor` until about `count` elements were seen (or 10 x count buckets). Returns the
  // next cursor, 0 when done.
  uint64_t Scan(uint64_t cursor, uint64_t count, ElementVisitor fn) const;

 private:
  friend class ZSetLoader;
  const ZPacked& packed() const { return std::get<ZPacked>(rep_); }
  ZPacked& packed() { return std::get<ZPacked>(rep_); }
  const ZSkipList& list() const { return std::get<ZSkipList>(rep_); }
  ZSkipList& list() { return std::get<ZSkipList>(rep_); }
  AddResult AddPacked(std::string_view member, double score, int flags, const ZSetLimits& limits);
  AddResult AddSkipList(std::string_view member, double score, int flags);
  // Packed walks: from the element at byte offset `from` on, forwards or (with the
  // offsets of all elements) backwards from position `index`.
  void WalkPacked(size_t index, bool reverse, uint64_t limit, ElementVisitor fn) const;
  void WalkList(const ZSkipList::Node* from, bool reverse, uint64_t limit, ElementVisitor fn) const;

  std::variant<ZPacked, ZSkipList> rep_;
};

}  // namespace runnel::engine
