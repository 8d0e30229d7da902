// The "listpack" encoding of a sorted set: every (member, score) element one after another in a
// single buffer, in order (score, then member bytes). Meant for small sets, where a walk over a
// few hundred bytes beats any index in both memory and speed.
//
//   +-----+--------------+-------+-----+--------------+-------+-----+
//   | len | member bytes | score | len | member bytes | score | ... |
//   +-----+--------------+-------+-----+--------------+-------+-----+
//
//   len:   LEB128 varint
//   score: a tag byte t, then
//            t == 0     an 8-byte IEEE double (host byte order)
//            t in 1..7  an integer in t bytes, little-endian two's complement
//
// Integral scores of magnitude below 2^53 take the integer form, so the common "timestamp" or
// "counter" score costs 2 to 8 bytes. -0 reads back as 0, as it does from Redis's listpack. An element's position is its byte offset.
// The buffer is built only by this code (the loader goes through Insert/Append), so reads
// inside it cannot fail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace runnel::engine {

class ZPacked {
 public:
  static constexpr size_t kNotFound = SIZE_MAX;

  // An element read in place; `member` points into the buffer (valid until it changes).
  struct Element {
    std::string_view member;
    double score = 0;
    size_t offset = 0;  // of the element's first byte
    size_t next = 0;    // of the next element (bytes() at the end)
  };

  ZPacked() = default;
  ~ZPacked();
  ZPacked(const ZPacked& o);
  ZPacked& operator=(const ZPacked& o);
  ZPacked(ZPacked&& o) noexcept;
  ZPacked& operator=(ZPacked&& o) noexcept;

  size_t size() const { return count_; }
  size_t bytes() const { return used_; }
  // Bytes an element takes.
  static size_t ElementBytes(std::string_view member, double score);

  // Reads the element at `offset` (< bytes()).
  Element Read(size_t offset) const;
  // The offset of `member`'s element (its score in *score), or kNotFound.
  size_t Find(std::string_view member, double* score) const;
  // Inserts an element in order; `member` must be absent.
  void Insert(std::string_view member, double score);
  // Adds an element after every other one; it must sort after them.
  void Append(std::string_view member, double score);
  void EraseAt(size_t offset);
  // Removes the bytes [from, to) holding `count` elements.
  void EraseBytes(size_t from, size_t to, size_t count);
  // The offsets of every element, in order (for walks backwards and random access).
  std::vector<uint32_t> Offsets() const;
  // The offset of the element at `rank` (0-based, ascending).
  size_t OffsetOfRank(size_t rank) const;
  size_t MemoryUsage() const { return cap_; }

 private:
  // Makes room for `n` more bytes at `offset`.
  char* OpenGap(size_t offset, size_t n);
  void Write(char* p, std::string_view member, double score);

  char* buf_ = nullptr;
  size_t used_ = 0;
  size_t cap_ = 0;
  size_t count_ = 0;
};

}  // namespace runnel::engine
