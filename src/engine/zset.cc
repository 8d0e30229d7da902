// The sorted-set value type: encodings and conversions, ZADD's rules, ranks, ranges, pops and
// random elements over either representation.
#include "engine/zset.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

namespace runnel::engine {

namespace {

using Node = ZSkipList::Node;

// A listpack buffer stays under 1 GB (its offsets are 32-bit).
constexpr size_t kMaxPackedBytes = size_t{1} << 30;

// What ZADD does to one element, given whether it exists and its current score.
ZSet::AddResult Decide(bool exists, double current, double score, int flags) {
  using R = ZSet::AddResult;
  if (!exists) return (flags & kZAddXx) ? R{R::kSkipped, 0} : R{R::kAdded, score};
  if (flags & kZAddNx) return {R::kSkipped, current};
  if (flags & kZAddIncr) {
    score += current;
    if (std::isnan(score)) return {R::kNaN, current};
  }
  if (((flags & kZAddLt) && score >= current) || ((flags & kZAddGt) && score <= current))
    return {R::kSkipped, current};
  if (score == current) return {R::kUnchanged, current};
  return {R::kUpdated, score};
}

// Range adapters, so one walk serves score and lex ranges.
struct ScoreBounds {
  const ScoreRange& r;
  bool AboveMin(std::string_view, double s) const { return r.AboveMin(s); }
  bool BelowMax(std::string_view, double s) const { return r.BelowMax(s); }
};
struct LexBounds {
  const LexRange& r;
  bool AboveMin(std::string_view m, double) const { return r.AboveMin(m); }
  bool BelowMax(std::string_view m, double) const { return r.BelowMax(m); }
};

}  // namespace

ZSet::ZSet(Encoding e) {
  if (e == Encoding::kSkipList) rep_.emplace<ZSkipList>();
}

std::unique_ptr<ZSet> ZSet::Create(size_t size_hint, size_t max_member_len,
                                   const ZSetLimits& limits) {
  if (size_hint <= limits.listpack_entries && max_member_len <= limits.listpack_value)
    return std::make_unique<ZSet>(Encoding::kListpack);
  auto z = std::make_unique<ZSet>(Encoding::kSkipList);
  z->list().Reserve(std::min<size_t>(size_hint, size_t{1} << 24));
  return z;
}

const char* ZSet::EncodingName() const {
  return encoding() == Encoding::kListpack ? "listpack" : "skiplist";
}

size_t ZSet::size() const {
  return encoding() == Encoding::kListpack ? packed().size() : list().size();
}

size_t ZSet::MemoryUsage() const {
  return sizeof(ZSet) +
         (encoding() == Encoding::kListpack ? packed().MemoryUsage() : list().MemoryUsage());
}

// ---------------------------------------------------------------------------------------------
// Single elements
// ---------------------------------------------------------------------------------------------

ZSet::AddResult ZSet::Add(std::string_view member, double score, int flags,
                          const ZSetLimits& limits) {
  if (encoding() == Encoding::kListpack) return AddPacked(member, score, flags, limits);
  return AddSkipList(member, score, flags);
}

ZSet::AddResult ZSet::AddPacked(std::string_view member, double score, int flags,
                                const ZSetLimits& limits) {
  ZPacked& p = packed();
  double current = 0;
  const size_t off = p.Find(member, &current);
  AddResult r = Decide(off != ZPacked::kNotFound, current, score, flags);
  if (r.kind == AddResult::kAdded) {
    if (p.size() + 1 > limits.listpack_entries || member.size() > limits.listpack_value ||
        p.bytes() + ZPacked::ElementBytes(member, r.score) > kMaxPackedBytes) {
      Convert(Encoding::kSkipList);
      list().Insert(member, r.score);
    } else {
      p.Insert(member, r.score);
    }
  } else if (r.kind == AddResult::kUpdated) {
    p.EraseAt(off);
    p.Insert(member, r.score);
  }
  return r;
}

ZSet::AddResult ZSet::AddSkipList(std::string_view member, double score, int flags) {
  ZSkipList& l = list();
  Node* n = l.Find(member);
  AddResult r = Decide(n != nullptr, n != nullptr ? n->score : 0, score, flags);
  if (r.kind == AddResult::kAdded) {
    l.Insert(member, r.score);
  } else if (r.kind == AddResult::kUpdated) {
    l.UpdateScore(n, r.score);
  }
  return r;
}

bool ZSet::Remove(std::string_view member) {
  if (encoding() == Encoding::kSkipList) return list().Erase(member);
  double score;
  const size_t off = packed().Find(member, &score);
  if (off == ZPacked::kNotFound) return false;
  packed().EraseAt(off);
  return true;
}

bool ZSet::Score(std::string_view member, double* score) const {
  if (encoding() == Encoding::kListpack) return packed().Find(member, score) != ZPacked::kNotFound;
  const Node* n = list().Find(member);
  if (n == nullptr) return false;
  *score = n->score;
  return true;
}

bool ZSet::Rank(std::string_view member, bool reverse, uint64_t* rank, double* score) const {
  uint64_t r = 0;
  if (encoding() == Encoding::kListpack) {
    const ZPacked& p = packed();
    size_t off = 0;
    for (; off < p.bytes(); ++r) {
      ZPacked::Element e = p.Read(off);
      if (e.member == member) {
        *score = e.score;
        break;
      }
      off = e.next;
    }
    if (off >= p.bytes()) return false;
  } else {
    const Node* n = list().Find(member);
    if (n == nullptr) return false;
    r = list().RankOf(n);
    *score = n->score;
  }
  *rank = reverse ? size() - 1 - r : r;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------------

void ZSet::PrepareFor(size_t size_hint, const ZSetLimits& limits) {
  if (encoding() == Encoding::kListpack && size_hint > limits.listpack_entries)
    Convert(Encoding::kSkipList);
}

void ZSet::ShrinkIfFits(const ZSetLimits& limits) {
  if (encoding() != Encoding::kSkipList || size() > limits.listpack_entries) return;
  size_t bytes = 0;
  bool fits = true;
  ForEach([&](std::string_view m, double s) {
    bytes += ZPacked::ElementBytes(m, s);
    fits = m.size() <= limits.listpack_value && bytes <= kMaxPackedBytes;
    return fits;
  });
  if (fits) Convert(Encoding::kListpack);
}

void ZSet::Convert(Encoding to) {
  if (to == encoding()) return;
  if (to == Encoding::kListpack) {
    ZPacked fresh;
    ForEach([&](std::string_view m, double s) {
      fresh.Append(m, s);
      return true;
    });
    rep_ = std::move(fresh);
    return;
  }
  ZSkipList fresh;
  fresh.Reserve(size());
  ForEach([&](std::string_view m, double s) {
    fresh.Insert(m, s);
    return true;
  });
  rep_ = std::move(fresh);
}

// ---------------------------------------------------------------------------------------------
// Walks
// ---------------------------------------------------------------------------------------------

void ZSet::ForEach(ElementVisitor fn) const {
  if (encoding() == Encoding::kListpack) {
    const ZPacked& p = packed();
    for (size_t off = 0; off < p.bytes();) {
      ZPacked::Element e = p.Read(off);
      if (!fn(e.member, e.score)) return;
      off = e.next;
    }
    return;
  }
  for (const Node* n = list().first(); n != nullptr; n = n->next())
    if (!fn(n->member(), n->score)) return;
}

void ZSet::WalkPacked(size_t index, bool reverse, uint64_t limit, ElementVisitor fn) const {
  const ZPacked& p = packed();
  if (!reverse) {
    for (size_t off = p.OffsetOfRank(index); off < p.bytes() && limit > 0; --limit) {
      ZPacked::Element e = p.Read(off);
      if (!fn(e.member, e.score)) return;
      off = e.next;
    }
    return;
  }
  const std::vector<uint32_t> offsets = p.Offsets();
  for (size_t i = index + 1; i > 0 && limit > 0; --i, --limit) {
    ZPacked::Element e = p.Read(offsets[i - 1]);
    if (!fn(e.member, e.score)) return;
  }
}

void ZSet::WalkList(const Node* from, bool reverse, uint64_t limit, ElementVisitor fn) const {
  for (const Node* n = from; n != nullptr && limit > 0; --limit) {
    if (!fn(n->member(), n->score)) return;
    n = reverse ? n->backward : n->next();
  }
}

void ZSet::RangeByRank(uint64_t start, uint64_t stop, bool reverse, ElementVisitor fn) const {
  assert(start <= stop && stop < size());
  const uint64_t count = stop - start + 1;
  const uint64_t first = reverse ? size() - 1 - start : start;  // ascending rank
  if (encoding() == Encoding::kListpack) return WalkPacked(first, reverse, count, fn);
  WalkList(list().AtRank(first), reverse, count, fn);
}

namespace {

// The elements of a packed set inside `b`'s range, from either end, after `offset` of them.
template <class Bounds>
void PackedRange(const ZPacked& p, const Bounds& b, bool reverse, uint64_t offset, uint64_t limit,
                 ElementVisitor fn) {
  if (!reverse) {
    for (size_t off = 0; off < p.bytes() && limit > 0;) {
      ZPacked::Element e = p.Read(off);
      off = e.next;
      if (!b.AboveMin(e.member, e.score)) continue;
      if (!b.BelowMax(e.member, e.score)) return;
      if (offset > 0) {
        --offset;
        continue;
      }
      if (!fn(e.member, e.score)) return;
      --limit;
    }
    return;
  }
  const std::vector<uint32_t> offsets = p.Offsets();
  for (size_t i = offsets.size(); i > 0 && limit > 0; --i) {
    ZPacked::Element e = p.Read(offsets[i - 1]);
    if (!b.BelowMax(e.member, e.score)) continue;
    if (!b.AboveMin(e.member, e.score)) return;
    if (offset > 0) {
      --offset;
      continue;
    }
    if (!fn(e.member, e.score)) return;
    --limit;
  }
}

// The same for a skip list: finds the end of the range, jumps `offset` ranks, then walks.
template <class Range, class Bounds>
void ListRange(const ZSkipList& l, const Range& r, const Bounds& b, bool reverse, uint64_t offset,
               uint64_t limit, ElementVisitor fn) {
  uint64_t rank;
  const Node* n = reverse ? l.LastIn(r, &rank) : l.FirstIn(r, &rank);
  if (n == nullptr) return;
  if (offset > 0) {
    if (reverse ? offset > rank : offset >= l.size() - rank) return;
    n = l.AtRank(reverse ? rank - offset : rank + offset);
  }
  for (; n != nullptr && limit > 0; --limit) {
    if (reverse ? !b.AboveMin(n->member(), n->score) : !b.BelowMax(n->member(), n->score)) return;
    if (!fn(n->member(), n->score)) return;
    n = reverse ? n->backward : n->next();
  }
}

template <class Range>
uint64_t ListCount(const ZSkipList& l, const Range& r) {
  uint64_t first, last;
  if (l.FirstIn(r, &first) == nullptr || l.LastIn(r, &last) == nullptr) return 0;
  return last - first + 1;
}

}  // namespace

void ZSet::RangeByScore(const ScoreRange& r, bool reverse, uint64_t offset, uint64_t limit,
                        ElementVisitor fn) const {
  if (r.Empty()) return;
  if (encoding() == Encoding::kListpack)
    return PackedRange(packed(), ScoreBounds{r}, reverse, offset, limit, fn);
  ListRange(list(), r, ScoreBounds{r}, reverse, offset, limit, fn);
}

void ZSet::RangeByLex(const LexRange& r, bool reverse, uint64_t offset, uint64_t limit,
                      ElementVisitor fn) const {
  if (r.Empty()) return;
  if (encoding() == Encoding::kListpack)
    return PackedRange(packed(), LexBounds{r}, reverse, offset, limit, fn);
  ListRange(list(), r, LexBounds{r}, reverse, offset, limit, fn);
}

uint64_t ZSet::CountByScore(const ScoreRange& r) const {
  if (encoding() == Encoding::kSkipList) return ListCount(list(), r);
  uint64_t n = 0;
  RangeByScore(r, false, 0, UINT64_MAX, [&](std::string_view, double) { return ++n > 0; });
  return n;
}

uint64_t ZSet::CountByLex(const LexRange& r) const {
  if (encoding() == Encoding::kSkipList) return ListCount(list(), r);
  uint64_t n = 0;
  RangeByLex(r, false, 0, UINT64_MAX, [&](std::string_view, double) { return ++n > 0; });
  return n;
}

// ---------------------------------------------------------------------------------------------
// Removals
// ---------------------------------------------------------------------------------------------

namespace {

// Removes the run of packed elements inside `b`'s range.
template <class Bounds>
uint64_t PackedEraseRange(ZPacked& p, const Bounds& b) {
  size_t from = p.bytes(), to = p.bytes();
  uint64_t n = 0;
  for (size_t off = 0; off < p.bytes();) {
    ZPacked::Element e = p.Read(off);
    if (b.AboveMin(e.member, e.score)) {
      if (!b.BelowMax(e.member, e.score)) break;
      if (n++ == 0) from = off;
      to = e.next;
    }
    off = e.next;
  }
  if (n > 0) p.EraseBytes(from, to, n);
  return n;
}

}  // namespace

uint64_t ZSet::RemoveRangeByRank(uint64_t start, uint64_t stop) {
  if (start > stop || start >= size()) return 0;
  stop = std::min<uint64_t>(stop, size() - 1);
  if (encoding() == Encoding::kSkipList) return list().EraseRanks(start, stop);
  ZPacked& p = packed();
  const size_t from = p.OffsetOfRank(start);
  size_t to = from;
  for (uint64_t i = start; i <= stop; ++i) to = p.Read(to).next;
  p.EraseBytes(from, to, stop - start + 1);
  return stop - start + 1;
}

uint64_t ZSet::RemoveRangeByScore(const ScoreRange& r) {
  if (r.Empty()) return 0;
  if (encoding() == Encoding::kSkipList) return list().EraseRange(r);
  return PackedEraseRange(packed(), ScoreBounds{r});
}

uint64_t ZSet::RemoveRangeByLex(const LexRange& r) {
  if (r.Empty()) return 0;
  if (encoding() == Encoding::kSkipList) return list().EraseRange(r);
  return PackedEraseRange(packed(), LexBounds{r});
}

void ZSet::Pop(bool max, uint64_t count, ElementVisitor fn) {
  count = std::min<uint64_t>(count, size());
  if (count == 0) return;
  if (encoding() == Encoding::kSkipList) {
    ZSkipList& l = list();
    for (uint64_t i = 0; i < count; ++i) {
      Node* n = max ? l.last() : l.first();
      fn(n->member(), n->score);
      l.EraseNode(n);
    }
    return;
  }
  ZPacked& p = packed();
  if (!max) {
    size_t off = 0;
    for (uint64_t i = 0; i < count; ++i) {
      ZPacked::Element e = p.Read(off);
      fn(e.member, e.score);
      off = e.next;
    }
    p.EraseBytes(0, off, count);
    return;
  }
  const std::vector<uint32_t> offsets = p.Offsets();
  for (size_t i = offsets.size(); i > offsets.size() - count; --i) {
    ZPacked::Element e = p.Read(offsets[i - 1]);
    fn(e.member, e.score);
  }
  p.EraseBytes(offsets[offsets.size() - count], p.bytes(), count);
}

// ---------------------------------------------------------------------------------------------
// Random elements and scans
// ---------------------------------------------------------------------------------------------

void ZSet::Sample(uint64_t n, std::mt19937_64& rng, ElementVisitor fn) const {
  if (size() == 0) return;
  if (encoding() == Encoding::kListpack) {
    // Walking the buffer for each draw would be quadratic: find the elements once.
    const std::vector<uint32_t> offsets = packed().Offsets();
    for (uint64_t i = 0; i < n; ++i) {
      ZPacked::Element e = packed().Read(offsets[rng() % offsets.size()]);
      if (!fn(e.member, e.score)) return;
    }
    return;
  }
  for (uint64_t i = 0; i < n; ++i) {
    const Node* node = list().AtRank(rng() % list().size());
    if (!fn(node->member(), node->score)) return;
  }
}

uint64_t ZSet::Scan(uint64_t cursor, uint64_t count, ElementVisitor fn) const {
  if (encoding() == Encoding::kListpack) {
    ForEach([&](std::string_view m, double s) {
      fn(m, s);
      return true;
    });
    return 0;
  }
  uint64_t seen = 0;
  uint64_t budget = count > UINT64_MAX / 10 ? UINT64_MAX : count * 10;
  do {
    cursor = list().Scan(cursor, [&](std::string_view m, double s) {
      ++seen;
      return fn(m, s);
    });
  } while (cursor != 0 && --budget > 0 && seen < count);
  return cursor;
}

}  // namespace runnel::engine
