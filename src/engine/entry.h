// One key of the keyspace: a single heap block holding the header, the key bytes and, for
// strings, the value bytes inline. Other types keep a pointer to their object after the key.
//
//   +--------+---------+---------+------+-----+-------+-----------+-----------+-------------+
//   | next 8 | keylen 4| vallen 4| type | enc | flags | atime 4   | ttl idx 4 | key | value |
//   +--------+---------+---------+------+-----+-------+-----------+-----------+-------------+
//
// `next` chains entries in a hash bucket. The expiry time lives in the owning table's TTL index
// (ttl_index != kNoTtl), so keys without a TTL pay 4 bytes for it, not 8.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace runnel::engine {

enum class ValueType : uint8_t { kString, kList, kSet, kZSet, kHash, kStream };

// Encodings as OBJECT ENCODING names them.
enum class Encoding : uint8_t { kInt, kEmbStr, kRaw, kObject };

class Object;  // non-string values (streams, hashes, ...), defined with their types

struct Entry {
  static constexpr uint32_t kNoTtl = UINT32_MAX;

  Entry* next;
  uint32_t key_len;
  uint32_t val_len;  // strings: value length; other types: sizeof(Object*)
  ValueType type;
  Encoding encoding;
  uint16_t flags;
  uint32_t atime;  // seconds on the server's LRU clock, for OBJECT IDLETIME
  uint32_t ttl_index;

  std::string_view key() const { return {data(), key_len}; }
  std::string_view str() const { return {data() + key_len, val_len}; }
  char* mutable_str() { return data() + key_len; }
  Object* object() const {
    Object* o;
    std::memcpy(&o, data() + key_len, sizeof o);
    return o;
  }
  void set_object(Object* o) { std::memcpy(data() + key_len, &o, sizeof o); }
  bool has_ttl() const { return ttl_index != kNoTtl; }

  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }

  // A string entry; `encoding` is chosen from the value (int / embstr / raw).
  static Entry* NewString(std::string_view key, std::string_view value);
  static Entry* NewObject(std::string_view key, ValueType type, Object* obj);
  // Frees the entry and, for non-string types, its object.
  static void Free(Entry* e);
  // Bytes the entry and its value take on the heap (approximate, for INFO memory).
  static size_t MemoryUsage(const Entry* e);
};

static_assert(sizeof(Entry) == 32);

// Chooses int / embstr / raw for a string value the way Redis reports it.
Encoding StringEncodingFor(std::string_view value);

}  // namespace runnel::engine
