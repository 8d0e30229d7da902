// A hash's self-contained binary form (checkpoints, DUMP) and its loader.
//
//   'H' version(1) encoding(1) count(varint) count x (field, value)
//
// encoding is 0 for listpack, 1 for hashtable; strings are a varint length and the bytes. The
// form holds pairs, not the block, so a loaded packed hash is packed afresh. The loader checks
// every length against the bytes left and rejects duplicate fields, empty hashes and trailing
// bytes; a packed hash that breaks the current limits loads as a table.
#include <algorithm>
#include <memory>
#include <vector>

#include "engine/hash.h"
#include "persist/coding.h"

namespace runnel::engine {

namespace {

constexpr char kMagic = 'H';
constexpr uint8_t kVersion = 1;
constexpr uint8_t kPacked = 0;
constexpr uint8_t kTable = 1;
// The smallest pair: two empty strings, one length byte each.
constexpr uint64_t kMinPairBytes = 2;

void WriteHeader(std::string* out, uint8_t encoding, size_t count) {
  out->push_back(kMagic);
  out->push_back(static_cast<char>(kVersion));
  out->push_back(static_cast<char>(encoding));
  persist::PutVarint(out, count);
}

void WritePair(std::string* out, std::string_view field, std::string_view value) {
  persist::PutLengthPrefixed(out, field);
  persist::PutLengthPrefixed(out, value);
}

using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;

// Reads the pairs after the header; false on a bad length or trailing bytes.
bool ReadPairs(std::string_view in, uint64_t count, Pairs* pairs) {
  pairs->reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view field, value;
    if (!persist::GetLengthPrefixed(&in, &field) || !persist::GetLengthPrefixed(&in, &value))
      return false;
    pairs->emplace_back(field, value);
  }
  return in.empty();
}

bool FitsPacked(const Pairs& pairs, const HashLimits& limits) {
  if (pairs.size() > limits.max_entries) return false;
  for (const auto& [field, value] : pairs)
    if (!limits.Fits(field) || !limits.Fits(value)) return false;
  return true;
}

bool HasDuplicateFields(const Pairs& pairs) {
  std::vector<std::string_view> fields;
  fields.reserve(pairs.size());
  for (const auto& pair : pairs) fields.push_back(pair.first);
  std::sort(fields.begin(), fields.end());
  return std::adjacent_find(fields.begin(), fields.end()) != fields.end();
}

Object* LoadPacked(const Pairs& pairs) {
  size_t bytes = 1;  // the end marker
  for (const auto& [field, value] : pairs) bytes += PackedHash::PairBytes(field, value);
  PackedHash* p = PackedHash::Create(bytes);
  size_t end = 0;
  for (const auto& [field, value] : pairs) {
    p->Append(end, field, value);
    end += PackedHash::PairBytes(field, value);
  }
  return p;
}

Object* LoadTable(const Pairs& pairs) {
  auto t = std::make_unique<TableHash>();
  for (const auto& [field, value] : pairs) {
    if (t->Find(field) != nullptr) return nullptr;
    t->Add(field, value);
  }
  return t.release();
}

}  // namespace

void PackedHash::Serialize(std::string* out) const {
  WriteHeader(out, kPacked, size());
  size_t pos = 0;
  PackedPair pair;
  while (Next(&pos, &pair)) WritePair(out, pair.field.view(), pair.value.view());
}

void TableHash::Serialize(std::string* out) const {
  WriteHeader(out, kTable, size());
  uint64_t cursor = 0;
  do {
    cursor = dict_.Scan(cursor, [&](Entry* e) { WritePair(out, e->key(), e->str()); });
  } while (cursor != 0);
}

Object* DeserializeHash(std::string_view data, const HashLimits& limits) {
  if (data.size() < 3 || data[0] != kMagic || static_cast<uint8_t>(data[1]) != kVersion)
    return nullptr;
  const auto encoding = static_cast<uint8_t>(data[2]);
  data.remove_prefix(3);
  uint64_t count;
  if (encoding > kTable || !persist::GetVarint(&data, &count)) return nullptr;
  if (count == 0 || count > data.size() / kMinPairBytes) return nullptr;
  Pairs pairs;
  if (!ReadPairs(data, count, &pairs)) return nullptr;
  if (encoding == kPacked && FitsPacked(pairs, limits)) {
    if (HasDuplicateFields(pairs)) return nullptr;
    return LoadPacked(pairs);
  }
  return LoadTable(pairs);
}

}  // namespace runnel::engine
