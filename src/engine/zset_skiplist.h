// The "skiplist" encoding of a sorted set: a skip list ordered by (score, member) whose links
// carry spans (how many elements each link skips), so rank lookups and rank ranges take
// O(log n), plus a hash index from member to node for O(1) score lookups.
//
// One allocation per element holds everything about it:
//
//   +-------+----------+-------+-----+--------+-------------------------+--------------+
//   | score | backward | hnext | len | height | height x (next, span)   | member bytes |
//   +-------+----------+-------+-----+--------+-------------------------+--------------+
//
// `hnext` chains the node in its hash bucket: the index needs no allocations of its own beyond
// its bucket array (8 bytes per bucket, at most one bucket per member). The index rehashes
// incrementally (two bucket arrays while it resizes, a bucket moved per change) and its scan
// cursor counts with reversed bits, as the keyspace's dict does, so ZSCAN survives resizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/zset_range.h"

namespace runnel::engine {

class ZSkipList {
 public:
  static constexpr int kMaxHeight = 32;

  struct Node;
  struct Level {
    Node* next;
    uint64_t span;  // elements from this node to `next` (to the end when next is null)
  };
  struct Node {
    double score;
    Node* backward;
    Node* hnext;
    uint32_t len;
    uint8_t height;
    Level* levels() { return reinterpret_cast<Level*>(this + 1); }
    const Level* levels() const { return reinterpret_cast<const Level*>(this + 1); }
    Node* next() const { return levels()[0].next; }
    std::string_view member() const {
      return {reinterpret_cast<const char*>(levels() + height), len};
    }
  };

  ZSkipList();
  ~ZSkipList();
  ZSkipList(const ZSkipList&) = delete;
  ZSkipList& operator=(const ZSkipList&) = delete;
  ZSkipList(ZSkipList&& o) noexcept;
  ZSkipList& operator=(ZSkipList&& o) noexcept;

  size_t size() const { return length_; }
  Node* first() const { return head_->levels()[0].next; }
  Node* last() const { return tail_; }
  // The node of `member`, or nullptr.
  Node* Find(std::string_view member) const;
  // Adds an element; `member` must be absent.
  Node* Insert(std::string_view member, double score);
  // Gives `node` a new score, moving it if its place changes (the node stays the same).
  void UpdateScore(Node* node, double score);
  bool Erase(std::string_view member);
  void EraseNode(Node* node);
  // Sizes the empty index for about n members.
  void Reserve(size_t n);

  // 0-based rank of a node, counted from the lowest element.
  uint64_t RankOf(const Node* node) const;
  // The node at 0-based rank `rank` (< size()).
  Node* AtRank(uint64_t rank) const;
  // The first / last node inside the range (with its rank in *rank), or nullptr.
  Node* FirstIn(const ScoreRange& r, uint64_t* rank) const;
  Node* LastIn(const ScoreRange& r, uint64_t* rank) const;
  Node* FirstIn(const LexRange& r, uint64_t* rank) const;
  Node* LastIn(const LexRange& r, uint64_t* rank) const;

  // Removals of ranges; each returns how many elements went.
  uint64_t EraseRanks(uint64_t start, uint64_t stop);  // inclusive, 0-based
  uint64_t EraseRange(const ScoreRange& r);
  uint64_t EraseRange(const LexRange& r);

  // Visits some buckets of the index from `cursor`, calling fn(member, score) for their
  // members; returns the next cursor (0 when done).
  uint64_t Scan(uint64_t cursor, ElementVisitor fn) const;
  size_t MemoryUsage() const { return bytes_ + BucketCount() * sizeof(Node*); }

 private:
  // Fills update[i] with the last node at level i that sorts before (score, member).
  void FindPath(double score, std::string_view member, Node** update) const;
  // Links `node` (not in the list) at its place; the index is not touched.
  void Link(Node* node);
  // Unlinks `node`; update[] from FindPath of its own element.
  void Unlink(Node* node, Node** update);
  // Unlinks, drops from the index and frees.
  void Remove(Node* node, Node** update);
  // Walks the first nodes matching `before` (a monotone predicate: true for a prefix of the
  // list) and returns the path to the first node it is false for.
  template <class Before>
  uint64_t Descend(Before before, Node** update) const;
  void FreeNodes();

  // --- The member index ---
  size_t BucketCount() const {
    return (buckets_ != nullptr ? mask_ + 1 : 0) + (old_ != nullptr ? old_mask_ + 1 : 0);
  }
  // The link (a bucket head or a node's hnext) pointing at `member`'s node, or nullptr;
  // *in_old tells whether it lies in old_.
  Node** FindLink(std::string_view member, uint64_t hash, bool* in_old) const;
  void IndexInsert(Node* node);
  void IndexRemove(Node* node);
  void MaybeResize();
  void StartResize(size_t buckets);
  void RehashStep();

  Node* head_;
  Node* tail_ = nullptr;
  uint64_t length_ = 0;
  int height_ = 1;
  size_t bytes_ = 0;  // node allocations, head included

  Node** buckets_ = nullptr;
  size_t mask_ = 0;
  Node** old_ = nullptr;  // the previous bucket array while a resize is under way
  size_t old_mask_ = 0;
  size_t rehash_pos_ = 0;  // buckets of old_ below this are already moved
  size_t old_used_ = 0;    // nodes still in old_
  size_t indexed_ = 0;     // nodes in the index
};

}  // namespace runnel::engine
