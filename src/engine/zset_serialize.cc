// A sorted set's self-contained binary form (checkpoints, DUMP), its loader, and deep copies
// (COPY).
//
//   'Z' version(1) encoding(1: 0 listpack, 1 skiplist) count
//   count x (member length, member bytes, score: 8-byte little-endian IEEE double)
//
// Lengths and the count are LEB128 varints; elements come in order. The encoding is kept, so a
// set loads as it was saved. The loader checks every length against the bytes left, that no
// score is NaN, that elements come strictly in order, that no member repeats, and rejects an
// empty set (none is ever stored).
#include <bit>
#include <cmath>
#include <memory>
#include <unordered_set>

#include "engine/zset.h"
#include "persist/coding.h"

namespace runnel::engine {

namespace {

constexpr char kMagic = 'Z';
constexpr uint8_t kVersion = 1;

bool GetByte(std::string_view* in, uint8_t* b) {
  if (in->empty()) return false;
  *b = static_cast<uint8_t>(in->front());
  in->remove_prefix(1);
  return true;
}

}  // namespace

void ZSet::Serialize(std::string* out) const {
  out->push_back(kMagic);
  out->push_back(static_cast<char>(kVersion));
  out->push_back(static_cast<char>(encoding()));
  persist::PutVarint(out, size());
  ForEach([&](std::string_view m, double s) {
    persist::PutLengthPrefixed(out, m);
    persist::PutFixed64(out, std::bit_cast<uint64_t>(s));
    return true;
  });
}

// Builds a sorted set from its serialized form, checking everything it reads.
class ZSetLoader {
 public:
  explicit ZSetLoader(std::string_view data) : in_(data) {}

  std::unique_ptr<ZSet> Load() {
    uint8_t magic, version, encoding;
    uint64_t count;
    if (!GetByte(&in_, &magic) || !GetByte(&in_, &version) || !GetByte(&in_, &encoding))
      return nullptr;
    if (magic != static_cast<uint8_t>(kMagic) || version != kVersion || encoding > 1)
      return nullptr;
    // Every element takes at least nine bytes.
    if (!persist::GetVarint(&in_, &count) || count == 0 || count > in_.size() / 9) return nullptr;
    auto z = std::make_unique<ZSet>(static_cast<ZSet::Encoding>(encoding));
    if (z->encoding() == ZSet::Encoding::kSkipList) z->list().Reserve(count);
    std::unordered_set<std::string_view> seen;
    std::string_view prev_member;
    double prev_score = 0;
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view m;
      uint64_t bits;
      if (!persist::GetLengthPrefixed(&in_, &m) || !persist::GetFixed64(&in_, &bits))
        return nullptr;
      const double s = std::bit_cast<double>(bits);
      if (std::isnan(s) || (i > 0 && !ElementLess(prev_score, prev_member, s, m))) return nullptr;
      if (z->encoding() == ZSet::Encoding::kListpack) {
        if (!seen.insert(m).second) return nullptr;
        z->packed().Append(m, s);
      } else {
        if (z->list().Find(m) != nullptr) return nullptr;
        z->list().Insert(m, s);
      }
      prev_member = m;
      prev_score = s;
    }
    if (!in_.empty()) return nullptr;
    return z;
  }

 private:
  std::string_view in_;
};

std::unique_ptr<ZSet> ZSet::Deserialize(std::string_view data) { return ZSetLoader(data).Load(); }

Object* ZSet::Clone() const {
  auto copy = std::make_unique<ZSet>(encoding());
  if (encoding() == Encoding::kListpack) {
    copy->packed() = packed();
  } else {
    copy->list().Reserve(size());
    ForEach([&](std::string_view m, double s) {
      copy->list().Insert(m, s);
      return true;
    });
  }
  return copy.release();
}

}  // namespace runnel::engine
