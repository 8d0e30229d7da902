// Output buffer of one connection: a chain of fixed-size blocks that is sent with writev.
// Blocks come from and go back to a per-thread free list, so steady traffic allocates nothing.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace runnel::resp {

class OutBuffer {
 public:
  static constexpr size_t kBlockSize = 16 * 1024;

  OutBuffer() = default;
  ~OutBuffer();
  OutBuffer(const OutBuffer&) = delete;
  OutBuffer& operator=(const OutBuffer&) = delete;

  void Append(const char* data, size_t len) {
    if (tail_ != nullptr && kBlockSize - tail_->used >= len) {
      std::memcpy(tail_->data + tail_->used, data, len);
      tail_->used += len;
      size_ += len;
      return;
    }
    AppendSlow(data, len);
  }
  void Append(std::string_view s) { Append(s.data(), s.size()); }
  void Append(char c) { Append(&c, 1); }

  // Contiguous space of at least `n` bytes (n <= kBlockSize) at the end; Commit(k) makes k of
  // them part of the buffer. Lets the writer format numbers in place.
  char* Reserve(size_t n) {
    if (tail_ != nullptr && kBlockSize - tail_->used >= n) return tail_->data + tail_->used;
    return ReserveSlow(n);
  }
  void Commit(size_t n) {
    tail_->used += n;
    size_ += n;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Fills up to `max` iovecs with the pending bytes, front first; returns how many.
  int Gather(struct iovec* iov, int max) const;
  // Drops the first n pending bytes (they were written).
  void Consume(size_t n);
  void Clear();
  // Copies all pending bytes into a string (tests, MULTI queueing).
  std::string ToString() const;
  // Moves the content of `other` to the end of this buffer.
  void Splice(OutBuffer& other);

 private:
  char* ReserveSlow(size_t n);  // a new block
  struct Block {
    Block* next;
    size_t used;
    size_t start;  // bytes before `start` were already sent
    char data[kBlockSize];
  };
  static Block* NewBlock();
  static void FreeBlock(Block* b);
  void AppendSlow(const char* data, size_t len);

  Block* head_ = nullptr;
  Block* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace runnel::resp
