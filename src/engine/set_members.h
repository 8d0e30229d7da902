// The three representations a set's members can have, as OBJECT ENCODING names them: "intset"
// (IntSet), "listpack" (PackedStrings) and "hashtable" (MemberTable). engine/set.h chooses
// between them and converts as a set grows; these classes only store members.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace runnel::engine {

// Distinct integers in ascending order, packed at the narrowest width (2, 4 or 8 bytes) that
// holds every one of them. A value that needs a wider width widens all of them; removals never
// narrow (as Redis's intset).
//
//   +------+------+------+-----+
//   |  v0  |  v1  |  v2  | ... |   each `width` bytes, host byte order, v0 < v1 < v2 < ...
//   +------+------+------+-----+
class IntSet {
 public:
  size_t size() const { return bytes_.size() / width_; }
  int width() const { return width_; }
  int64_t at(size_t i) const;
  int64_t min() const { return at(0); }
  int64_t max() const { return at(size() - 1); }
  bool Contains(int64_t v) const;
  bool Insert(int64_t v);  // false if already there
  bool Erase(int64_t v);   // false if not there
  void EraseAt(size_t i);
  size_t MemoryUsage() const { return bytes_.capacity(); }

 private:
  // The position of the first value >= v.
  size_t LowerBound(int64_t v) const;
  void Put(size_t i, int64_t v);
  void Widen(int width);

  std::vector<uint8_t> bytes_;
  uint8_t width_ = 2;
};

// Short strings one after another in one buffer, in insertion order; lookups walk it. Meant
// for sets of a few dozen short members, where this beats a hash table in memory and speed.
//
//   +-----+---------+-----+---------+-----+
//   | len | bytes   | len | bytes   | ... |   len: LEB128 varint
//   +-----+---------+-----+---------+-----+
class PackedStrings {
 public:
  static constexpr size_t kNotFound = SIZE_MAX;

  size_t size() const { return count_; }
  size_t bytes() const { return buf_.size(); }
  // The byte offset of the entry holding `s`, or kNotFound.
  size_t Find(std::string_view s) const;
  bool Contains(std::string_view s) const { return Find(s) != kNotFound; }
  void Append(std::string_view s);
  // Removes the entry at byte offset `offset` (from Find or Offsets).
  void EraseAt(size_t offset);
  bool Erase(std::string_view s);
  // The entry at byte offset `offset`.
  std::string_view At(size_t offset) const;
  // Byte offsets of all entries, in order (random access for sampling).
  std::vector<uint32_t> Offsets() const;
  // Calls fn(member) for each member in order until fn returns false.
  template <class Fn>
  bool ForEach(Fn fn) const {
    for (size_t off = 0; off < buf_.size();) {
      std::string_view s = At(off);
      off = static_cast<size_t>(s.data() + s.size() - buf_.data());
      if (!fn(s)) return false;
    }
    return true;
  }
  size_t MemoryUsage() const { return buf_.capacity() > 15 ? buf_.capacity() + 1 : 0; }

 private:
  std::string buf_;
  uint32_t count_ = 0;
};

// A hash table of strings: chained buckets, power-of-two sizes, incremental rehashing (while it
// resizes, two bucket arrays coexist and each change moves a bucket across), and a scan cursor
// that survives resizes: it counts with its bits reversed, so the buckets a bucket splits into or
// merges with are visited at the same point of the walk.
class MemberTable {
 public:
  MemberTable() = default;
  ~MemberTable() { Clear(); }
  MemberTable(MemberTable&& o) noexcept { Steal(o); }
  MemberTable& operator=(MemberTable&& o) noexcept {
    if (this != &o) {
      Clear();
      Steal(o);
    }
    return *this;
  }
  MemberTable(const MemberTable&) = delete;
  MemberTable& operator=(const MemberTable&) = delete;

  size_t size() const { return size_; }
  bool Contains(std::string_view s) const;
  bool Insert(std::string_view s);  // false if already there
  bool Erase(std::string_view s);   // false if not there
  // Sizes an empty table for about n members.
  void Reserve(size_t n);
  void Clear();
  void CopyFrom(const MemberTable& other);
  // Calls fn(member) for each member until fn returns false.
  template <class Fn>
  bool ForEach(Fn fn) const {
    for (Node** table : {old_, buckets_}) {
      if (table == nullptr) continue;
      size_t n = (table == old_ ? old_mask_ : mask_) + 1;
      for (size_t i = 0; i < n; ++i)
        for (Node* e = table[i]; e != nullptr; e = e->next)
          if (!fn(e->view())) return false;
    }
    return true;
  }
  // Visits some buckets from `cursor`, calling fn(member) for their members; returns the next
  // cursor, 0 when the walk is over. Every member present for the whole walk is visited.
  template <class Fn>
  uint64_t Scan(uint64_t cursor, Fn fn) const {
    ScanVisitor visit = [](void* ctx, std::string_view s) { (*static_cast<Fn*>(ctx))(s); };
    return ScanImpl(cursor, visit, &fn);
  }
  // A random member (the table must not be empty).
  std::string_view Random(std::mt19937_64& rng) const;
  size_t MemoryUsage() const;

 private:
  struct Node {
    Node* next;
    uint32_t len;
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view view() const { return {data(), len}; }
  };
  using ScanVisitor = void (*)(void*, std::string_view);

  void Steal(MemberTable& o);
  // The link (a bucket head or a node's `next`) pointing at the node holding `s`, or nullptr.
  Node** FindLink(std::string_view s, uint64_t hash, bool* in_old) const;
  void MaybeResize();
  void StartResize(size_t buckets);
  void RehashStep();
  Node* RandomBucket(size_t i) const;
  uint64_t ScanImpl(uint64_t cursor, ScanVisitor visit, void* ctx) const;

  Node** buckets_ = nullptr;
  size_t mask_ = 0;
  Node** old_ = nullptr;  // the previous array while a resize is under way
  size_t old_mask_ = 0;
  size_t rehash_pos_ = 0;  // buckets of old_ below this are already moved
  size_t old_used_ = 0;    // members still in old_
  size_t size_ = 0;
  size_t bytes_ = 0;  // node allocations
};

}  // namespace runnel::engine
