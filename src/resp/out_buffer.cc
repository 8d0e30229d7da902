// Output buffer block chain and the per-thread pool its blocks come from.
#include "resp/out_buffer.h"

#include <algorithm>
#include <cassert>
#include <new>

namespace runnel::resp {

namespace {

// Enough spare blocks for the bursts of one event loop; memory past that goes back to malloc so a
// single huge reply does not stay pinned in the pool.
constexpr int kMaxPooledBlocks = 64;

// The pool holds raw block memory. It is trivially destructible so that it stays usable until
// the thread ends, even by buffers destroyed after the drain below has run.
struct BlockPool {
  void* blocks[kMaxPooledBlocks];
  int count;
  bool drained;  // the thread is exiting: free blocks directly
};
thread_local BlockPool pool;

// Returns the pooled blocks to malloc when the thread exits.
struct PoolDrain {
  ~PoolDrain() {
    while (pool.count > 0) ::operator delete(pool.blocks[--pool.count]);
    pool.drained = true;
  }
};
thread_local PoolDrain pool_drain;

}  // namespace

OutBuffer::~OutBuffer() { Clear(); }

OutBuffer::Block* OutBuffer::NewBlock() {
  void* mem = pool.count > 0 ? pool.blocks[--pool.count] : ::operator new(sizeof(Block));
  Block* b = new (mem) Block;
  b->next = nullptr;
  b->used = 0;
  b->start = 0;
  return b;
}

void OutBuffer::FreeBlock(Block* b) {
  // Touching pool_drain registers its destructor for this thread.
  (void)&pool_drain;
  if (pool.drained || pool.count == kMaxPooledBlocks) {
    ::operator delete(b);
    return;
  }
  pool.blocks[pool.count++] = b;
}

char* OutBuffer::ReserveSlow(size_t n) {
  assert(n <= kBlockSize);
  Block* b = NewBlock();
  if (tail_ == nullptr) {
    head_ = b;
  } else {
    tail_->next = b;
  }
  tail_ = b;
  return tail_->data;
}

void OutBuffer::AppendSlow(const char* data, size_t len) {
  while (len > 0) {
    if (tail_ == nullptr || tail_->used == kBlockSize) Reserve(kBlockSize);
    size_t n = std::min(len, kBlockSize - tail_->used);
    std::memcpy(tail_->data + tail_->used, data, n);
    Commit(n);
    data += n;
    len -= n;
  }
}

int OutBuffer::Gather(struct iovec* iov, int max) const {
  int n = 0;
  for (Block* b = head_; b != nullptr && n < max; b = b->next) {
    if (b->used == b->start) continue;  // left empty by Reserve without Commit
    iov[n].iov_base = b->data + b->start;
    iov[n].iov_len = b->used - b->start;
    ++n;
  }
  return n;
}

void OutBuffer::Consume(size_t n) {
  assert(n <= size_);
  size_ -= n;
  while (head_ != nullptr) {
    size_t pending = head_->used - head_->start;
    if (n < pending) {
      head_->start += n;
      return;
    }
    n -= pending;
    // The tail is released too when it is used up, so an idle connection holds no block.
    Block* next = head_->next;
    FreeBlock(head_);
    head_ = next;
    if (head_ == nullptr) tail_ = nullptr;
  }
}

void OutBuffer::Clear() {
  while (head_ != nullptr) {
    Block* next = head_->next;
    FreeBlock(head_);
    head_ = next;
  }
  tail_ = nullptr;
  size_ = 0;
}

std::string OutBuffer::ToString() const {
  std::string s;
  s.reserve(size_);
  for (Block* b = head_; b != nullptr; b = b->next)
    s.append(b->data + b->start, b->used - b->start);
  return s;
}

void OutBuffer::Splice(OutBuffer& other) {
  if (&other == this) return;
  // A short tail is copied rather than linked, so that small MULTI replies do not leave a chain
  // of mostly empty blocks behind.
  if (other.size_ <= (tail_ == nullptr ? 0 : kBlockSize - tail_->used)) {
    for (Block* b = other.head_; b != nullptr; b = b->next) {
      Append(b->data + b->start, b->used - b->start);
    }
    other.Clear();
    return;
  }
  if (tail_ == nullptr) {
    head_ = other.head_;
  } else {
    tail_->next = other.head_;
  }
  tail_ = other.tail_;
  size_ += other.size_;
  other.head_ = other.tail_ = nullptr;
  other.size_ = 0;
}

}  // namespace runnel::resp
