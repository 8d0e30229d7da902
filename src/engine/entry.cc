// Allocation of keyspace entries and the choice of a string's OBJECT ENCODING.
#include "engine/entry.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

#include "engine/object.h"

namespace runnel::engine {

namespace {

// Redis stores a string as an embedded sds when it fits with its object header in a 64-byte
// allocation; this is the value length at which OBJECT ENCODING switches to "raw".
constexpr size_t kEmbStrLimit = 44;

// True if `s` is the canonical decimal form of an int64: what Redis accepts before it reports
// the "int" encoding. "+1", "01", "-0", "" and overflowing values are not canonical.
bool IsCanonicalInt64(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  if (s == "0") return true;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) i = 1;
  if (i == s.size() || s[i] < '1' || s[i] > '9') return false;
  // Accumulate the magnitude unsigned so INT64_MIN, whose magnitude exceeds INT64_MAX, fits.
  uint64_t magnitude = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t digit = s[i] - '0';
    if (magnitude > (UINT64_MAX - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  const uint64_t limit = negative ? uint64_t{INT64_MAX} + 1 : uint64_t{INT64_MAX};
  return magnitude <= limit;
}

Entry* Allocate(std::string_view key, uint32_t val_len, ValueType type, Encoding encoding) {
  void* block = std::malloc(sizeof(Entry) + key.size() + val_len);
  if (block == nullptr) throw std::bad_alloc();
  Entry* e = static_cast<Entry*>(block);
  e->next = nullptr;
  e->key_len = static_cast<uint32_t>(key.size());
  e->val_len = val_len;
  e->type = type;
  e->encoding = encoding;
  e->flags = 0;
  e->atime = 0;
  e->ttl_index = Entry::kNoTtl;
  if (!key.empty()) std::memcpy(e->data(), key.data(), key.size());
  return e;
}

}  // namespace

Encoding StringEncodingFor(std::string_view value) {
  if (IsCanonicalInt64(value)) return Encoding::kInt;
  return value.size() <= kEmbStrLimit ? Encoding::kEmbStr : Encoding::kRaw;
}

Entry* Entry::NewString(std::string_view key, std::string_view value) {
  Entry* e = Allocate(key, static_cast<uint32_t>(value.size()), ValueType::kString,
                      StringEncodingFor(value));
  if (!value.empty()) std::memcpy(e->mutable_str(), value.data(), value.size());
  return e;
}

Entry* Entry::NewObject(std::string_view key, ValueType type, Object* obj) {
  Entry* e = Allocate(key, sizeof(Object*), type, Encoding::kObject);
  e->set_object(obj);
  return e;
}

void Entry::Free(Entry* e) {
  if (e == nullptr) return;
  if (e->type != ValueType::kString) delete e->object();
  std::free(e);
}

size_t Entry::MemoryUsage(const Entry* e) {
  // malloc_usable_size takes a non-const pointer but does not write through it.
  size_t bytes = malloc_usable_size(const_cast<Entry*>(e));
  if (e->type != ValueType::kString && e->object() != nullptr) bytes += e->object()->MemoryUsage();
  return bytes;
}

}  // namespace runnel::engine
