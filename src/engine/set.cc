// The set value type: choosing and converting encodings, membership, random members.
#include "engine/set.h"

#include <algorithm>
#include <cassert>

namespace runnel::engine {

namespace {

// An intset holds at most 2^30 members, whatever the configured limit (as in Redis).
uint64_t IntSetMax(const SetLimits& limits) {
  return std::min<uint64_t>(limits.intset_entries, uint64_t{1} << 30);
}

// A listpack buffer stays under 1 GB.
constexpr size_t kMaxPackedBytes = size_t{1} << 30;

bool AsInteger(std::string_view s, int64_t* v) { return ParseInt64(s, v); }

size_t DecimalLength(int64_t v) {
  char buf[24];
  return FormatInt64(v, buf);
}

}  // namespace

Set::Set(Encoding e) {
  switch (e) {
    case Encoding::kIntSet:
      rep_.emplace<IntSet>();
      break;
    case Encoding::kListpack:
      rep_.emplace<PackedStrings>();
      break;
    case Encoding::kHashTable:
      rep_.emplace<MemberTable>();
      break;
  }
}

std::unique_ptr<Set> Set::Create(std::string_view first, size_t size_hint,
                                 const SetLimits& limits) {
  int64_t v;
  if (AsInteger(first, &v) && size_hint <= limits.intset_entries)
    return std::make_unique<Set>(Encoding::kIntSet);
  if (size_hint <= limits.listpack_entries) return std::make_unique<Set>(Encoding::kListpack);
  auto s = std::make_unique<Set>(Encoding::kHashTable);
  s->table().Reserve(size_hint);
  return s;
}

const char* Set::EncodingName() const {
  switch (encoding()) {
    case Encoding::kIntSet:
      return "intset";
    case Encoding::kListpack:
      return "listpack";
    default:
      return "hashtable";
  }
}

size_t Set::size() const {
  switch (encoding()) {
    case Encoding::kIntSet:
      return ints().size();
    case Encoding::kListpack:
      return packed().size();
    default:
      return table().size();
  }
}

size_t Set::MemoryUsage() const {
  switch (encoding()) {
    case Encoding::kIntSet:
      return sizeof(Set) + ints().MemoryUsage();
    case Encoding::kListpack:
      return sizeof(Set) + packed().MemoryUsage();
    default:
      return sizeof(Set) + table().MemoryUsage();
  }
}

bool Set::Contains(std::string_view member) const {
  switch (encoding()) {
    case Encoding::kIntSet: {
      int64_t v;
      return AsInteger(member, &v) && ints().Contains(v);
    }
    case Encoding::kListpack:
      return packed().Contains(member);
    default:
      return table().Contains(member);
  }
}

bool Set::Add(std::string_view member, const SetLimits& limits) {
  switch (encoding()) {
    case Encoding::kIntSet:
      return AddToIntSet(member, limits);
    case Encoding::kListpack:
      return AddToPacked(member, limits);
    default:
      return table().Insert(member);
  }
}

bool Set::AddToIntSet(std::string_view member, const SetLimits& limits) {
  IntSet& s = ints();
  int64_t v;
  if (AsInteger(member, &v)) {
    if (!s.Insert(v)) return false;
    if (s.size() > IntSetMax(limits)) Convert(Encoding::kHashTable, s.size());
    return true;
  }
  // A string joins a small intset as a listpack if the integers, written out, fit one too.
  const size_t n = s.size();
  size_t widest = n == 0 ? 0 : std::max(DecimalLength(s.min()), DecimalLength(s.max()));
  if (n < limits.listpack_entries && member.size() <= limits.listpack_value &&
      widest <= limits.listpack_value && (widest + 2) * n + member.size() < kMaxPackedBytes) {
    Convert(Encoding::kListpack);
    packed().Append(member);
  } else {
    Convert(Encoding::kHashTable, n + 1);
    table().Insert(member);
  }
  return true;
}

bool Set::AddToPacked(std::string_view member, const SetLimits& limits) {
  PackedStrings& p = packed();
  if (p.Contains(member)) return false;
  if (p.size() < limits.listpack_entries && member.size() <= limits.listpack_value &&
      p.bytes() + member.size() + 10 < kMaxPackedBytes) {
    p.Append(member);
  } else {
    Convert(Encoding::kHashTable, p.size() + 1);
    table().Insert(member);
  }
  return true;
}

bool Set::Remove(std::string_view member) {
  switch (encoding()) {
    case Encoding::kIntSet: {
      int64_t v;
      return AsInteger(member, &v) && ints().Erase(v);
    }
    case Encoding::kListpack:
      return packed().Erase(member);
    default:
      return table().Erase(member);
  }
}

void Set::PrepareFor(size_t size_hint, const SetLimits& limits) {
  if ((encoding() == Encoding::kListpack && size_hint > limits.listpack_entries) ||
      (encoding() == Encoding::kIntSet && size_hint > limits.intset_entries))
    Convert(Encoding::kHashTable, size_hint);
}

void Set::ConvertToIntSetIfPossible(const SetLimits& limits) {
  if (encoding() == Encoding::kIntSet || size() > IntSetMax(limits)) return;
  int64_t v;
  if (!ForEach([&](std::string_view m) { return AsInteger(m, &v); })) return;
  Convert(Encoding::kIntSet);
}

void Set::Convert(Encoding to, size_t capacity) {
  if (to == encoding()) return;
  Set fresh(to);
  if (to == Encoding::kHashTable) fresh.table().Reserve(std::max(capacity, size()));
  ForEach([&](std::string_view m) {
    switch (to) {
      case Encoding::kIntSet: {
        int64_t v = 0;
        [[maybe_unused]] bool is_int = AsInteger(m, &v);
        assert(is_int);
        fresh.ints().Insert(v);
        break;
      }
      case Encoding::kListpack:
        fresh.packed().Append(m);
        break;
      default:
        fresh.table().Insert(m);
        break;
    }
    return true;
  });
  rep_ = std::move(fresh.rep_);
}

void Set::RandomMember(std::mt19937_64& rng, std::string* out) const {
  Sample(1, rng, [&](std::string_view m) {
    out->assign(m);
    return false;
  });
}

std::string Set::PopRandom(std::mt19937_64& rng) {
  assert(size() > 0);
  std::string out;
  switch (encoding()) {
    case Encoding::kIntSet: {
      size_t i = rng() % ints().size();
      out = Int64ToString(ints().at(i));
      ints().EraseAt(i);
      break;
    }
    case Encoding::kListpack: {
      std::vector<uint32_t> offsets = packed().Offsets();
      uint32_t off = offsets[rng() % offsets.size()];
      out = std::string(packed().At(off));
      packed().EraseAt(off);
      break;
    }
    default:
      out = std::string(table().Random(rng));
      table().Erase(out);
      break;
  }
  return out;
}

}  // namespace runnel::engine
