// The "listpack" encoding of a hash: the object header and the field/value pairs in one heap
// block, so a small hash costs a single allocation.
//
//   +--------+-------+-------+-------+-------+-- ... --+------+---------+
//   | vptr 8 | field | value | field | value |         | 0x00 |  spare  |
//   +--------+-------+-------+-------+-------+-- ... --+------+---------+
//
//   element (a field or a value), by its first byte b:
//     0x01..0xBF        a string of b - 1 bytes (0..190), the bytes follow
//     0xC0..0xC7        an integer in b - 0xBF bytes (1..8), little-endian two's complement
//     0xFF              a longer string: a LEB128 varint length, then the bytes
//   a 0x00 byte where a field would start ends the pairs.
//
// A string that is the canonical decimal form of an int64 ("1234567", "-5"; not "007", "+1")
// is always stored as an integer, as Redis's listpack does: a counter or an offset takes 4 or 5
// bytes instead of 8, and since every text has exactly one encoding, lookups compare encoded
// elements. The block's capacity is what malloc_usable_size reports, so neither a pair count
// nor a byte count is stored: for five short pairs that is the difference between a 48-byte and
// a 64-byte allocation. Operations walk the pairs, which is cheap because a hash only stays in
// this encoding while it is small.
//
// Pairs stay in insertion order; a changed value keeps its place (as in Redis's listpack, so
// HGETALL answers in Redis's order). Blocks are built only by this code (the loader goes through
// Append), so reads inside them cannot fail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/object.h"

namespace runnel::engine {

// A field or value read from a block: bytes in place, or an integer that reads as its decimal
// text. view() points into the block or into this object, so it is valid while both stay put.
class PackedText {
 public:
  std::string_view view() const;

 private:
  friend struct PackedCodec;
  const char* data_ = nullptr;
  size_t len_ = 0;
  int64_t int_ = 0;
  bool is_int_ = false;
  mutable char buf_[24];
};

// One pair read in place; valid until the block changes.
struct PackedPair {
  PackedText field;
  PackedText value;
  size_t offset = 0;    // of the pair's first byte
  size_t value_at = 0;  // of the value's first byte
  size_t bytes = 0;     // the pair's size
};

// Where the pairs end: how many there are and the offset of the end marker.
struct PackedExtent {
  size_t count = 0;
  size_t end = 0;
};

class PackedHash final : public Object {
 public:
  // An empty hash with room for at least `capacity` bytes of pairs (end marker included).
  static PackedHash* Create(size_t capacity);
  // The block is malloc'ed with its pairs behind the object: free it the same way.
  static void operator delete(void* p);

  // --- Object ---
  size_t MemoryUsage() const override;
  const char* EncodingName() const override { return "listpack"; }
  Object* Clone() const override;
  void Serialize(std::string* out) const override;

  // Bytes a pair takes in a block.
  static size_t PairBytes(std::string_view field, std::string_view value);
  // Bytes available for pairs and the end marker.
  size_t capacity() const;
  // Walks all pairs.
  PackedExtent Extent() const;
  size_t size() const { return Extent().count; }
  // Reads the pair at *pos and advances *pos past it; false at the end marker.
  bool Next(size_t* pos, PackedPair* out) const;
  // Finds `field`. When it is absent, *extent (if given) describes the whole block.
  bool Find(std::string_view field, PackedPair* out, PackedExtent* extent = nullptr) const;

  // The writes below need the room they use: the caller checks capacity() first.
  // Adds a pair at the end marker's offset `end`.
  void Append(size_t end, std::string_view field, std::string_view value);
  // Gives the pair `p` a new value; `used` is the block's bytes in use (Extent().end + 1).
  void ReplaceValue(const PackedPair& p, std::string_view value, size_t used);
  void Erase(const PackedPair& p, size_t used);

  // A copy holding the same pairs with room for `capacity` bytes (at least the bytes in use).
  PackedHash* Copy(size_t capacity) const;

 private:
  PackedHash() = default;
  uint8_t* data() { return reinterpret_cast<uint8_t*>(this) + sizeof(PackedHash); }
  const uint8_t* data() const {
    return reinterpret_cast<const uint8_t*>(this) + sizeof(PackedHash);
  }
};

// The block starts right after the vtable pointer: nothing else lives in the header.
static_assert(sizeof(PackedHash) == sizeof(void*));

}  // namespace runnel::engine
