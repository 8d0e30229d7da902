// The keyspace hash table: chained buckets, power-of-two sizes, incremental rehashing and a
// resize-tolerant SCAN cursor.
//
// While a resize is under way, old_ holds the previous bucket array and buckets_ the new one.
// Buckets of old_ below rehash_pos_ are already empty, and new entries always go to buckets_,
// so old_ only drains.
#include "engine/dict.h"
#include "engine/bits.h"

#include <xxhash.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <new>
#include <utility>

namespace runnel::engine {

namespace {

constexpr size_t kMinBuckets = 4;
// A rehash step gives up after this many empty buckets per bucket it was asked to move, so a
// sparse old table cannot make one call slow.
constexpr int kEmptyVisitsPerStep = 10;
// Random() draws buckets at random this many times before falling back to a linear walk, which
// bounds its cost on a table left sparse by mass deletions during a rehash.
constexpr int kRandomDraws = 100;

Entry** AllocBuckets(size_t n) {
  void* p = std::calloc(n, sizeof(Entry*));
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<Entry**>(p);
}

size_t NextPowerOfTwo(size_t n) {
  size_t p = kMinBuckets;
  while (p < n) p *= 2;
  return p;
}

void VisitChain(Entry* e, const std::function<void(Entry*)>& fn) {
  while (e != nullptr) {
    Entry* next = e->next;
    fn(e);
    e = next;
  }
}

void FreeChains(Entry** buckets, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    Entry* e = buckets[i];
    while (e != nullptr) {
      Entry* next = e->next;
      Entry::Free(e);
      e = next;
    }
  }
}

}  // namespace

uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

Dict::~Dict() { Clear(); }

Entry** Dict::FindLink(std::string_view key, uint64_t hash, bool* in_old) {
  *in_old = false;
  if (buckets_ == nullptr) return nullptr;
  if (old_ != nullptr && (hash & old_mask_) >= rehash_pos_) {
    for (Entry** link = &old_[hash & old_mask_]; *link != nullptr; link = &(*link)->next) {
      if ((*link)->key() == key) {
        *in_old = true;
        return link;
      }
    }
  }
  for (Entry** link = &buckets_[hash & mask_]; *link != nullptr; link = &(*link)->next) {
    if ((*link)->key() == key) return link;
  }
  return nullptr;
}

Entry* Dict::Find(std::string_view key) {
  if (size_ == 0) return nullptr;
  RehashStep(1);
  bool in_old;
  Entry** link = FindLink(key, HashKey(key), &in_old);
  return link == nullptr ? nullptr : *link;
}

void Dict::Insert(Entry* e) {
  RehashStep(1);
  MaybeResize();
  const uint64_t hash = HashKey(e->key());
  [[maybe_unused]] bool in_old;
  assert(FindLink(e->key(), hash, &in_old) == nullptr);
  Entry*& head = buckets_[hash & mask_];
  e->next = head;
  head = e;
  ++size_;
}

Entry* Dict::Remove(std::string_view key) {
  if (size_ == 0) return nullptr;
  RehashStep(1);
  bool in_old;
  Entry** link = FindLink(key, HashKey(key), &in_old);
  if (link == nullptr) return nullptr;
  Entry* e = *link;
  *link = e->next;
  e->next = nullptr;
  --size_;
  if (in_old && --old_used_ == 0) RehashStep(1);  // frees old_
  MaybeResize();
  return e;
}

void Dict::Replace(Entry* old, Entry* replacement) {
  assert(old->key() == replacement->key());
  bool in_old;
  Entry** link = FindLink(old->key(), HashKey(old->key()), &in_old);
  assert(link != nullptr && *link == old);
  replacement->next = old->next;
  *link = replacement;
  old->next = nullptr;
}

void Dict::Clear() {
  if (old_ != nullptr) FreeChains(old_, old_mask_ + 1);
  if (buckets_ != nullptr) FreeChains(buckets_, mask_ + 1);
  std::free(old_);
  std::free(buckets_);
  buckets_ = old_ = nullptr;
  mask_ = old_mask_ = rehash_pos_ = old_used_ = size_ = 0;
}

void Dict::MaybeResize() {
  if (old_ != nullptr) return;
  if (buckets_ == nullptr) {
    buckets_ = AllocBuckets(kMinBuckets);
    mask_ = kMinBuckets - 1;
    return;
  }
  const size_t buckets = mask_ + 1;
  if (size_ >= buckets) {
    StartResize(std::max(buckets * 2, NextPowerOfTwo(size_ + 1)));
  } else if (buckets > kMinBuckets && size_ < buckets / 8) {
    // Leave room to double before the next grow, so a table hovering around one size does not
    // bounce between two.
    StartResize(NextPowerOfTwo(size_ * 2));
  }
}

void Dict::StartResize(size_t new_size) {
  assert(old_ == nullptr && new_size >= kMinBuckets && (new_size & (new_size - 1)) == 0);
  Entry** fresh = AllocBuckets(new_size);
  if (size_ == 0) {
    std::free(buckets_);
  } else {
    old_ = buckets_;
    old_mask_ = mask_;
    old_used_ = size_;
    rehash_pos_ = 0;
  }
  buckets_ = fresh;
  mask_ = new_size - 1;
}

bool Dict::RehashStep(int n) {
  if (old_ == nullptr) return false;
  int empty_visits = n * kEmptyVisitsPerStep;
  while (n-- > 0 && old_used_ > 0) {
    // old_used_ > 0 guarantees a non-empty bucket at or after rehash_pos_.
    while (old_[rehash_pos_] == nullptr) {
      ++rehash_pos_;
      if (--empty_visits <= 0) return true;
    }
    Entry* e = old_[rehash_pos_];
    old_[rehash_pos_++] = nullptr;
    while (e != nullptr) {
      Entry* next = e->next;
      Entry*& head = buckets_[HashKey(e->key()) & mask_];
      e->next = head;
      head = e;
      --old_used_;
      e = next;
    }
  }
  if (old_used_ > 0) return true;
  std::free(old_);
  old_ = nullptr;
  old_mask_ = rehash_pos_ = 0;
  // Entries may have come and gone while the rehash ran; the new size may already be wrong.
  MaybeResize();
  return rehashing();
}

uint64_t Dict::Scan(uint64_t cursor, const std::function<void(Entry*)>& fn) {
  if (size_ == 0) return 0;
  if (old_ == nullptr) {
    VisitChain(buckets_[cursor & mask_], fn);
    return NextScanCursor(cursor, mask_);
  }
  // Visit the cursor's bucket in the smaller table, then every bucket of the larger table that
  // maps onto it (they differ only in the high bits the smaller mask lacks).
  Entry** small = old_;
  size_t small_mask = old_mask_;
  Entry** large = buckets_;
  size_t large_mask = mask_;
  if (small_mask > large_mask) {
    std::swap(small, large);
    std::swap(small_mask, large_mask);
  }
  VisitChain(small[cursor & small_mask], fn);
  do {
    VisitChain(large[cursor & large_mask], fn);
    cursor = NextScanCursor(cursor, large_mask);
  } while (cursor & (small_mask ^ large_mask));
  return cursor;
}

Entry* Dict::RandomBucket(size_t i) const {
  if (old_ != nullptr) {
    const size_t unmoved = old_mask_ + 1 - rehash_pos_;
    if (i < unmoved) return old_[rehash_pos_ + i];
    i -= unmoved;
  }
  return buckets_[i];
}

Entry* Dict::Random(std::mt19937_64& rng) {
  if (size_ == 0) return nullptr;
  const size_t span = (mask_ + 1) + (old_ != nullptr ? old_mask_ + 1 - rehash_pos_ : 0);
  size_t i = rng() % span;
  Entry* head = RandomBucket(i);
  for (int draws = 1; head == nullptr && draws < kRandomDraws; ++draws) {
    i = rng() % span;
    head = RandomBucket(i);
  }
  while (head == nullptr) {
    i = (i + 1) % span;
    head = RandomBucket(i);
  }
  size_t len = 0;
  for (Entry* e = head; e != nullptr; e = e->next) ++len;
  for (size_t pick = rng() % len; pick > 0; --pick) head = head->next;
  return head;
}

size_t Dict::BucketMemory() const {
  size_t count = buckets_ != nullptr ? mask_ + 1 : 0;
  if (old_ != nullptr) count += old_mask_ + 1;
  return count * sizeof(Entry*);
}

}  // namespace runnel::engine
