// IdIndex: a compact ordered index of records keyed by StreamId, used for consumer-group pending
// entries lists (PELs). Records live in sorted arrays ("leaves") of up to kLeafCap records; the
// leaves sit in an ordered map keyed by a lower bound of their records, so a lookup is a map
// search plus a binary search: O(log n). Appending in ID order (how XREADGROUP delivers) fills
// leaves completely, which keeps a pending entry at little more than its record's size.
//
//   leaves_:  [key k0] -> { r0 r1 ... r127 }     k0 <= r0.id
//             [key k1] -> { r128 ... }           every record of leaf i < k(i+1)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "engine/stream_id.h"

namespace runnel::engine {

inline StreamId IdOf(const StreamId& id) { return id; }

template <class Rec>
class IdIndex {
 public:
  static constexpr size_t kLeafCap = 128;
  using Leaf = std::vector<Rec>;
  using LeafMap = std::map<StreamId, Leaf>;

  // A position in the index; invalidated by any insert or erase.
  class Cursor {
   public:
    Cursor() = default;
    Cursor(const LeafMap* leaves, typename LeafMap::const_iterator it, size_t i)
        : leaves_(leaves), it_(it), i_(i) {
      Settle();
    }
    bool Valid() const { return leaves_ != nullptr && it_ != leaves_->end(); }
    const Rec& operator*() const { return it_->second[i_]; }
    const Rec* operator->() const { return &it_->second[i_]; }
    void Next() {
      ++i_;
      Settle();
    }

   private:
    void Settle() {
      while (it_ != leaves_->end() && i_ >= it_->second.size()) {
        ++it_;
        i_ = 0;
      }
    }
    const LeafMap* leaves_ = nullptr;
    typename LeafMap::const_iterator it_;
    size_t i_ = 0;
  };

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  Rec* Find(StreamId id) {
    auto it = LeafFor(id);
    if (it == leaves_.end()) return nullptr;
    Leaf& leaf = it->second;
    auto pos = LowerIn(leaf, id);
    return pos != leaf.end() && IdOf(*pos) == id ? &*pos : nullptr;
  }
  const Rec* Find(StreamId id) const { return const_cast<IdIndex*>(this)->Find(id); }

  // Inserts `rec` unless a record with its ID exists. Returns false if one did.
  bool Insert(const Rec& rec) {
    const StreamId id = IdOf(rec);
    if (leaves_.empty()) {
      Leaf& leaf = leaves_[id];
      leaf.push_back(rec);
      return Grew(0, leaf);
    }
    auto it = LeafFor(id);
    if (it == leaves_.end()) it = Rekey(leaves_.begin(), id);  // below every key
    Leaf* leaf = &it->second;
    auto pos = LowerIn(*leaf, id);
    if (pos != leaf->end() && IdOf(*pos) == id) return false;
    if (leaf->size() >= kLeafCap) {
      it = Split(it, pos == leaf->end());
      if (id < it->first) --it;
      leaf = &it->second;
      pos = LowerIn(*leaf, id);
    }
    size_t before = leaf->capacity();
    leaf->insert(pos, rec);
    return Grew(before, *leaf);
  }

  bool Erase(StreamId id) {
    auto it = LeafFor(id);
    if (it == leaves_.end()) return false;
    Leaf& leaf = it->second;
    auto pos = LowerIn(leaf, id);
    if (pos == leaf.end() || IdOf(*pos) != id) return false;
    leaf.erase(pos);
    --size_;
    Tidy(it);
    return true;
  }

  const Rec* First() const { return empty() ? nullptr : &leaves_.begin()->second.front(); }
  const Rec* Last() const { return empty() ? nullptr : &leaves_.rbegin()->second.back(); }
  Cursor begin() const { return Cursor(&leaves_, leaves_.begin(), 0); }
  // The first record whose ID is >= id.
  Cursor LowerBound(StreamId id) const {
    auto it = leaves_.upper_bound(id);
    if (it == leaves_.begin()) return Cursor(&leaves_, it, 0);
    --it;
    const Leaf& leaf = it->second;
    auto pos = std::lower_bound(leaf.begin(), leaf.end(), id,
                                [](const Rec& r, StreamId k) { return IdOf(r) < k; });
    return Cursor(&leaves_, it, static_cast<size_t>(pos - leaf.begin()));
  }

  void Clear() {
    leaves_.clear();
    size_ = 0;
    capacity_ = 0;
  }
  // Heap bytes: the records' arrays plus a map node per leaf.
  size_t MemoryUsage() const { return capacity_ * sizeof(Rec) + leaves_.size() * kNodeBytes; }

 private:
  static constexpr size_t kNodeBytes = 48 + sizeof(StreamId) + sizeof(Leaf);

  // The leaf whose key range holds `id`, or end() if `id` is below every key.
  typename LeafMap::iterator LeafFor(StreamId id) {
    auto it = leaves_.upper_bound(id);
    if (it == leaves_.begin()) return leaves_.end();
    return std::prev(it);
  }
  static typename Leaf::iterator LowerIn(Leaf& leaf, StreamId id) {
    return std::lower_bound(leaf.begin(), leaf.end(), id,
                            [](const Rec& r, StreamId k) { return IdOf(r) < k; });
  }
  typename LeafMap::iterator Rekey(typename LeafMap::iterator it, StreamId key) {
    auto node = leaves_.extract(it);
    node.key() = key;
    return leaves_.insert(std::move(node)).position;
  }
  bool Grew(size_t capacity_before, const Leaf& leaf) {
    capacity_ += leaf.capacity() - capacity_before;
    ++size_;
    return true;
  }
  // Splits a full leaf. An append at the end of the last leaf starts a fresh leaf instead, so
  // records added in ID order leave full leaves behind. Returns the upper leaf.
  typename LeafMap::iterator Split(typename LeafMap::iterator it, bool at_end) {
    Leaf& leaf = it->second;
    if (at_end && std::next(it) == leaves_.end()) {
      // Appending in order: the new leaf will likely fill up too, so it gets its full size at
      // once rather than growing (and fragmenting the heap) by doublings.
      Leaf fresh;
      fresh.reserve(kLeafCap);
      capacity_ += fresh.capacity();
      StreamId key = IdOf(leaf.back());
      key.Increment();
      return leaves_.emplace_hint(leaves_.end(), key, std::move(fresh));
    }
    size_t half = leaf.size() / 2;
    Leaf upper(leaf.begin() + static_cast<std::ptrdiff_t>(half), leaf.end());
    size_t before = leaf.capacity();
    leaf.resize(half);
    leaf.shrink_to_fit();
    capacity_ = capacity_ - before + leaf.capacity() + upper.capacity();
    StreamId key = IdOf(upper.front());
    return leaves_.emplace_hint(std::next(it), key, std::move(upper));
  }
  // After an erase: drops an empty leaf, merges a small one into its successor's space, and
  // gives back array space that is mostly unused.
  void Tidy(typename LeafMap::iterator it) {
    Leaf& leaf = it->second;
    if (leaf.empty()) {
      capacity_ -= leaf.capacity();
      leaves_.erase(it);
      return;
    }
    auto next = std::next(it);
    if (next != leaves_.end() && leaf.size() + next->second.size() <= kLeafCap / 2) {
      capacity_ -= leaf.capacity() + next->second.capacity();
      leaf.insert(leaf.end(), next->second.begin(), next->second.end());
      leaves_.erase(next);
      leaf.shrink_to_fit();
      capacity_ += leaf.capacity();
      return;
    }
    if (leaf.capacity() > 8 && leaf.size() * 4 <= leaf.capacity()) {
      capacity_ -= leaf.capacity();
      leaf.shrink_to_fit();
      capacity_ += leaf.capacity();
    }
  }

  LeafMap leaves_;
  size_t size_ = 0;
  size_t capacity_ = 0;  // records' array slots over all leaves
};

}  // namespace runnel::engine
