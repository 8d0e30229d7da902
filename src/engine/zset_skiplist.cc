// The skip list of the "skiplist" sorted-set encoding and its member index.
//
// Spans: level i of node x skips x->levels()[i].span elements to reach its next node; a null
// next's span counts the elements after x. The head's levels at or above height_ are stale and
// reset when the list grows into them.
#include "engine/zset_skiplist.h"

#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <utility>

#include "engine/bits.h"
#include "engine/dict.h"

namespace runnel::engine {

namespace {

using Node = ZSkipList::Node;
using Level = ZSkipList::Level;

constexpr size_t kMinBuckets = 4;
// The allocator's bookkeeping per node, for MEMORY USAGE.
constexpr size_t kMallocOverhead = 8;

// A node is one level taller with probability 1/4 (two random bits per level), as in Redis.
int RandomHeight() {
  thread_local uint64_t state = std::random_device{}() | 1;
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  uint64_t bits = state;
  int h = 1;
  while (h < ZSkipList::kMaxHeight && (bits & 3) == 0) {
    ++h;
    bits >>= 2;
  }
  return h;
}

size_t NodeBytes(int height, size_t len) { return sizeof(Node) + height * sizeof(Level) + len; }

Node* NewNode(int height, std::string_view member, double score) {
  void* p = std::malloc(NodeBytes(height, member.size()));
  if (p == nullptr) throw std::bad_alloc();
  Node* n = static_cast<Node*>(p);
  n->score = score;
  n->backward = nullptr;
  n->hnext = nullptr;
  n->len = static_cast<uint32_t>(member.size());
  n->height = static_cast<uint8_t>(height);
  for (int i = 0; i < height; ++i) n->levels()[i] = Level{nullptr, 0};
  if (!member.empty()) std::memcpy(n->levels() + height, member.data(), member.size());
  return n;
}

size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = kMinBuckets;
  while (p < n) p *= 2;
  return p;
}

Node** NewBuckets(size_t n) {
  void* p = std::calloc(n, sizeof(Node*));
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<Node**>(p);
}

}  // namespace

ZSkipList::ZSkipList() : head_(NewNode(kMaxHeight, {}, 0)) {
  bytes_ = NodeBytes(kMaxHeight, 0) + kMallocOverhead;
}

ZSkipList::~ZSkipList() { FreeNodes(); }

ZSkipList::ZSkipList(ZSkipList&& o) noexcept
    : head_(std::exchange(o.head_, nullptr)),
      tail_(std::exchange(o.tail_, nullptr)),
      length_(std::exchange(o.length_, 0)),
      height_(std::exchange(o.height_, 1)),
      bytes_(std::exchange(o.bytes_, 0)),
      buckets_(std::exchange(o.buckets_, nullptr)),
      mask_(std::exchange(o.mask_, 0)),
      old_(std::exchange(o.old_, nullptr)),
      old_mask_(std::exchange(o.old_mask_, 0)),
      rehash_pos_(std::exchange(o.rehash_pos_, 0)),
      old_used_(std::exchange(o.old_used_, 0)),
      indexed_(std::exchange(o.indexed_, 0)) {}

ZSkipList& ZSkipList::operator=(ZSkipList&& o) noexcept {
  if (this != &o) {
    FreeNodes();
    head_ = std::exchange(o.head_, nullptr);
    tail_ = std::exchange(o.tail_, nullptr);
    length_ = std::exchange(o.length_, 0);
    height_ = std::exchange(o.height_, 1);
    bytes_ = std::exchange(o.bytes_, 0);
    buckets_ = std::exchange(o.buckets_, nullptr);
    mask_ = std::exchange(o.mask_, 0);
    old_ = std::exchange(o.old_, nullptr);
    old_mask_ = std::exchange(o.old_mask_, 0);
    rehash_pos_ = std::exchange(o.rehash_pos_, 0);
    old_used_ = std::exchange(o.old_used_, 0);
    indexed_ = std::exchange(o.indexed_, 0);
  }
  return *this;
}

void ZSkipList::FreeNodes() {
  // A moved-from list has no head and owns nothing.
  if (head_ != nullptr) {
    for (Node* n = head_; n != nullptr;) {
      Node* next = n->next();
      std::free(n);
      n = next;
    }
  }
  std::free(buckets_);
  std::free(old_);
  head_ = tail_ = nullptr;
  buckets_ = old_ = nullptr;
}

// ---------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------

template <class Before>
uint64_t ZSkipList::Descend(Before before, Node** update) const {
  Node* x = head_;
  uint64_t rank = 0;
  for (int i = height_ - 1; i >= 0; --i) {
    while (x->levels()[i].next != nullptr && before(x->levels()[i].next)) {
      rank += x->levels()[i].span;
      x = x->levels()[i].next;
    }
    update[i] = x;
  }
  return rank;
}

void ZSkipList::FindPath(double score, std::string_view member, Node** update) const {
  Descend([&](const Node* n) { return ElementLess(n->score, n->member(), score, member); }, update);
}

void ZSkipList::Link(Node* node) {
  Node* update[kMaxHeight];
  uint64_t rank[kMaxHeight];
  const std::string_view member = node->member();
  Node* x = head_;
  for (int i = height_ - 1; i >= 0; --i) {
    rank[i] = i == height_ - 1 ? 0 : rank[i + 1];
    while (x->levels()[i].next != nullptr &&
           ElementLess(x->levels()[i].next->score, x->levels()[i].next->member(), node->score,
                       member)) {
      rank[i] += x->levels()[i].span;
      x = x->levels()[i].next;
    }
    update[i] = x;
  }
  const int h = node->height;
  if (h > height_) {
    for (int i = height_; i < h; ++i) {
      rank[i] = 0;
      update[i] = head_;
      head_->levels()[i] = Level{nullptr, length_};
    }
    height_ = h;
  }
  for (int i = 0; i < h; ++i) {
    Level& before = update[i]->levels()[i];
    node->levels()[i].next = before.next;
    node->levels()[i].span = before.span - (rank[0] - rank[i]);
    before.next = node;
    before.span = rank[0] - rank[i] + 1;
  }
  for (int i = h; i < height_; ++i) ++update[i]->levels()[i].span;
  node->backward = update[0] == head_ ? nullptr : update[0];
  if (node->next() != nullptr) {
    node->next()->backward = node;
  } else {
    tail_ = node;
  }
  ++length_;
}

void ZSkipList::Unlink(Node* node, Node** update) {
  for (int i = 0; i < height_; ++i) {
    Level& before = update[i]->levels()[i];
    if (before.next == node) {
      before.span += node->levels()[i].span - 1;
      before.next = node->levels()[i].next;
    } else {
      --before.span;
    }
  }
  if (node->next() != nullptr) {
    node->next()->backward = node->backward;
  } else {
    tail_ = node->backward;
  }
  while (height_ > 1 && head_->levels()[height_ - 1].next == nullptr) --height_;
  --length_;
}

void ZSkipList::Remove(Node* node, Node** update) {
  Unlink(node, update);
  IndexRemove(node);
  bytes_ -= NodeBytes(node->height, node->len) + kMallocOverhead;
  std::free(node);
}

ZSkipList::Node* ZSkipList::Insert(std::string_view member, double score) {
  Node* node = NewNode(RandomHeight(), member, score);
  bytes_ += NodeBytes(node->height, node->len) + kMallocOverhead;
  Link(node);
  IndexInsert(node);
  return node;
}

void ZSkipList::UpdateScore(Node* node, double score) {
  const std::string_view m = node->member();
  const Node* prev = node->backward;
  const Node* next = node->next();
  if ((prev == nullptr || ElementLess(prev->score, prev->member(), score, m)) &&
      (next == nullptr || ElementLess(score, m, next->score, next->member()))) {
    node->score = score;  // its place does not change
    return;
  }
  Node* update[kMaxHeight];
  FindPath(node->score, m, update);
  assert(update[0]->next() == node);
  Unlink(node, update);
  node->score = score;
  Link(node);
}

bool ZSkipList::Erase(std::string_view member) {
  Node* node = Find(member);
  if (node == nullptr) return false;
  EraseNode(node);
  return true;
}

void ZSkipList::EraseNode(Node* node) {
  Node* update[kMaxHeight];
  FindPath(node->score, node->member(), update);
  assert(update[0]->next() == node);
  Remove(node, update);
}

uint64_t ZSkipList::RankOf(const Node* node) const {
  Node* update[kMaxHeight];
  const uint64_t rank = Descend(
      [&](const Node* n) {
        return n == node || ElementLess(n->score, n->member(), node->score, node->member());
      },
      update);
  return rank - 1;
}

ZSkipList::Node* ZSkipList::AtRank(uint64_t rank) const {
  const uint64_t target = rank + 1;
  uint64_t traversed = 0;
  Node* x = head_;
  for (int i = height_ - 1; i >= 0; --i) {
    while (x->levels()[i].next != nullptr && traversed + x->levels()[i].span <= target) {
      traversed += x->levels()[i].span;
      x = x->levels()[i].next;
    }
    if (traversed == target) return x;
  }
  return nullptr;
}

ZSkipList::Node* ZSkipList::FirstIn(const ScoreRange& r, uint64_t* rank) const {
  if (r.Empty() || length_ == 0) return nullptr;
  Node* update[kMaxHeight];
  *rank = Descend([&](const Node* n) { return !r.AboveMin(n->score); }, update);
  Node* x = update[0]->next();
  return x != nullptr && r.BelowMax(x->score) ? x : nullptr;
}

ZSkipList::Node* ZSkipList::LastIn(const ScoreRange& r, uint64_t* rank) const {
  if (r.Empty() || length_ == 0) return nullptr;
  Node* update[kMaxHeight];
  const uint64_t n = Descend([&](const Node* x) { return r.BelowMax(x->score); }, update);
  Node* x = update[0];
  if (x == head_ || !r.AboveMin(x->score)) return nullptr;
  *rank = n - 1;
  return x;
}

ZSkipList::Node* ZSkipList::FirstIn(const LexRange& r, uint64_t* rank) const {
  if (r.Empty() || length_ == 0) return nullptr;
  Node* update[kMaxHeight];
  *rank = Descend([&](const Node* n) { return !r.AboveMin(n->member()); }, update);
  Node* x = update[0]->next();
  return x != nullptr && r.BelowMax(x->member()) ? x : nullptr;
}

ZSkipList::Node* ZSkipList::LastIn(const LexRange& r, uint64_t* rank) const {
  if (r.Empty() || length_ == 0) return nullptr;
  Node* update[kMaxHeight];
  const uint64_t n = Descend([&](const Node* x) { return r.BelowMax(x->member()); }, update);
  Node* x = update[0];
  if (x == head_ || !r.AboveMin(x->member())) return nullptr;
  *rank = n - 1;
  return x;
}

uint64_t ZSkipList::EraseRanks(uint64_t start, uint64_t stop) {
  Node* update[kMaxHeight];
  uint64_t traversed = 0;
  Node* x = head_;
  for (int i = height_ - 1; i >= 0; --i) {
    while (x->levels()[i].next != nullptr && traversed + x->levels()[i].span <= start) {
      traversed += x->levels()[i].span;
      x = x->levels()[i].next;
    }
    update[i] = x;
  }
  uint64_t removed = 0;
  x = x->next();
  for (uint64_t r = start; x != nullptr && r <= stop; ++r) {
    Node* next = x->next();
    Remove(x, update);
    ++removed;
    x = next;
  }
  return removed;
}

uint64_t ZSkipList::EraseRange(const ScoreRange& r) {
  if (r.Empty() || length_ == 0) return 0;
  Node* update[kMaxHeight];
  Descend([&](const Node* n) { return !r.AboveMin(n->score); }, update);
  uint64_t removed = 0;
  for (Node* x = update[0]->next(); x != nullptr && r.BelowMax(x->score);) {
    Node* next = x->next();
    Remove(x, update);
    ++removed;
    x = next;
  }
  return removed;
}

uint64_t ZSkipList::EraseRange(const LexRange& r) {
  if (r.Empty() || length_ == 0) return 0;
  Node* update[kMaxHeight];
  Descend([&](const Node* n) { return !r.AboveMin(n->member()); }, update);
  uint64_t removed = 0;
  for (Node* x = update[0]->next(); x != nullptr && r.BelowMax(x->member());) {
    Node* next = x->next();
    Remove(x, update);
    ++removed;
    x = next;
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// The member index
// ---------------------------------------------------------------------------------------------

ZSkipList::Node** ZSkipList::FindLink(std::string_view member, uint64_t hash, bool* in_old) const {
  *in_old = false;
  if (buckets_ == nullptr) return nullptr;
  auto search = [&](Node** head) -> Node** {
    for (Node** link = head; *link != nullptr; link = &(*link)->hnext)
      if ((*link)->member() == member) return link;
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

ZSkipList::Node* ZSkipList::Find(std::string_view member) const {
  if (length_ == 0) return nullptr;
  bool in_old;
  Node** link = FindLink(member, HashKey(member), &in_old);
  return link == nullptr ? nullptr : *link;
}

void ZSkipList::IndexInsert(Node* node) {
  RehashStep();
  MaybeResize();
  Node*& head = buckets_[HashKey(node->member()) & mask_];
  node->hnext = head;
  head = node;
  ++indexed_;
}

void ZSkipList::IndexRemove(Node* node) {
  RehashStep();
  bool in_old;
  Node** link = FindLink(node->member(), HashKey(node->member()), &in_old);
  assert(link != nullptr && *link == node);
  *link = node->hnext;
  node->hnext = nullptr;
  --indexed_;
  if (in_old) --old_used_;
  RehashStep();  // frees old_ once it is drained
  MaybeResize();
}

void ZSkipList::Reserve(size_t n) {
  if (indexed_ != 0 || old_ != nullptr) return;
  std::free(buckets_);
  const size_t count = PowerOfTwoAtLeast(n);
  buckets_ = NewBuckets(count);
  mask_ = count - 1;
}

void ZSkipList::MaybeResize() {
  if (old_ != nullptr) return;
  if (buckets_ == nullptr) {
    Reserve(kMinBuckets);
    return;
  }
  const size_t buckets = mask_ + 1;
  if (indexed_ >= buckets) {
    StartResize(buckets * 2);
  } else if (buckets > kMinBuckets && indexed_ < buckets / 8) {
    // Room to double before the next grow, so a size near a boundary does not bounce.
    StartResize(PowerOfTwoAtLeast(indexed_ * 2));
  }
}

void ZSkipList::StartResize(size_t buckets) {
  Node** fresh = NewBuckets(buckets);
  if (indexed_ == 0) {
    std::free(buckets_);
  } else {
    old_ = buckets_;
    old_mask_ = mask_;
    old_used_ = indexed_;
    rehash_pos_ = 0;
  }
  buckets_ = fresh;
  mask_ = buckets - 1;
}

// Moves one non-empty bucket of old_ (looking at no more than ten empty ones on the way).
void ZSkipList::RehashStep() {
  if (old_ == nullptr) return;
  for (int empty = 0; old_used_ > 0 && old_[rehash_pos_] == nullptr; ++empty) {
    if (empty == 10) return;
    ++rehash_pos_;
  }
  if (old_used_ > 0) {
    Node* n = old_[rehash_pos_];
    old_[rehash_pos_++] = nullptr;
    while (n != nullptr) {
      Node* next = n->hnext;
      Node*& head = buckets_[HashKey(n->member()) & mask_];
      n->hnext = head;
      head = n;
      --old_used_;
      n = next;
    }
  }
  if (old_used_ > 0) return;
  std::free(old_);
  old_ = nullptr;
  old_mask_ = rehash_pos_ = 0;
}

uint64_t ZSkipList::Scan(uint64_t cursor, ElementVisitor fn) const {
  if (indexed_ == 0 || buckets_ == nullptr) return 0;
  auto chain = [&](Node* n) {
    for (; n != nullptr; n = n->hnext) fn(n->member(), n->score);
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

}  // namespace runnel::engine
