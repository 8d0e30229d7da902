// The hash value type: field/value pairs in one of two encodings, named as OBJECT ENCODING names
// them. Knows nothing of RESP; commands/hashes.cc turns results into Redis's replies.
//
//   "listpack"   PackedHash (hash_packed.h): the pairs packed behind the object header in one
//                block, while the hash has at most `max_entries` pairs and no field or value
//                longer than `max_value` bytes (hash-max-listpack-entries / -value).
//   "hashtable"  TableHash (hash_table.h): a Dict of pairs, once either limit is passed. As in
//                Redis, a hash never converts back while it lives; a checkpoint or DUMP
//                keeps its encoding.
//
// The value moves: the packed block is reallocated as it grows or shrinks, and a conversion
// replaces the object. So a hash is reached through a Hash view bound to its key's Entry,
// which re-points the entry at the value's current object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "engine/entry.h"
#include "engine/hash_packed.h"
#include "engine/hash_table.h"
#include "engine/object.h"

namespace runnel::engine {

// When a hash leaves the packed encoding. The command layer fills it from the configuration.
struct HashLimits {
  size_t max_entries = 512;
  size_t max_value = 64;
  bool Fits(std::string_view s) const { return s.size() <= max_value; }
};

using PairFn = std::function<void(std::string_view field, std::string_view value)>;
// Like PairFn, returning false to stop.
using PairWhileFn = std::function<bool(std::string_view field, std::string_view value)>;

class Hash {
 public:
  // A new empty hash value (packed) with room for `capacity` bytes of pairs (PackedBytes()).
  static Object* Create(size_t capacity = 1);
  // Bytes of packed room that pairs of these sizes need (an upper bound if fields repeat).
  static size_t PackedBytes(std::string_view field, std::string_view value) {
    return PackedHash::PairBytes(field, value);
  }

  // `e` is a kHash entry.
  Hash(Entry* e, const HashLimits& limits) : e_(e), limits_(limits) {}

  bool packed() const { return AsPacked() != nullptr; }
  const char* encoding() const { return e_->object()->EncodingName(); }
  size_t size() const;
  // The value of `field`, valid until the hash changes or this view's next Get (a packed
  // integer is formatted into the view).
  bool Get(std::string_view field, std::string_view* value) const;
  bool Contains(std::string_view field) const {
    std::string_view v;
    return Get(field, &v);
  }
  // Sets `field` to `value`; true if the field is new. Converts to the table encoding when a
  // limit is passed. Neither view may point into this hash.
  bool Set(std::string_view field, std::string_view value);
  // Removes `field`; true if it was there. The caller deletes the key once the hash is empty.
  bool Delete(std::string_view field);
  // Makes room for `bytes` more bytes of packed pairs, so that a multi-field write grows the
  // block once; Trim() gives back what was not used.
  void Reserve(size_t bytes);
  void Trim();
  void ConvertToTable();

  // Calls fn for every pair: insertion order when packed, table order otherwise.
  void ForEach(const PairFn& fn) const;
  // One HSCAN step from `cursor`: every pair when packed (returns 0); otherwise buckets until
  // about `count` pairs were seen or 10 x count buckets were visited. Returns the next cursor.
  uint64_t Scan(uint64_t cursor, size_t count, const PairFn& fn) const;
  // HRANDFIELD: calls fn for `count` pairs drawn with repeats, until fn returns false.
  void Sample(uint64_t count, std::mt19937_64& rng, const PairWhileFn& fn) const;
  // HRANDFIELD: min(count, size()) distinct pairs (all of them, in order, when count >= size()).
  void RandomDistinct(size_t count, std::mt19937_64& rng, const PairFn& fn) const;

 private:
  // The packed object, or nullptr when the hash is a table.
  PackedHash* AsPacked() const { return dynamic_cast<PackedHash*>(e_->object()); }
  TableHash* table_hash() const { return static_cast<TableHash*>(e_->object()); }
  // 1: added, 0: replaced, -1: the hash must convert first (too many pairs).
  int SetPacked(PackedHash* p, std::string_view field, std::string_view value);
  // Re-homes the packed pairs into a block with room for `capacity` bytes.
  PackedHash* Resize(PackedHash* p, size_t capacity);
  Entry* e_;
  HashLimits limits_;
  mutable PackedText scratch_;  // the last packed value Get returned
};

// Rebuilds a hash from the bytes Serialize wrote (either encoding): a packed hash that breaks
// `limits` loads as a table. nullptr if the bytes are malformed (bad lengths, duplicate fields,
// an empty hash, trailing bytes).
Object* DeserializeHash(std::string_view data, const HashLimits& limits);

}  // namespace runnel::engine
