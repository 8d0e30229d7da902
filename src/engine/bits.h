// Small encoding helpers the engine's packed structures and hash tables share.
#pragma once

#include <cstddef>
#include <cstdint>

namespace runnel::engine {

// Bytes a LEB128 varint of v takes (7 bits per byte, low bits first).
inline size_t VarintLen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes v as a LEB128 varint at p; returns the byte after it.
inline uint8_t* PutVarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

inline uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  return __builtin_bswap64(v);
}

// Advances a scan cursor to the next bucket of a table with this mask. The cursor counts with
// its bits reversed (high index bits change fastest) and the bits above the mask are set so the
// carry passes through them. In that order, the buckets a bucket splits into when the table
// grows, or merges with when it shrinks, all come at the same point of the sequence, so a
// resize between two calls neither skips entries nor restarts the walk.
inline uint64_t NextScanCursor(uint64_t cursor, uint64_t mask) {
  cursor |= ~mask;
  return ReverseBits(ReverseBits(cursor) + 1);
}

}  // namespace runnel::engine
