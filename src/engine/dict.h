// Hash table of Entry* keyed by Entry::key(), chained through Entry::next, with incremental
// rehashing: while the table grows or shrinks, two bucket arrays coexist and every operation
// moves a few buckets from the old to the new one, so no single call pays for a full resize.
//
// Scan() walks the buckets with a reverse-binary cursor, so a full scan returns every entry that
// was present for the whole scan at least once, even if the table resizes in between.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string_view>

#include "engine/entry.h"

namespace runnel::engine {

uint64_t HashKey(std::string_view key);

class Dict {
 public:
  Dict() = default;
  ~Dict();  // frees all entries with Entry::Free
  Dict(const Dict&) = delete;
  Dict& operator=(const Dict&) = delete;

  size_t size() const { return size_; }
  Entry* Find(std::string_view key);
  // Links `e`; its key must not be in the table.
  void Insert(Entry* e);
  // Unlinks and returns the entry with this key, or nullptr. The caller frees it.
  Entry* Remove(std::string_view key);
  // Puts `replacement` (same key) where `old` is linked; `old` is unlinked, not freed.
  void Replace(Entry* old, Entry* replacement);
  // Frees every entry; the table becomes empty and small.
  void Clear();

  // Visits some buckets starting at `cursor` and returns the next cursor (0 when done).
  uint64_t Scan(uint64_t cursor, const std::function<void(Entry*)>& fn);
  // A random entry (nullptr if empty). Uniform enough for RANDOMKEY and expiry sampling.
  Entry* Random(std::mt19937_64& rng);
  // Moves up to n buckets if a rehash is in progress; returns true if one still is.
  bool RehashStep(int n);
  bool rehashing() const { return old_ != nullptr; }
  // Heap bytes of the bucket arrays (entries not included).
  size_t BucketMemory() const;

 private:
  // Starts a grow or shrink if the load calls for one and no rehash is under way.
  void MaybeResize();
  void StartResize(size_t new_size);
  // The link (bucket head or some entry's `next`) that points at the entry with this key, or
  // nullptr. `*in_old` tells whether it lies in old_.
  Entry** FindLink(std::string_view key, uint64_t hash, bool* in_old);
  // Bucket `i` of the buckets Random() can draw from: old_'s unmoved ones, then buckets_.
  Entry* RandomBucket(size_t i) const;

  Entry** buckets_ = nullptr;
  size_t mask_ = 0;  // buckets_ size - 1, buckets_ == nullptr when empty
  Entry** old_ = nullptr;
  size_t old_mask_ = 0;
  size_t rehash_pos_ = 0;  // next bucket of old_ to move
  size_t old_used_ = 0;    // entries still in old_; the rehash ends when it reaches 0
  size_t size_ = 0;
};

}  // namespace runnel::engine
