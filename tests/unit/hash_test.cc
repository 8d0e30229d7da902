// Unit tests of the hash value type: both encodings against a std::unordered_map model over
// 100,000 random operations (with conversions from packed to table along the way), the packed
// block's size, walks (scan, random draws), and the serialized form (round trips and damaged
// input).
#include "engine/hash.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

using namespace runnel::engine;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// A hash key for tests: owns its entry (and so the hash object).
class TestHash {
 public:
  explicit TestHash(HashLimits limits = {}, size_t capacity = 1)
      : e_(Entry::NewObject("k", ValueType::kHash, Hash::Create(capacity))), limits_(limits) {}
  explicit TestHash(Object* obj, HashLimits limits = {})
      : e_(Entry::NewObject("k", ValueType::kHash, obj)), limits_(limits) {}
  ~TestHash() { Entry::Free(e_); }
  TestHash(const TestHash&) = delete;
  TestHash& operator=(const TestHash&) = delete;
  Hash view() { return Hash(e_, limits_); }
  Hash* operator->() {
    view_ = std::make_unique<Hash>(e_, limits_);
    return view_.get();
  }
  Object* object() const { return e_->object(); }

 private:
  Entry* e_;
  HashLimits limits_;
  std::unique_ptr<Hash> view_;
};

Pairs AllPairs(const Hash& h) {
  Pairs out;
  h.ForEach([&](std::string_view f, std::string_view v) { out.emplace_back(f, v); });
  return out;
}

Pairs Sorted(Pairs p) {
  std::sort(p.begin(), p.end());
  return p;
}

Pairs ModelPairs(const std::unordered_map<std::string, std::string>& m) {
  return Sorted(Pairs(m.begin(), m.end()));
}

// The model of one key: the map, the packed order, and whether it must have converted.
struct Model {
  std::unordered_map<std::string, std::string> map;
  std::vector<std::string> order;  // insertion order, meaningful while packed
  bool table = false;
};

// Letters, or digits (which the packed encoding may store as integers): canonical numbers,
// negative ones, and near-numbers ("007", "-0", "+5") that must stay strings.
std::string RandomString(std::mt19937_64& rng, size_t max_len) {
  static const char* kNearNumbers[] = {"007",
                                       "-0",
                                       "+5",
                                       " 1",
                                       "1 ",
                                       "0x1",
                                       "-",
                                       "",
                                       "9223372036854775807",
                                       "9223372036854775808",
                                       "-9223372036854775808",
                                       "-9223372036854775809"};
  switch (rng() % 4) {
    case 0:
      return std::to_string(static_cast<int64_t>(rng()) >> (rng() % 64));
    case 1: {
      std::string s = kNearNumbers[rng() % std::size(kNearNumbers)];
      return s.size() <= max_len ? s : s.substr(0, max_len);
    }
    default: {
      std::string s(rng() % (max_len + 1), 'a');
      for (char& c : s) c = static_cast<char>('a' + rng() % 4);
      return s;
    }
  }
}

void CheckAgainst(TestHash& t, const Model& m) {
  Hash h = t.view();
  REQUIRE(h.size() == m.map.size());
  REQUIRE(h.packed() == !m.table);
  const Pairs pairs = AllPairs(h);
  if (!m.table) {
    // Packed pairs keep insertion order, as Redis's listpack does.
    REQUIRE(pairs.size() == m.order.size());
    for (size_t i = 0; i < pairs.size(); ++i) REQUIRE(pairs[i].first == m.order[i]);
  }
  REQUIRE(Sorted(pairs) == ModelPairs(m.map));
}

void CheckRoundTrip(TestHash& t, const Model& m, const HashLimits& limits) {
  std::string bytes;
  t.object()->Serialize(&bytes);
  Object* loaded = DeserializeHash(bytes, limits);
  REQUIRE(loaded != nullptr);
  TestHash copy(loaded, limits);
  REQUIRE(std::string(copy.view().encoding()) == t.view().encoding());
  REQUIRE(Sorted(AllPairs(copy.view())) == ModelPairs(m.map));
  TestHash clone(t.object()->Clone(), limits);
  REQUIRE(std::string(clone.view().encoding()) == t.view().encoding());
  if (m.table) {
    REQUIRE(Sorted(AllPairs(clone.view())) == ModelPairs(m.map));
  } else {
    REQUIRE(AllPairs(clone.view()) == AllPairs(t.view()));  // the same order
  }
}

// One random operation on key `t` and its model.
void RandomOp(std::mt19937_64& rng, const HashLimits& limits, TestHash& t, Model& m) {
  Hash h = t.view();
  // Fields too may be numbers, which compare by their encoded form.
  const std::string field = (rng() % 3 == 0 ? "" : "f") + std::to_string(rng() % 40);
  const int op = static_cast<int>(rng() % 100);
  if (op < 45) {
    // Mostly short values; now and then one past the packed limit.
    const size_t max_len = rng() % 50 == 0 ? limits.max_value + 3 : limits.max_value;
    const std::string value = RandomString(rng, max_len);
    const bool is_new = m.map.find(field) == m.map.end();
    REQUIRE(h.Set(field, value) == is_new);
    if (is_new) m.order.push_back(field);
    m.map[field] = value;
    m.table = m.table || m.map.size() > limits.max_entries || !limits.Fits(value);
  } else if (op < 75) {
    const bool present = m.map.erase(field) == 1;
    REQUIRE(h.Delete(field) == present);
    m.order.erase(std::remove(m.order.begin(), m.order.end(), field), m.order.end());
  } else if (op < 95) {
    std::string_view v;
    auto it = m.map.find(field);
    REQUIRE(h.Get(field, &v) == (it != m.map.end()));
    if (it != m.map.end()) REQUIRE(v == it->second);
    REQUIRE(h.Contains(field) == (it != m.map.end()));
  } else if (op < 97) {
    h.Reserve(rng() % 200);
    h.Trim();
  } else {
    REQUIRE(h.size() == m.map.size());
  }
}

}  // namespace

TEST_CASE("hash: 100,000 random operations match an unordered_map, across conversions") {
  std::mt19937_64 rng(12345);
  const HashLimits limits{.max_entries = 24, .max_value = 12};
  constexpr int kKeys = 6;
  std::vector<std::unique_ptr<TestHash>> keys;
  std::vector<Model> models(kKeys);
  for (int i = 0; i < kKeys; ++i) keys.push_back(std::make_unique<TestHash>(limits));
  int conversions = 0, recreated = 0;
  for (int step = 0; step < 100000; ++step) {
    const int k = static_cast<int>(rng() % kKeys);
    const bool was_table = models[k].table;
    RandomOp(rng, limits, *keys[k], models[k]);
    conversions += !was_table && models[k].table ? 1 : 0;
    // An emptied hash is a deleted key; now and then a key also starts over, so the packed
    // encoding and its conversion are exercised all along, not only at the start.
    if (models[k].map.empty() || rng() % 400 == 0) {
      keys[k] = std::make_unique<TestHash>(limits);
      models[k] = Model{};
      ++recreated;
    }
    if (step % 97 == 0) CheckAgainst(*keys[k], models[k]);
    if (step % 1009 == 0 && !models[k].map.empty()) CheckRoundTrip(*keys[k], models[k], limits);
  }
  for (int k = 0; k < kKeys; ++k) CheckAgainst(*keys[k], models[k]);
  CHECK(conversions > 50);
  CHECK(recreated > 50);
}

TEST_CASE("hash: five short pairs take one small block") {
  TestHash t;
  for (int i = 1; i <= 5; ++i) t->Set("f" + std::to_string(i), "v" + std::to_string(i));
  CHECK(t.view().packed());
  CHECK(std::string(t.view().encoding()) == "listpack");
  // vptr + 5 x (1+2 + 1+2) + end marker = 39 bytes: a 48-byte malloc chunk, as Redis's
  // 48-byte listpack for the same pairs.
  CHECK(t.object()->MemoryUsage() <= 40);
  // Canonical integers are stored in binary: five 7-digit offsets take 8 + 5 x (3 + 4) + 1 =
  // 44 bytes (a 64-byte chunk) where their text would take 64 (an 80-byte one).
  TestHash offsets;
  for (int i = 0; i < 5; ++i) offsets->Set("p" + std::to_string(i), std::to_string(1234567 + i));
  CHECK(offsets.object()->MemoryUsage() <= 56);
  std::string_view v;
  CHECK((offsets->Get("p4", &v) && v == "1234571"));
  // Deleting most pairs gives the room back.
  TestHash big;
  for (int i = 0; i < 100; ++i) big->Set("field" + std::to_string(i), std::string(30, 'x'));
  const size_t before = big.object()->MemoryUsage();
  for (int i = 0; i < 99; ++i) CHECK(big->Delete("field" + std::to_string(i)));
  CHECK(big.object()->MemoryUsage() < before / 10);
  CHECK(AllPairs(big.view()) == Pairs{{"field99", std::string(30, 'x')}});
}

TEST_CASE("hash: packed values change in place and keep their position") {
  TestHash t;
  t->Set("a", "1");
  t->Set("b", "2");
  t->Set("c", "3");
  CHECK_FALSE(t->Set("b", std::string(40, 'y')));  // longer: the tail moves
  CHECK_FALSE(t->Set("a", ""));                    // shorter
  CHECK(AllPairs(t.view()) == Pairs{{"a", ""}, {"b", std::string(40, 'y')}, {"c", "3"}});
  CHECK(t->Delete("a"));
  CHECK_FALSE(t->Delete("a"));
  CHECK(AllPairs(t.view()) == Pairs{{"b", std::string(40, 'y')}, {"c", "3"}});
  // Empty fields and values, and binary bytes, are ordinary strings.
  t->Set("", "");
  t->Set(std::string("\0\xff", 2), std::string("\0", 1));
  std::string_view v;
  CHECK(t->Get("", &v));
  CHECK(v.empty());
  CHECK(t->Get(std::string("\0\xff", 2), &v));
  CHECK(v == std::string_view("\0", 1));
  CHECK(t->size() == 4);
}

TEST_CASE("hash: numbers are stored as integers and read back as the same text") {
  TestHash t({.max_entries = 512, .max_value = 100000});
  const std::vector<std::string> texts = {
      "0", "1", "-1", "127", "128", "-128", "-129", "32767", "32768", "8388607", "-8388608",
      "2147483647", "-2147483648", "4294967296", "140737488355327", "-140737488355328",
      "9223372036854775807", "-9223372036854775808",
      // Not canonical, or not int64: stored as the strings they are.
      "007", "-0", "+1", " 1", "1.0", "1e3", "9223372036854775808", "-9223372036854775809", "",
      std::string(190, 'x'), std::string(191, 'y'), std::string(300, 'z'), std::string(20000, 'w')};
  for (size_t i = 0; i < texts.size(); ++i) {
    CHECK(t->Set(texts[i], texts[(i + 1) % texts.size()]));
    CHECK(t->packed());
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string_view v;
    REQUIRE(t->Get(texts[i], &v));
    CHECK(v == texts[(i + 1) % texts.size()]);
  }
  // "1" and "01" and "+1" are different fields.
  std::string_view v;
  CHECK_FALSE(t->Get("01", &v));
  CHECK((t->Get("+1", &v) && v == " 1"));
  CHECK((t->Get("1", &v) && v == "-1"));
  // A value changes between the encodings in place.
  CHECK_FALSE(t->Set("0", "12345678901"));
  CHECK_FALSE(t->Set("1", "not a number"));
  CHECK_FALSE(t->Set("-1", "-5"));
  CHECK((t->Get("0", &v) && v == "12345678901"));
  CHECK((t->Get("1", &v) && v == "not a number"));
  CHECK((t->Get("-1", &v) && v == "-5"));
  const Pairs pairs = AllPairs(t.view());
  REQUIRE(pairs.size() == texts.size());
  for (size_t i = 0; i < texts.size(); ++i) CHECK(pairs[i].first == texts[i]);  // order kept
  std::string bytes;
  t.object()->Serialize(&bytes);
  TestHash copy(DeserializeHash(bytes, {.max_entries = 512, .max_value = 100000}));
  CHECK(copy->packed());
  CHECK(AllPairs(copy.view()) == pairs);
}

TEST_CASE("hash: limits convert to a table, which never converts back") {
  const HashLimits limits{.max_entries = 3, .max_value = 5};
  TestHash t(limits);
  t->Set("a", "12345");
  t->Set("b", "1");
  t->Set("c", "1");
  CHECK(t->packed());
  t->Set("d", "1");  // a fourth pair
  CHECK_FALSE(t->packed());
  CHECK(std::string(t->encoding()) == "hashtable");
  for (const char* f : {"b", "c", "d"}) CHECK(t->Delete(f));
  CHECK_FALSE(t->packed());
  TestHash long_value(limits);
  long_value->Set("a", "123456");
  CHECK_FALSE(long_value->packed());
  TestHash long_field(limits);
  long_field->Set("abcdef", "1");
  CHECK_FALSE(long_field->packed());
  TestHash zero({.max_entries = 0, .max_value = 64});
  zero->Set("a", "1");
  CHECK_FALSE(zero->packed());
  std::string_view v;
  CHECK((long_field->Get("abcdef", &v) && v == "1"));
}

TEST_CASE("hash: a table scan returns every pair present throughout, despite growth") {
  TestHash t({.max_entries = 0, .max_value = 64});
  for (int i = 0; i < 500; ++i) t->Set("old" + std::to_string(i), "v");
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0, added = 0;
  do {
    cursor = t->Scan(cursor, 10, [&](std::string_view f, std::string_view) { seen.emplace(f); });
    // Insert between calls so the table resizes under the cursor.
    for (int j = 0; j < 40; ++j) t->Set("new" + std::to_string(added++), "v");
    ++calls;
  } while (cursor != 0);
  for (int i = 0; i < 500; ++i) CHECK(seen.count("old" + std::to_string(i)) == 1);
  CHECK(calls > 10);
  // A packed hash answers in one call.
  TestHash p;
  p->Set("a", "1");
  int n = 0;
  CHECK(p->Scan(12345, 1, [&](std::string_view, std::string_view) { ++n; }) == 0);
  CHECK(n == 1);
}

TEST_CASE("hash: random draws, with repeats and distinct, in both encodings") {
  std::mt19937_64 rng(7);
  for (size_t max_entries : {size_t{512}, size_t{0}}) {
    TestHash t({.max_entries = max_entries, .max_value = 64});
    for (int i = 0; i < 30; ++i) t->Set("f" + std::to_string(i), "v" + std::to_string(i));
    CHECK(t->packed() == (max_entries != 0));
    for (size_t count : {size_t{1}, size_t{5}, size_t{12}, size_t{29}}) {
      std::set<std::string> fields;
      size_t calls = 0;
      t->RandomDistinct(count, rng, [&](std::string_view f, std::string_view v) {
        ++calls;
        fields.emplace(f);
        CHECK(std::string(v) == "v" + std::string(f.substr(1)));
      });
      CHECK(calls == count);
      CHECK(fields.size() == count);  // distinct
    }
    // count >= size: everything, in the hash's own order.
    Pairs all;
    t->RandomDistinct(100, rng,
                      [&](std::string_view f, std::string_view v) { all.emplace_back(f, v); });
    CHECK(all == AllPairs(t.view()));
    // With repeats: exactly count draws, all from the hash, and repeats do happen.
    std::map<std::string, int> hits;
    t->Sample(3000, rng, [&](std::string_view f, std::string_view) {
      ++hits[std::string(f)];
      return true;
    });
    CHECK(hits.size() == 30);
    for (const auto& [f, n] : hits) CHECK(n > 30);  // about 100 each
    // The callback stops the draws.
    int calls = 0;
    t->Sample(3000, rng, [&](std::string_view, std::string_view) { return ++calls < 10; });
    CHECK(calls == 10);
  }
}

TEST_CASE("hash: serialized form round-trips both encodings and rejects damaged input") {
  TestHash packed;
  packed->Set("a", "1");
  packed->Set("bb", "");
  TestHash table({.max_entries = 0, .max_value = 64});
  for (int i = 0; i < 100; ++i) table->Set("f" + std::to_string(i), std::string(i, 'v'));
  for (TestHash* t : {&packed, &table}) {
    std::string bytes;
    t->object()->Serialize(&bytes);
    Object* loaded = DeserializeHash(bytes, {});
    REQUIRE(loaded != nullptr);
    TestHash copy(loaded);
    CHECK(std::string(copy->encoding()) == t->view().encoding());
    CHECK(Sorted(AllPairs(copy.view())) == Sorted(AllPairs(t->view())));
    // Every truncation fails, as do trailing bytes.
    for (size_t n = 0; n < bytes.size(); ++n)
      CHECK(DeserializeHash(bytes.substr(0, n), {}) == nullptr);
    CHECK(DeserializeHash(bytes + "x", {}) == nullptr);
    // Any single damaged byte either fails or gives a well-formed hash; never a crash.
    std::mt19937_64 rng(1);
    for (size_t i = 0; i < bytes.size(); ++i) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ (1 + rng() % 255));
      if (Object* o = DeserializeHash(bad, {})) {
        TestHash h(o);
        CHECK(AllPairs(h.view()).size() == h->size());
      }
    }
  }
  // Hand-built damage: magic, version, encoding, zero count, a count past the bytes, duplicates.
  const std::string ok(
      "H\x01\x00\x01\x01"
      "a\x01"
      "b",
      8);
  for (std::string bad : {std::string("X\x01\x00\x01\x01"
                                      "a\x01"
                                      "b",
                                      8),
                          std::string("H\x02\x00\x01\x01"
                                      "a\x01"
                                      "b",
                                      8),
                          std::string("H\x01\x02\x01\x01"
                                      "a\x01"
                                      "b",
                                      8),
                          std::string("H\x01\x00\x00", 4),
                          std::string("H\x01\x00\x7f\x01"
                                      "a\x01"
                                      "b",
                                      8),
                          std::string("H\x01\x00\x02\x01"
                                      "a\x01"
                                      "b\x01"
                                      "a\x01"
                                      "c",
                                      12),
                          std::string("H\x01\x01\x02\x01"
                                      "a\x01"
                                      "b\x01"
                                      "a\x01"
                                      "c",
                                      12)}) {
    Object* o = DeserializeHash(bad, {});
    CHECK(o == nullptr);
    delete o;
  }
  Object* good = DeserializeHash(ok, {});
  REQUIRE(good != nullptr);
  TestHash as_packed(good);
  CHECK(as_packed->packed());
  TestHash as_table(DeserializeHash(ok, {.max_entries = 0}));
  CHECK_FALSE(as_table->packed());
  std::string_view v;
  CHECK((as_table->Get("a", &v) && v == "b"));
}

TEST_CASE("hash: a packed hash past the current limits loads as a table") {
  TestHash t;
  for (int i = 0; i < 10; ++i) t->Set("f" + std::to_string(i), "value");
  std::string bytes;
  t.object()->Serialize(&bytes);
  TestHash few(DeserializeHash(bytes, {.max_entries = 9, .max_value = 64}));
  CHECK_FALSE(few->packed());
  CHECK(few->size() == 10);
  TestHash shorter(DeserializeHash(bytes, {.max_entries = 512, .max_value = 4}));
  CHECK_FALSE(shorter->packed());
  TestHash same(DeserializeHash(bytes, {}));
  CHECK(same->packed());
  CHECK(AllPairs(same.view()) == AllPairs(t.view()));  // packed order survives
}
