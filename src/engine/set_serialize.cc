// A set's self-contained binary form (checkpoints, DUMP), its loader, and deep copies (COPY).
//
//   'S' version(1) encoding(1: 0 intset, 1 listpack, 2 hashtable) count
//   intset:              first (zigzag) then count-1 x gap to the previous member (>= 1)
//   listpack, hashtable: count x (length, bytes)
//
// Numbers are LEB128 varints. The encoding is kept, so a set loads as it was saved. The loader
// checks every length against the bytes left, intset members for ascending order, the others
// for duplicates, and rejects an empty set (none is ever stored).
#include <unordered_set>

#include "engine/set.h"
#include "persist/coding.h"

namespace runnel::engine {

namespace {

constexpr char kMagic = 'S';
constexpr uint8_t kVersion = 1;

using persist::PutVarint;

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

int64_t UnZigZag(uint64_t u) { return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1); }

// A cursor over untrusted bytes; every read checks what is left.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Byte(uint8_t* b) {
    if (pos_ >= in_.size()) return false;
    *b = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool Varint(uint64_t* v) {
    std::string_view rest = in_.substr(pos_);
    if (!persist::GetVarint(&rest, v)) return false;
    pos_ = in_.size() - rest.size();
    return true;
  }
  bool String(std::string_view* s) {
    uint64_t len;
    if (!Varint(&len) || len > left()) return false;
    *s = in_.substr(pos_, len);
    pos_ += len;
    return true;
  }
  size_t left() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

void Set::Serialize(std::string* out) const {
  out->push_back(kMagic);
  out->push_back(static_cast<char>(kVersion));
  out->push_back(static_cast<char>(encoding()));
  PutVarint(out, size());
  if (encoding() == Encoding::kIntSet) {
    const IntSet& s = ints();
    for (size_t i = 0; i < s.size(); ++i) {
      PutVarint(out, i == 0 ? ZigZag(s.at(0))
                            : static_cast<uint64_t>(s.at(i)) - static_cast<uint64_t>(s.at(i - 1)));
    }
    return;
  }
  ForEach([&](std::string_view m) {
    PutVarint(out, m.size());
    out->append(m);
    return true;
  });
}

// Builds a set from its serialized form, checking everything it reads.
class SetLoader {
 public:
  explicit SetLoader(std::string_view data) : r_(data) {}

  std::unique_ptr<Set> Load() {
    uint8_t magic, version, encoding;
    uint64_t count;
    if (!r_.Byte(&magic) || !r_.Byte(&version) || !r_.Byte(&encoding)) return nullptr;
    if (magic != kMagic || version != kVersion || encoding > 2) return nullptr;
    // Every member takes at least one byte.
    if (!r_.Varint(&count) || count == 0 || count > r_.left()) return nullptr;
    auto set = std::make_unique<Set>(static_cast<Set::Encoding>(encoding));
    bool ok = set->encoding() == Set::Encoding::kIntSet ? LoadInts(set.get(), count)
                                                        : LoadStrings(set.get(), count);
    if (!ok || r_.left() != 0) return nullptr;
    return set;
  }

 private:
  bool LoadInts(Set* set, uint64_t count) {
    uint64_t first;
    if (!r_.Varint(&first)) return false;
    int64_t prev = UnZigZag(first);
    set->ints().Insert(prev);
    for (uint64_t i = 1; i < count; ++i) {
      uint64_t gap;
      if (!r_.Varint(&gap) || gap == 0) return false;
      // INT64_MAX - prev is in [0, 2^64 - 1], so the unsigned difference is exact.
      uint64_t room = static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(prev);
      if (gap > room) return false;
      prev = static_cast<int64_t>(static_cast<uint64_t>(prev) + gap);
      set->ints().Insert(prev);  // ascending, so this appends
    }
    return true;
  }

  bool LoadStrings(Set* set, uint64_t count) {
    std::unordered_set<std::string_view> seen;
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view m;
      if (!r_.String(&m)) return false;
      if (set->encoding() == Set::Encoding::kHashTable) {
        if (!set->table().Insert(m)) return false;
      } else {
        if (!seen.insert(m).second) return false;
        set->packed().Append(m);
      }
    }
    return true;
  }

  Reader r_;
};

std::unique_ptr<Set> Set::Deserialize(std::string_view data) { return SetLoader(data).Load(); }

Object* Set::Clone() const {
  auto copy = std::make_unique<Set>(encoding());
  switch (encoding()) {
    case Encoding::kIntSet:
      copy->ints() = ints();
      break;
    case Encoding::kListpack:
      copy->packed() = packed();
      break;
    default:
      copy->table().CopyFrom(table());
      break;
  }
  return copy.release();
}

}  // namespace runnel::engine
