// Unit tests of the set value type: the three member stores (intset, listpack, hash table), the
// encoding rules and conversions (against a std::set model and a model of Redis 7.2's rules over
// 100,000 random operations), random members, SSCAN's cursor across resizes, and the
// serialized form (round trips of every encoding and damaged input).
#include "engine/set.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace runnel::engine;
using Encoding = Set::Encoding;

namespace {

std::set<std::string> Members(const Set& s) {
  std::set<std::string> out;
  s.ForEach([&](std::string_view m) {
    CHECK(out.emplace(m).second);  // no member twice
    return true;
  });
  return out;
}

std::string Serialized(const Set& s) {
  std::string out;
  s.Serialize(&out);
  return out;
}

bool IsInt(const std::string& s) {
  int64_t v;
  return runnel::ParseInt64(s, &v);
}

// Redis 7.2's encoding rules, written independently of engine/set.cc: the encoding a set must
// have after each operation.
struct EncodingModel {
  SetLimits limits;
  Encoding enc = Encoding::kIntSet;

  void Created(const std::string& first, size_t hint) {
    if (IsInt(first) && hint <= limits.intset_entries) {
      enc = Encoding::kIntSet;
    } else if (hint <= limits.listpack_entries) {
      enc = Encoding::kListpack;
    } else {
      enc = Encoding::kHashTable;
    }
  }
  // `before`: the members before `m` was added (m is new).
  void Added(const std::set<std::string>& before, const std::string& m) {
    const size_t n = before.size();
    if (enc == Encoding::kIntSet && IsInt(m)) {
      if (n + 1 > limits.intset_entries) enc = Encoding::kHashTable;
    } else if (enc == Encoding::kIntSet) {
      size_t widest = 0;
      for (const auto& x : before) widest = std::max(widest, x.size());
      bool fits = n < limits.listpack_entries && m.size() <= limits.listpack_value &&
                  widest <= limits.listpack_value;
      enc = fits ? Encoding::kListpack : Encoding::kHashTable;
    } else if (enc == Encoding::kListpack) {
      if (n >= limits.listpack_entries || m.size() > limits.listpack_value)
        enc = Encoding::kHashTable;
    }
  }
};

// Members that exercise every path: small and wide integers (intset widening), integer-looking
// strings that are not canonical, short strings and strings past the listpack value limit.
// `mostly_ints` keeps a set an intset for longer.
std::string RandomMember(std::mt19937_64& rng, bool mostly_ints) {
  switch (mostly_ints && rng() % 20 != 0 ? rng() % 4 : rng() % 8) {
    case 0:
    case 1:
    case 2:
      return std::to_string(static_cast<int64_t>(rng() % 120) - 40);
    case 3: {
      static const int64_t kWide[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1,
                                      -70000,    70000,         1LL << 40, -(1LL << 33)};
      return std::to_string(kWide[rng() % 8]);
    }
    case 4: {
      static const char* kOdd[] = {"-0", "007", "+5", " 1", "1 ", "", "1e3", "0x10", "-"};
      return kOdd[rng() % 9];
    }
    case 5:
    case 6:
      return "m" + std::to_string(rng() % 60);
    default:
      return std::string(8 + rng() % 8, static_cast<char>('a' + rng() % 3));
  }
}

void CheckSame(const Set& s, const std::set<std::string>& model, Encoding enc) {
  REQUIRE(s.size() == model.size());
  REQUIRE(s.encoding() == enc);
  CHECK(Members(s) == model);
}

}  // namespace

TEST_CASE("set: intset widens, stays sorted and finds members") {
  IntSet s;
  CHECK(s.width() == 2);
  for (int64_t v : {5, -3, 100, 7}) CHECK(s.Insert(v));
  CHECK_FALSE(s.Insert(5));
  CHECK(s.width() == 2);
  CHECK(s.Insert(70000));
  CHECK(s.width() == 4);
  CHECK(s.Insert(INT64_MIN));
  CHECK(s.width() == 8);
  std::vector<int64_t> got;
  for (size_t i = 0; i < s.size(); ++i) got.push_back(s.at(i));
  CHECK(got == std::vector<int64_t>{INT64_MIN, -3, 5, 7, 100, 70000});
  CHECK(s.Contains(70000));
  CHECK_FALSE(s.Contains(6));
  CHECK(s.Erase(INT64_MIN));
  CHECK_FALSE(s.Erase(INT64_MIN));
  CHECK(s.width() == 8);  // removals never narrow
  CHECK(s.min() == -3);
  CHECK(s.max() == 70000);
}

TEST_CASE("set: listpack keeps members in order, with long lengths") {
  PackedStrings p;
  std::string big(300, 'x');  // a two-byte length
  p.Append("a");
  p.Append(big);
  p.Append("");
  p.Append("b");
  CHECK(p.size() == 4);
  CHECK(p.Contains(big));
  CHECK(p.Contains(""));
  CHECK_FALSE(p.Contains("c"));
  CHECK(p.Erase(big));
  CHECK_FALSE(p.Erase(big));
  std::vector<std::string> got;
  p.ForEach([&](std::string_view m) {
    got.emplace_back(m);
    return true;
  });
  CHECK(got == std::vector<std::string>{"a", "", "b"});
  auto offsets = p.Offsets();
  REQUIRE(offsets.size() == 3);
  CHECK(p.At(offsets[2]) == "b");
}

TEST_CASE("set: hash table against std::set, through grows and shrinks") {
  std::mt19937_64 rng(7);
  MemberTable t;
  std::set<std::string> model;
  for (int i = 0; i < 100000; ++i) {
    std::string m = std::to_string(rng() % 5000);
    // Phases of mostly adding and mostly removing make the table grow and shrink repeatedly.
    bool add = (i / 20000) % 2 == 0 ? rng() % 4 != 0 : rng() % 4 == 0;
    if (add) {
      CHECK(t.Insert(m) == model.insert(m).second);
    } else {
      CHECK(t.Erase(m) == (model.erase(m) == 1));
    }
    REQUIRE(t.size() == model.size());
    if (i % 997 == 0) {
      std::set<std::string> got;
      t.ForEach([&](std::string_view s) { return got.emplace(s).second; });
      CHECK(got == model);
      if (!model.empty()) CHECK(model.count(std::string(t.Random(rng))) == 1);
    }
  }
  MemberTable copy;
  copy.CopyFrom(t);
  CHECK(copy.size() == t.size());
  for (const auto& m : model) CHECK(copy.Contains(m));
}

TEST_CASE("set: a full SSCAN walk returns every member present throughout, across resizes") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20; ++round) {
    Set s(Encoding::kHashTable);
    SetLimits limits;
    for (int i = 0; i < 300; ++i) s.Add("stable" + std::to_string(i), limits);
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int churn = 0;
    do {
      cursor = s.Scan(cursor, 7, [&](std::string_view m) { seen.emplace(m); });
      // Grow (or shrink) the table between calls with members that come and go.
      for (int k = 0; k < 40; ++k) {
        std::string m = "churn" + std::to_string(churn++);
        if (round % 2 == 0) {
          s.Add(m, limits);
        } else if (k % 2 == 0) {
          s.Add(m, limits);
          s.Remove(m);
        }
      }
    } while (cursor != 0);
    for (int i = 0; i < 300; ++i) CHECK(seen.count("stable" + std::to_string(i)) == 1);
  }
}

TEST_CASE("set: compact encodings scan whole in one call") {
  SetLimits limits;
  auto s = Set::Create("1", 3, limits);
  for (const char* m : {"1", "2", "3"}) s->Add(m, limits);
  std::set<std::string> seen;
  CHECK(s->Scan(12345, 1, [&](std::string_view m) { seen.emplace(m); }) == 0);
  CHECK(seen == std::set<std::string>{"1", "2", "3"});
}

TEST_CASE("set: Redis 7.2's encoding rules for creation, growth and hints") {
  SetLimits limits{4, 3, 5};
  auto s = Set::Create("1", 1, limits);
  CHECK(s->encoding() == Encoding::kIntSet);
  for (const char* m : {"1", "2", "3", "4"}) s->Add(m, limits);
  CHECK(std::string(s->EncodingName()) == "intset");
  s->Add("5", limits);  // past set-max-intset-entries: straight to a hash table
  CHECK(std::string(s->EncodingName()) == "hashtable");

  s = Set::Create("1", 1, limits);
  s->Add("1", limits);
  s->Add("abc", limits);  // a string joins a small intset as a listpack
  CHECK(std::string(s->EncodingName()) == "listpack");
  s->Add("abcde", limits);
  CHECK(s->encoding() == Encoding::kListpack);
  s->Add("x", limits);  // a fourth member: past set-max-listpack-entries
  CHECK(s->encoding() == Encoding::kHashTable);

  s = Set::Create("a", 1, limits);
  s->Add("a", limits);
  s->Add("abcdef", limits);  // longer than set-max-listpack-value
  CHECK(s->encoding() == Encoding::kHashTable);

  s = Set::Create("1", 1, limits);
  s->Add("123456", limits);  // an integer wider than the listpack value limit
  s->Add("x", limits);
  CHECK(s->encoding() == Encoding::kHashTable);

  CHECK(Set::Create("1", 5, {4, 8, 5})->encoding() == Encoding::kListpack);  // hint too big
  CHECK(Set::Create("1", 5, limits)->encoding() == Encoding::kHashTable);
  CHECK(Set::Create("a", 4, limits)->encoding() == Encoding::kHashTable);
  s = Set::Create("a", 2, limits);
  s->PrepareFor(3, limits);
  CHECK(s->encoding() == Encoding::kListpack);
  s->PrepareFor(4, limits);
  CHECK(s->encoding() == Encoding::kHashTable);

  // A hash table of integers goes back to an intset only when asked.
  limits = SetLimits();
  s = std::make_unique<Set>(Encoding::kHashTable);
  for (const char* m : {"3", "-1", "2"}) s->Add(m, limits);
  s->ConvertToIntSetIfPossible(limits);
  CHECK(s->encoding() == Encoding::kIntSet);
  CHECK(Members(*s) == std::set<std::string>{"-1", "2", "3"});
  s->Add("007", limits);
  s->ConvertToIntSetIfPossible(limits);
  CHECK(s->encoding() == Encoding::kListpack);
}

namespace {

// One set driven by random operations next to a std::set and the encoding model.
struct RandomRun {
  std::mt19937_64 rng{2024};
  EncodingModel rules{{40, 20, 10}};
  const SetLimits& limits = rules.limits;
  std::set<std::string> model;
  std::unique_ptr<Set> s;
  bool mostly_ints = false;

  // A new set (Set::Create with a random first member and size hint).
  void Reset() {
    mostly_ints = rng() % 2 == 0;
    std::string first = RandomMember(rng, mostly_ints);
    size_t hint = rng() % 4 == 0 ? 1 + rng() % 50 : 1 + rng() % 5;
    s = Set::Create(first, hint, limits);
    rules.Created(first, hint);
    model.clear();
  }

  void Add(const std::string& m) {
    bool is_new = model.count(m) == 0;
    if (is_new) rules.Added(model, m);
    CHECK(s->Add(m, limits) == is_new);
    model.insert(m);
  }

  void PrepareFor() {
    size_t hint = rng() % 4 == 0 ? rng() % 60 : rng() % 10;
    s->PrepareFor(hint, limits);
    if ((rules.enc == Encoding::kIntSet && hint > limits.intset_entries) ||
        (rules.enc == Encoding::kListpack && hint > limits.listpack_entries))
      rules.enc = Encoding::kHashTable;
  }

  void Step() {
    std::string m = RandomMember(rng, mostly_ints);
    std::string r;
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        return Add(m);
      case 4:
      case 5:
        CHECK(s->Remove(m) == (model.erase(m) == 1));
        return;
      case 6:
        CHECK(s->Contains(m) == (model.count(m) == 1));
        return;
      case 7:
        if (!model.empty()) CHECK(model.erase(s->PopRandom(rng)) == 1);
        return;
      case 8:
        if (model.empty()) return;
        s->RandomMember(rng, &r);
        CHECK(model.count(r) == 1);
        return;
      default:
        return PrepareFor();
    }
  }

  // Members, encoding, and the same after a serialization round trip and a deep copy.
  void VerifyFully() {
    CheckSame(*s, model, rules.enc);
    auto loaded = Set::Deserialize(Serialized(*s));
    REQUIRE(loaded != nullptr);
    CheckSame(*loaded, model, rules.enc);
    std::unique_ptr<Set> copy(static_cast<Set*>(s->Clone()));
    CheckSame(*copy, model, rules.enc);
  }
};

}  // namespace

TEST_CASE("set: 100,000 random operations against std::set, with encoding conversions") {
  RandomRun run;
  std::map<Encoding, int> seen_encodings;
  for (int i = 0; i < 100000; ++i) {
    if (run.s == nullptr || run.model.empty() || run.rng() % 300 == 0) run.Reset();
    run.Step();
    REQUIRE(run.s->size() == run.model.size());
    REQUIRE(run.s->encoding() == run.rules.enc);
    seen_encodings[run.s->encoding()]++;
    if (i % 101 == 0 && !run.model.empty()) run.VerifyFully();
  }
  CHECK(seen_encodings.size() == 3);
  CHECK(seen_encodings[Encoding::kIntSet] > 1000);
  CHECK(seen_encodings[Encoding::kListpack] > 1000);
  CHECK(seen_encodings[Encoding::kHashTable] > 1000);
}

TEST_CASE("set: sampling with repeats draws every member of every encoding") {
  std::mt19937_64 rng(3);
  SetLimits limits;
  for (Encoding e : {Encoding::kIntSet, Encoding::kListpack, Encoding::kHashTable}) {
    Set s(e);
    for (int i = 0; i < 20; ++i) s.Add(std::to_string(i), limits);
    REQUIRE(s.encoding() == e);
    std::map<std::string, int> counts;
    uint64_t calls = 0;
    s.Sample(4000, rng, [&](std::string_view m) {
      ++counts[std::string(m)];
      return ++calls < 3000;  // stopping early is honoured
    });
    CHECK(calls == 3000);
    CHECK(counts.size() == 20);
    for (const auto& [m, n] : counts) CHECK(n > 50);  // 150 expected each
  }
}

TEST_CASE("set: serialized forms round-trip every encoding, with extreme members") {
  SetLimits limits;
  Set ints(Encoding::kIntSet);
  for (int64_t v : {INT64_MIN, int64_t{-1}, int64_t{0}, int64_t{1}, INT64_MAX})
    ints.Add(std::to_string(v), limits);
  Set packed(Encoding::kListpack);
  for (const char* m : {"", "a", "12", "\r\n\0x"}) packed.Add(m, limits);
  packed.Add(std::string(200, 'z'), {512, 128, 1000});
  Set table(Encoding::kHashTable);
  for (int i = 0; i < 1000; ++i) table.Add("k" + std::to_string(i), limits);
  for (const Set* s : {&ints, &packed, &table}) {
    auto loaded = Set::Deserialize(Serialized(*s));
    REQUIRE(loaded != nullptr);
    CHECK(loaded->encoding() == s->encoding());
    CHECK(Members(*loaded) == Members(*s));
    CHECK(loaded->MemoryUsage() > 0);
  }
}

TEST_CASE("set: damaged serialized forms are rejected") {
  SetLimits limits;
  Set ints(Encoding::kIntSet);
  for (const char* m : {"1", "5", "9"}) ints.Add(m, limits);
  Set table(Encoding::kHashTable);
  for (const char* m : {"a", "b"}) table.Add(m, limits);
  for (const Set* s : {&ints, &table}) {
    const std::string good = Serialized(*s);
    REQUIRE(Set::Deserialize(good) != nullptr);
    for (size_t n = 0; n < good.size(); ++n)  // every truncation
      CHECK(Set::Deserialize(good.substr(0, n)) == nullptr);
    CHECK(Set::Deserialize(good + "x") == nullptr);  // trailing bytes
    std::string bad = good;
    bad[0] = 'X';
    CHECK(Set::Deserialize(bad) == nullptr);
    bad = good;
    bad[1] = 9;  // version
    CHECK(Set::Deserialize(bad) == nullptr);
    bad = good;
    bad[2] = 3;  // encoding
    CHECK(Set::Deserialize(bad) == nullptr);
  }
  // Header: 'S', version 1, encoding (0 intset, 1 listpack, 2 hash table), count.
  auto bytes = [](std::initializer_list<int> v) {
    std::string out;
    for (int b : v) out.push_back(static_cast<char>(b));
    return out;
  };
  CHECK(Set::Deserialize(bytes({'S', 1, 0, 0})) == nullptr);                    // empty set
  CHECK(Set::Deserialize(bytes({'S', 1, 0, 2, 2, 0})) == nullptr);              // gap 0
  CHECK(Set::Deserialize(bytes({'S', 1, 1, 2, 1, 'a', 1, 'a'})) == nullptr);    // duplicate
  CHECK(Set::Deserialize(bytes({'S', 1, 2, 2, 1, 'a', 1, 'a'})) == nullptr);    // duplicate
  CHECK(Set::Deserialize(bytes({'S', 1, 1, 1, 5, 'a', 'b'})) == nullptr);       // past the end
  CHECK(Set::Deserialize(bytes({'S', 1, 1, 0x7f, 0})) == nullptr);              // count too big
  REQUIRE(Set::Deserialize(bytes({'S', 1, 1, 2, 1, 'a', 1, 'b'})) != nullptr);  // the control
  // INT64_MAX (zigzag 2^64 - 2), then a gap of 1 would pass it.
  const std::string max = bytes({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  REQUIRE(Set::Deserialize(bytes({'S', 1, 0, 1}) + max) != nullptr);
  CHECK(Set::Deserialize(bytes({'S', 1, 0, 2}) + max + bytes({1})) == nullptr);
  // A varint longer than 64 bits.
  CHECK(Set::Deserialize(bytes({'S', 1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0x7f})) == nullptr);
}
