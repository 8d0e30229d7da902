// Value digests for DEBUG DIGEST: how each type feeds its contents to a Digest, and the hash
// under Digest::Mix.
//
// Ordered contents (a list's elements, a sorted set's elements by score, a stream's entries by
// ID) are chained in order; unordered ones (a set's members, a hash's pairs) are digested one by
// one and combined with XOR, so that any walk order gives the same result. Every piece goes in
// with its length, so ("ab", "c") and ("a", "bc") differ.
#include "engine/digest.h"

#include <charconv>
#include <cstring>

#include "engine/entry.h"
#include "engine/hash.h"
#include "engine/list.h"
#include "engine/set.h"
#include "engine/stream.h"
#include "engine/stream_group.h"
#include "engine/zset.h"

namespace runnel::engine {

namespace {

constexpr uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// The 64-bit finalizer of MurmurHash3: every input bit reaches every output bit.
constexpr uint64_t Avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Three 64-bit lanes with their own seeds and multipliers, read a word at a time; 20 bytes of
// their finalized states make the digest.
class Lanes {
 public:
  void Word(uint64_t w) {
    for (int i = 0; i < 3; ++i) h_[i] = Rotl(h_[i] ^ (w * kMul1[i]), 31) * kMul2[i];
    bytes_ += 8;
  }
  void Bytes(std::string_view s) {
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      Word(w);
    }
    if (i < s.size()) {
      uint64_t w = 0;
      std::memcpy(&w, s.data() + i, s.size() - i);
      Word(w ^ (static_cast<uint64_t>(s.size() - i) << 59));
    }
  }
  void Finish(uint8_t* out) const {
    uint64_t f[3];
    for (int i = 0; i < 3; ++i) f[i] = Avalanche(h_[i] ^ bytes_ ^ kMul1[(i + 1) % 3]);
    std::memcpy(out, &f[0], 8);
    std::memcpy(out + 8, &f[1], 8);
    std::memcpy(out + 16, &f[2], 4);
  }

 private:
  static constexpr uint64_t kMul1[3] = {0x87c37b91114253d5ULL, 0x9e3779b97f4a7c15ULL,
                                        0xd6e8feb86659fd93ULL};
  static constexpr uint64_t kMul2[3] = {0x4cf5ad432745937fULL, 0xbf58476d1ce4e5b9ULL,
                                        0x94d049bb133111ebULL};
  uint64_t h_[3] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL};
  uint64_t bytes_ = 0;
};

void MixInt(Digest* d, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  d->Mix(std::string_view(buf, static_cast<size_t>(end - buf)));
}

void MixId(Digest* d, StreamId id) {
  MixInt(d, static_cast<int64_t>(id.ms));
  MixInt(d, static_cast<int64_t>(id.seq));
}

// Scores as the shortest text that reads back as the same double: independent of how an
// encoding keeps them.
void MixScore(Digest* d, double score) {
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, score);
  d->Mix(std::string_view(buf, static_cast<size_t>(end - buf)));
}

void MixList(Digest* d, const List& l) {
  ListCursor cursor(l, 0, false);
  std::string_view v;
  while (cursor.Next(&v)) d->Mix(v);
}

void MixSet(Digest* d, const Set& s) {
  Digest members;
  s.ForEach([&](std::string_view m) {
    Digest one;
    one.Mix(m);
    members.Add(one);
    return true;
  });
  d->Mix(members);
}

void MixHash(Digest* d, const Entry* e) {
  Digest pairs;
  Hash(const_cast<Entry*>(e), HashLimits{}).ForEach([&](std::string_view f, std::string_view v) {
    Digest pair;
    pair.Mix(f);
    pair.Mix(v);
    pairs.Add(pair);
  });
  d->Mix(pairs);
}

void MixZSet(Digest* d, const ZSet& z) {
  z.ForEach([&](std::string_view member, double score) {
    d->Mix(member);
    MixScore(d, score);
    return true;
  });
}

// A group's state that survives a restart: its position and its pending entries with their
// owners and delivery counts (delivery and seen times are idle-time bookkeeping, left out as
// Redis leaves LRU clocks out of its digest).
void MixGroup(Digest* d, const ConsumerGroup& g) {
  MixId(d, g.last_id);
  MixInt(d, g.entries_read);
  for (auto p = g.pel().begin(); p.Valid(); p.Next()) {
    MixId(d, p->id);
    MixInt(d, p->delivery_count);
    d->Mix(g.ConsumerAt(p->consumer)->name);
  }
  for (const auto& [name, consumer] : g.consumers()) d->Mix(name);
}

void MixStream(Digest* d, const Stream& s) {
  StreamIterator it(s, StreamId::Min(), StreamId::Max(), false);
  EntryView entry;
  while (it.Next(&entry)) {
    MixId(d, entry.id);
    MixInt(d, static_cast<int64_t>(entry.field_count()));
    entry.ForEachField([&](std::string_view f, std::string_view v) {
      d->Mix(f);
      d->Mix(v);
    });
  }
  MixId(d, s.last_id());
  MixInt(d, static_cast<int64_t>(s.entries_added()));
  MixId(d, s.max_deleted_id());
  for (const auto& [name, group] : s.groups()) {
    d->Mix(name);
    MixGroup(d, *group);
  }
}

}  // namespace

void Digest::Mix(std::string_view data) {
  Lanes lanes;
  lanes.Bytes(view());
  lanes.Word(data.size());
  lanes.Bytes(data);
  lanes.Finish(bytes_.data());
}

void Digest::Add(const Digest& d) {
  for (size_t i = 0; i < kSize; ++i) bytes_[i] ^= d.bytes_[i];
}

bool Digest::zero() const {
  for (uint8_t b : bytes_)
    if (b != 0) return false;
  return true;
}

std::string Digest::Hex() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * kSize);
  for (uint8_t b : bytes_) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

Digest ValueDigest(const Entry* e) {
  Digest d;
  MixInt(&d, static_cast<int>(e->type));
  switch (e->type) {
    case ValueType::kString:
      d.Mix(e->str());
      break;
    case ValueType::kList:
      MixList(&d, *static_cast<const List*>(e->object()));
      break;
    case ValueType::kSet:
      MixSet(&d, *static_cast<const Set*>(e->object()));
      break;
    case ValueType::kHash:
      MixHash(&d, e);
      break;
    case ValueType::kZSet:
      MixZSet(&d, *static_cast<const ZSet*>(e->object()));
      break;
    case ValueType::kStream:
      MixStream(&d, *static_cast<const Stream*>(e->object()));
      break;
  }
  return d;
}

}  // namespace runnel::engine
