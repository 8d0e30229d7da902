// The Hash view: reads and writes that work on either encoding, the conversion from packed to
// table, and the walks HGETALL, HSCAN and HRANDFIELD use.
#include "engine/hash.h"

#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/random.h"

namespace runnel::engine {

namespace {

// A packed block is shrunk once this many bytes of it are unused: less would not give a
// smaller allocation back (malloc rounds to 16 bytes).
constexpr size_t kShrinkSlack = 16;

// The offsets of a packed hash's pairs, so draws can pick pairs by index.
std::vector<size_t> PairOffsets(const PackedHash& p) {
  std::vector<size_t> offsets;
  size_t pos = 0;
  PackedPair pair;
  while (true) {
    const size_t at = pos;
    if (!p.Next(&pos, &pair)) return offsets;
    offsets.push_back(at);
  }
}

// Calls fn with the pair at `offset`; returns what fn returns.
template <class Fn>
auto VisitPair(const PackedHash& p, size_t offset, const Fn& fn) {
  PackedPair pair;
  p.Next(&offset, &pair);
  return fn(pair.field.view(), pair.value.view());
}

}  // namespace

Object* Hash::Create(size_t capacity) { return PackedHash::Create(capacity); }

size_t Hash::size() const {
  if (PackedHash* p = AsPacked()) return p->size();
  return table_hash()->size();
}

bool Hash::Get(std::string_view field, std::string_view* value) const {
  if (PackedHash* p = AsPacked()) {
    PackedPair pair;
    if (!p->Find(field, &pair)) return false;
    scratch_ = pair.value;
    *value = scratch_.view();
    return true;
  }
  Entry* e = table_hash()->Find(field);
  if (e == nullptr) return false;
  *value = e->str();
  return true;
}

bool Hash::Set(std::string_view field, std::string_view value) {
  if (PackedHash* p = AsPacked()) {
    if (limits_.Fits(field) && limits_.Fits(value)) {
      const int added = SetPacked(p, field, value);
      if (added >= 0) return added == 1;
    }
    ConvertToTable();
  }
  return table_hash()->Set(field, value);
}

int Hash::SetPacked(PackedHash* p, std::string_view field, std::string_view value) {
  PackedPair pair;
  PackedExtent x;
  if (p->Find(field, &pair, &x)) {
    const size_t used = p->Extent().end + 1;
    const size_t need = used - pair.bytes + PackedHash::PairBytes(field, value);
    if (need > p->capacity()) p = Resize(p, need);  // `pair` keeps its offsets and sizes
    p->ReplaceValue(pair, value, used);
    return 0;
  }
  if (x.count + 1 > limits_.max_entries) return -1;
  const size_t need = x.end + PackedHash::PairBytes(field, value) + 1;
  if (need > p->capacity()) p = Resize(p, need);
  p->Append(x.end, field, value);
  return 1;
}

bool Hash::Delete(std::string_view field) {
  PackedHash* p = AsPacked();
  if (p == nullptr) return table_hash()->Delete(field);
  PackedPair pair;
  if (!p->Find(field, &pair)) return false;
  const size_t used = p->Extent().end + 1;
  p->Erase(pair, used);
  const size_t left = used - pair.bytes;
  if (p->capacity() - left >= kShrinkSlack) Resize(p, left);
  return true;
}

void Hash::Reserve(size_t bytes) {
  PackedHash* p = AsPacked();
  if (p == nullptr) return;
  const size_t need = p->Extent().end + 1 + bytes;
  if (need > p->capacity()) Resize(p, need);
}

void Hash::Trim() {
  PackedHash* p = AsPacked();
  if (p == nullptr) return;
  const size_t used = p->Extent().end + 1;
  if (p->capacity() - used >= kShrinkSlack) Resize(p, used);
}

PackedHash* Hash::Resize(PackedHash* p, size_t capacity) {
  PackedHash* fresh = p->Copy(capacity);
  e_->set_object(fresh);
  delete p;
  return fresh;
}

void Hash::ConvertToTable() {
  PackedHash* p = AsPacked();
  if (p == nullptr) return;
  auto table = std::make_unique<TableHash>();
  size_t pos = 0;
  PackedPair pair;
  while (p->Next(&pos, &pair)) table->Add(pair.field.view(), pair.value.view());
  e_->set_object(table.release());
  delete p;
}

void Hash::ForEach(const PairFn& fn) const {
  if (PackedHash* p = AsPacked()) {
    size_t pos = 0;
    PackedPair pair;
    while (p->Next(&pos, &pair)) fn(pair.field.view(), pair.value.view());
    return;
  }
  uint64_t cursor = 0;
  do {
    cursor = Scan(cursor, SIZE_MAX, fn);
  } while (cursor != 0);
}

uint64_t Hash::Scan(uint64_t cursor, size_t count, const PairFn& fn) const {
  if (AsPacked() != nullptr) {
    ForEach(fn);
    return 0;
  }
  Dict& dict = table_hash()->dict();
  size_t seen = 0;
  // Bounds the work on a sparse table, as Redis does (ten buckets per pair asked for).
  uint64_t buckets = count > UINT64_MAX / 10 ? UINT64_MAX : count * 10;
  do {
    cursor = dict.Scan(cursor, [&](Entry* e) {
      fn(e->key(), e->str());
      ++seen;
    });
  } while (cursor != 0 && --buckets > 0 && seen < count);
  return cursor;
}

void Hash::Sample(uint64_t count, std::mt19937_64& rng, const PairWhileFn& fn) const {
  if (PackedHash* p = AsPacked()) {
    const auto offsets = PairOffsets(*p);
    for (uint64_t i = 0; i < count; ++i)
      if (!VisitPair(*p, offsets[rng() % offsets.size()], fn)) return;
    return;
  }
  Dict& dict = table_hash()->dict();
  for (uint64_t i = 0; i < count; ++i) {
    Entry* e = dict.Random(rng);
    if (!fn(e->key(), e->str())) return;
  }
}

// Draws from every pair's position when most pairs are wanted (or the hash is packed, so
// small); otherwise draws entries at random until enough distinct ones came up.
void Hash::RandomDistinct(size_t count, std::mt19937_64& rng, const PairFn& fn) const {
  if (count >= size()) return ForEach(fn);
  if (PackedHash* p = AsPacked()) {
    auto offsets = PairOffsets(*p);
    PartialShuffle(&offsets, count, rng);
    for (size_t i = 0; i < count; ++i) VisitPair(*p, offsets[i], fn);
    return;
  }
  Dict& dict = table_hash()->dict();
  if (count * 3 > dict.size()) {
    std::vector<Entry*> entries;
    entries.reserve(dict.size());
    uint64_t cursor = 0;
    do {
      cursor = dict.Scan(cursor, [&](Entry* e) { entries.push_back(e); });
    } while (cursor != 0);
    PartialShuffle(&entries, count, rng);
    for (size_t i = 0; i < count; ++i) fn(entries[i]->key(), entries[i]->str());
    return;
  }
  std::unordered_set<Entry*> picked;
  while (picked.size() < count) {
    Entry* e = dict.Random(rng);
    if (picked.insert(e).second) fn(e->key(), e->str());
  }
}

}  // namespace runnel::engine
