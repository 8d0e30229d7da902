// Storage of set members: the packed integer array, the packed string buffer and the hash table.
#include "engine/set_members.h"
#include "engine/bits.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <new>
#include <utility>

#include "engine/dict.h"

namespace runnel::engine {

// ---------------------------------------------------------------------------------------------
// IntSet
// ---------------------------------------------------------------------------------------------

namespace {

int WidthFor(int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

}  // namespace

int64_t IntSet::at(size_t i) const {
  const uint8_t* p = bytes_.data() + i * width_;
  switch (width_) {
    case 2: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

void IntSet::Put(size_t i, int64_t v) {
  uint8_t* p = bytes_.data() + i * width_;
  if (width_ == 2) {
    int16_t n = static_cast<int16_t>(v);
    std::memcpy(p, &n, 2);
  } else if (width_ == 4) {
    int32_t n = static_cast<int32_t>(v);
    std::memcpy(p, &n, 4);
  } else {
    std::memcpy(p, &v, 8);
  }
}

size_t IntSet::LowerBound(int64_t v) const {
  size_t lo = 0, hi = size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid) < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

bool IntSet::Contains(int64_t v) const {
  if (WidthFor(v) > width_) return false;
  size_t i = LowerBound(v);
  return i < size() && at(i) == v;
}

void IntSet::Widen(int width) {
  const size_t n = size();
  std::vector<uint8_t> old;
  old.swap(bytes_);
  const int old_width = width_;
  bytes_.resize(n * width);
  width_ = static_cast<uint8_t>(width);
  for (size_t i = 0; i < n; ++i) {
    int64_t v;
    if (old_width == 2) {
      int16_t x;
      std::memcpy(&x, old.data() + i * 2, 2);
      v = x;
    } else {
      int32_t x;
      std::memcpy(&x, old.data() + i * 4, 4);
      v = x;
    }
    Put(i, v);
  }
}

bool IntSet::Insert(int64_t v) {
  if (WidthFor(v) > width_) Widen(WidthFor(v));  // v lies beyond every stored value
  size_t i = LowerBound(v);
  if (i < size() && at(i) == v) return false;
  bytes_.insert(bytes_.begin() + static_cast<ptrdiff_t>(i * width_), width_, 0);
  Put(i, v);
  return true;
}

void IntSet::EraseAt(size_t i) {
  auto first = bytes_.begin() + static_cast<ptrdiff_t>(i * width_);
  bytes_.erase(first, first + width_);
}

bool IntSet::Erase(int64_t v) {
  if (WidthFor(v) > width_) return false;
  size_t i = LowerBound(v);
  if (i >= size() || at(i) != v) return false;
  EraseAt(i);
  return true;
}

// ---------------------------------------------------------------------------------------------
// PackedStrings
// ---------------------------------------------------------------------------------------------

namespace {

// Reads the LEB128 length at buf[*off] and advances *off past it. The buffer is built only by
// Append, so the varint is always complete.
size_t ReadLength(const std::string& buf, size_t* off) {
  size_t v = 0;
  for (int shift = 0;; shift += 7) {
    uint8_t b = static_cast<uint8_t>(buf[(*off)++]);
    v |= static_cast<size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
}

}  // namespace

std::string_view PackedStrings::At(size_t offset) const {
  size_t len = ReadLength(buf_, &offset);
  return std::string_view(buf_.data() + offset, len);
}

size_t PackedStrings::Find(std::string_view s) const {
  for (size_t off = 0; off < buf_.size();) {
    size_t start = off;
    size_t len = ReadLength(buf_, &off);
    if (len == s.size() && std::memcmp(buf_.data() + off, s.data(), len) == 0) return start;
    off += len;
  }
  return kNotFound;
}

void PackedStrings::Append(std::string_view s) {
  uint64_t v = s.size();
  while (v >= 0x80) {
    buf_.push_back(static_cast<char>(static_cast<uint8_t>(v) | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<char>(v));
  buf_.append(s);
  ++count_;
}

void PackedStrings::EraseAt(size_t offset) {
  std::string_view s = At(offset);
  size_t end = static_cast<size_t>(s.data() + s.size() - buf_.data());
  buf_.erase(offset, end - offset);
  --count_;
  if (buf_.capacity() > 64 && buf_.size() < buf_.capacity() / 4) buf_.shrink_to_fit();
}

bool PackedStrings::Erase(std::string_view s) {
  size_t off = Find(s);
  if (off == kNotFound) return false;
  EraseAt(off);
  return true;
}

std::vector<uint32_t> PackedStrings::Offsets() const {
  std::vector<uint32_t> out;
  out.reserve(count_);
  for (size_t off = 0; off < buf_.size();) {
    out.push_back(static_cast<uint32_t>(off));
    size_t len = ReadLength(buf_, &off);
    off += len;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MemberTable
// ---------------------------------------------------------------------------------------------

namespace {

constexpr size_t kMinBuckets = 4;
// Random() makes this many fair draws before it settles for a quick unfair one, which bounds its
// cost on a table left sparse by removals.
constexpr int kFairDraws = 1000;

size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = kMinBuckets;
  while (p < n) p *= 2;
  return p;
}

template <class Node>
Node** NewBuckets(size_t n) {
  void* p = std::calloc(n, sizeof(Node*));
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<Node**>(p);
}

}  // namespace

void MemberTable::Steal(MemberTable& o) {
  buckets_ = std::exchange(o.buckets_, nullptr);
  mask_ = std::exchange(o.mask_, 0);
  old_ = std::exchange(o.old_, nullptr);
  old_mask_ = std::exchange(o.old_mask_, 0);
  rehash_pos_ = std::exchange(o.rehash_pos_, 0);
  old_used_ = std::exchange(o.old_used_, 0);
  size_ = std::exchange(o.size_, 0);
  bytes_ = std::exchange(o.bytes_, 0);
}

void MemberTable::Clear() {
  for (Node** table : {old_, buckets_}) {
    if (table == nullptr) continue;
    size_t n = (table == old_ ? old_mask_ : mask_) + 1;
    for (size_t i = 0; i < n; ++i) {
      for (Node* e = table[i]; e != nullptr;) {
        Node* next = e->next;
        std::free(e);
        e = next;
      }
    }
    std::free(table);
  }
  buckets_ = old_ = nullptr;
  mask_ = old_mask_ = rehash_pos_ = old_used_ = size_ = bytes_ = 0;
}

MemberTable::Node** MemberTable::FindLink(std::string_view s, uint64_t hash, bool* in_old) const {
  *in_old = false;
  if (buckets_ == nullptr) return nullptr;
  auto search = [&](Node** head) -> Node** {
    for (Node** link = head; *link != nullptr; link = &(*link)->next)
      if ((*link)->view() == s) return link;
    return nullptr;
  };
  if (old_ != nullptr && (hash & old_mask_) >= rehash_pos_) {
    if (Node** link = search(&old_[hash & old_mask_])) {
      *in_old = true;
      return link;
    }
  }
  return search(&buckets_[hash & mask_]);
}

bool MemberTable::Contains(std::string_view s) const {
  bool in_old;
  return size_ > 0 && FindLink(s, HashKey(s), &in_old) != nullptr;
}

bool MemberTable::Insert(std::string_view s) {
  RehashStep();
  const uint64_t hash = HashKey(s);
  bool in_old;
  if (FindLink(s, hash, &in_old) != nullptr) return false;
  MaybeResize();
  auto* node = static_cast<Node*>(std::malloc(sizeof(Node) + s.size()));
  if (node == nullptr) throw std::bad_alloc();
  node->len = static_cast<uint32_t>(s.size());
  std::memcpy(node + 1, s.data(), s.size());
  Node*& head = buckets_[hash & mask_];
  node->next = head;
  head = node;
  ++size_;
  bytes_ += sizeof(Node) + s.size();
  return true;
}

bool MemberTable::Erase(std::string_view s) {
  if (size_ == 0) return false;
  RehashStep();
  bool in_old;
  Node** link = FindLink(s, HashKey(s), &in_old);
  if (link == nullptr) return false;
  Node* node = *link;
  *link = node->next;
  bytes_ -= sizeof(Node) + node->len;
  std::free(node);
  --size_;
  if (in_old) --old_used_;
  RehashStep();  // frees old_ once it is drained
  MaybeResize();
  return true;
}

void MemberTable::Reserve(size_t n) {
  if (size_ != 0 || old_ != nullptr) return;
  std::free(buckets_);
  size_t count = PowerOfTwoAtLeast(n);
  buckets_ = NewBuckets<Node>(count);
  mask_ = count - 1;
}

void MemberTable::MaybeResize() {
  if (old_ != nullptr) return;
  if (buckets_ == nullptr) {
    Reserve(kMinBuckets);
    return;
  }
  const size_t buckets = mask_ + 1;
  if (size_ >= buckets) {
    StartResize(buckets * 2);
  } else if (buckets > kMinBuckets && size_ < buckets / 8) {
    // Room to double before the next grow, so a size near a boundary does not bounce.
    StartResize(PowerOfTwoAtLeast(size_ * 2));
  }
}

void MemberTable::StartResize(size_t buckets) {
  Node** fresh = NewBuckets<Node>(buckets);
  if (size_ == 0) {
    std::free(buckets_);
  } else {
    old_ = buckets_;
    old_mask_ = mask_;
    old_used_ = size_;
    rehash_pos_ = 0;
  }
  buckets_ = fresh;
  mask_ = buckets - 1;
}

// Moves one non-empty bucket of old_ (looking at no more than ten empty ones on the way).
void MemberTable::RehashStep() {
  if (old_ == nullptr) return;
  for (int empty = 0; old_used_ > 0 && old_[rehash_pos_] == nullptr; ++empty) {
    if (empty == 10) return;
    ++rehash_pos_;
  }
  if (old_used_ > 0) {
    Node* e = old_[rehash_pos_];
    old_[rehash_pos_++] = nullptr;
    while (e != nullptr) {
      Node* next = e->next;
      Node*& head = buckets_[HashKey(e->view()) & mask_];
      e->next = head;
      head = e;
      --old_used_;
      e = next;
    }
  }
  if (old_used_ > 0) return;
  std::free(old_);
  old_ = nullptr;
  old_mask_ = rehash_pos_ = 0;
}

void MemberTable::CopyFrom(const MemberTable& other) {
  Clear();
  Reserve(other.size_ == 0 ? kMinBuckets : other.size_);
  other.ForEach([&](std::string_view s) { return Insert(s) || true; });
}

MemberTable::Node* MemberTable::RandomBucket(size_t i) const {
  if (old_ != nullptr) {
    const size_t unmoved = old_mask_ + 1 - rehash_pos_;
    if (i < unmoved) return old_[rehash_pos_ + i];
    i -= unmoved;
  }
  return buckets_[i];
}

std::string_view MemberTable::Random(std::mt19937_64& rng) const {
  assert(size_ > 0);
  const size_t span = (mask_ + 1) + (old_ != nullptr ? old_mask_ + 1 - rehash_pos_ : 0);
  // Uniform over members: a random bucket, then a random slot among `cap` per bucket, retried
  // when the slot is past the chain's end (so members of long chains are not less likely).
  size_t cap = 4;
  for (int draw = 0; draw < kFairDraws; ++draw) {
    Node* head = RandomBucket(rng() % span);
    if (head == nullptr) continue;
    size_t len = 0;
    for (Node* e = head; e != nullptr; e = e->next) ++len;
    cap = std::max(cap, len);
    size_t pick = rng() % cap;
    if (pick >= len) continue;
    for (; pick > 0; --pick) head = head->next;
    return head->view();
  }
  // Unlucky on a sparse table: the first member from a random bucket on.
  for (size_t i = rng() % span;; i = (i + 1) % span)
    if (Node* head = RandomBucket(i)) return head->view();
}

uint64_t MemberTable::ScanImpl(uint64_t cursor, ScanVisitor visit, void* ctx) const {
  if (size_ == 0) return 0;
  auto chain = [&](Node* e) {
    for (; e != nullptr; e = e->next) visit(ctx, e->view());
  };
  if (old_ == nullptr) {
    chain(buckets_[cursor & mask_]);
    return NextScanCursor(cursor, mask_);
  }
  // The cursor's bucket in the smaller array, then every bucket of the larger one that folds
  // onto it (they differ only in the bits the smaller mask lacks).
  Node** small = old_;
  size_t small_mask = old_mask_;
  Node** large = buckets_;
  size_t large_mask = mask_;
  if (small_mask > large_mask) {
    std::swap(small, large);
    std::swap(small_mask, large_mask);
  }
  chain(small[cursor & small_mask]);
  do {
    chain(large[cursor & large_mask]);
    cursor = NextScanCursor(cursor, large_mask);
  } while (cursor & (small_mask ^ large_mask));
  return cursor;
}

size_t MemberTable::MemoryUsage() const {
  size_t buckets = (buckets_ != nullptr ? mask_ + 1 : 0) + (old_ != nullptr ? old_mask_ + 1 : 0);
  // Each node is its own allocation; count the allocator's header too.
  return buckets * sizeof(Node*) + bytes_ + size_ * 8;
}

}  // namespace runnel::engine
