// Tests for the keyspace hash table (Dict) and for keyspace entries (Entry).
#include "engine/dict.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/entry.h"
#include "engine/object.h"

namespace runnel::engine {
namespace {

std::string Key(uint64_t i) { return "key:" + std::to_string(i); }

void InsertString(Dict& d, const std::string& key, const std::string& value) {
  d.Insert(Entry::NewString(key, value));
}

void Erase(Dict& d, const std::string& key) {
  Entry* e = d.Remove(key);
  REQUIRE(e != nullptr);
  Entry::Free(e);
}

// Every key of `ref` is in `d` with its value, and the sizes agree.
void CheckSame(Dict& d, const std::unordered_map<std::string, std::string>& ref) {
  REQUIRE(d.size() == ref.size());
  for (const auto& [k, v] : ref) {
    Entry* e = d.Find(k);
    REQUIRE(e != nullptr);
    REQUIRE(e->key() == k);
    REQUIRE(e->str() == v);
  }
}

// Runs a full scan, calling `between` after every step, and returns the keys seen.
template <typename F>
std::multiset<std::string> FullScan(Dict& d, F between) {
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = d.Scan(cursor, [&](Entry* e) { seen.insert(std::string(e->key())); });
    between();
  } while (cursor != 0);
  return seen;
}

class CountingObject : public Object {
 public:
  explicit CountingObject(int* destroyed) : destroyed_(destroyed) {}
  ~CountingObject() override { ++*destroyed_; }
  size_t MemoryUsage() const override { return 1000; }
  const char* EncodingName() const override { return "test"; }
  Object* Clone() const override { return new CountingObject(destroyed_); }
  void Serialize(std::string* out) const override { out->append("x"); }

 private:
  int* destroyed_;
};

TEST_CASE("dict: empty table") {
  Dict d;
  CHECK(d.size() == 0);
  CHECK(d.Find("x") == nullptr);
  CHECK(d.Remove("x") == nullptr);
  CHECK(d.Scan(0, [](Entry*) { FAIL("visited an entry of an empty table"); }) == 0);
  std::mt19937_64 rng(1);
  CHECK(d.Random(rng) == nullptr);
  CHECK(!d.rehashing());
  CHECK(d.BucketMemory() == 0);
}

TEST_CASE("dict: insert find remove replace") {
  Dict d;
  InsertString(d, "a", "1");
  InsertString(d, "b", "2");
  InsertString(d, "", "empty key");
  CHECK(d.size() == 3);
  CHECK(d.Find("a")->str() == "1");
  CHECK(d.Find("")->str() == "empty key");
  CHECK(d.Find("c") == nullptr);

  Entry* old = d.Find("b");
  Entry* fresh = Entry::NewString("b", "twenty");
  d.Replace(old, fresh);
  Entry::Free(old);
  CHECK(d.size() == 3);
  CHECK(d.Find("b") == fresh);
  CHECK(d.Find("b")->str() == "twenty");

  Entry* a = d.Remove("a");
  REQUIRE(a != nullptr);
  CHECK(a->key() == "a");
  CHECK(a->next == nullptr);
  Entry::Free(a);
  CHECK(d.Remove("a") == nullptr);
  CHECK(d.size() == 2);
}

// Live keys of a reference map, so removals can pick an existing key at random.
class LiveKeys {
 public:
  void Add(const std::string& key) {
    index_[key] = keys_.size();
    keys_.push_back(key);
  }
  void Remove(const std::string& key) {
    const size_t i = index_.at(key);
    index_[keys_.back()] = i;
    std::swap(keys_[i], keys_.back());
    keys_.pop_back();
    index_.erase(key);
  }
  const std::string& Pick(std::mt19937_64& rng) const { return keys_[rng() % keys_.size()]; }
  bool empty() const { return keys_.empty(); }

 private:
  std::vector<std::string> keys_;
  std::unordered_map<std::string, size_t> index_;
};

TEST_CASE("dict: randomized operations match std::unordered_map") {
  Dict d;
  std::unordered_map<std::string, std::string> ref;
  LiveKeys live;
  std::mt19937_64 rng(12345);
  bool saw_rehash = false;
  int grows = 0;
  int shrinks = 0;
  size_t last_buckets = 0;
  constexpr int kOps = 200000;
  for (int op = 0; op < kOps; ++op) {
    // Phases of 10,000 operations alternately favour inserts and removals, so the table grows
    // and shrinks many times.
    const bool growing = (op / 10000) % 2 == 0;
    const int dice = static_cast<int>(rng() % 100);
    const std::string value = "v" + std::to_string(rng() % 1000);
    if (dice < (growing ? 60 : 20)) {
      // Insert, or replace the value if the key is already there.
      const std::string key = Key(rng() % 50000);
      auto it = ref.find(key);
      if (it == ref.end()) {
        InsertString(d, key, value);
        ref.emplace(key, value);
        live.Add(key);
      } else {
        Entry* old = d.Find(key);
        REQUIRE(old != nullptr);
        Entry* fresh = Entry::NewString(key, value);
        d.Replace(old, fresh);
        Entry::Free(old);
        it->second = value;
      }
    } else if (dice < 85) {
      // Remove a live key, or now and then one that is (most likely) absent.
      const bool absent = dice % 10 == 0 || live.empty();
      const std::string key = absent ? Key(rng() % 50000) : live.Pick(rng);
      auto it = ref.find(key);
      Entry* e = d.Remove(key);
      REQUIRE((e != nullptr) == (it != ref.end()));
      if (e != nullptr) {
        CHECK(e->key() == key);
        Entry::Free(e);
        ref.erase(it);
        live.Remove(key);
      }
    } else {
      const std::string key = (dice % 2 == 0 || live.empty()) ? Key(rng() % 50000) : live.Pick(rng);
      auto it = ref.find(key);
      Entry* e = d.Find(key);
      REQUIRE((e != nullptr) == (it != ref.end()));
      if (e != nullptr) CHECK(e->str() == it->second);
    }
    REQUIRE(d.size() == ref.size());
    saw_rehash |= d.rehashing();
    if (!d.rehashing()) {
      const size_t buckets = d.BucketMemory();
      if (last_buckets != 0 && buckets > last_buckets) ++grows;
      if (last_buckets != 0 && buckets < last_buckets) ++shrinks;
      last_buckets = buckets;
    }
    // A full check now and then, including while a rehash is in progress.
    if (op % 20011 == 0 || (d.rehashing() && op % 997 == 0)) CheckSame(d, ref);
  }
  CHECK(saw_rehash);
  CHECK(grows >= 10);
  CHECK(shrinks >= 10);
  CheckSame(d, ref);
}

TEST_CASE("dict: a rehash finishes and keeps every entry") {
  Dict d;
  std::unordered_map<std::string, std::string> ref;
  int i = 0;
  while (!d.rehashing() || d.size() < 1000) {
    InsertString(d, Key(i), std::to_string(i));
    ref.emplace(Key(i), std::to_string(i));
    ++i;
  }
  REQUIRE(d.rehashing());
  while (d.RehashStep(1)) {
  }
  CHECK(!d.rehashing());
  CheckSame(d, ref);
}

TEST_CASE("dict: the table shrinks after mass removal") {
  Dict d;
  for (int i = 0; i < 10000; ++i) InsertString(d, Key(i), "v");
  while (d.RehashStep(100)) {
  }
  const size_t big = d.BucketMemory();
  for (int i = 0; i < 10000; ++i) Erase(d, Key(i));
  CHECK(d.size() == 0);
  while (d.RehashStep(100)) {
  }
  CHECK(d.BucketMemory() < big / 100);
}

TEST_CASE("dict: scan of a stable table returns every key exactly once") {
  Dict d;
  std::set<std::string> keys;
  for (int i = 0; i < 5000; ++i) {
    InsertString(d, Key(i), "v");
    keys.insert(Key(i));
  }
  while (d.RehashStep(100)) {
  }
  auto seen = FullScan(d, [] {});
  CHECK(seen.size() == keys.size());
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == keys);
}

TEST_CASE("dict: scan during a rehash returns every key") {
  Dict d;
  std::set<std::string> keys;
  int i = 0;
  while (!d.rehashing() || d.size() < 3000) {
    InsertString(d, Key(i), "v");
    keys.insert(Key(i));
    ++i;
  }
  REQUIRE(d.rehashing());
  // Rehash a little between scan steps, so the scan sees the rehash at many stages.
  auto seen = FullScan(d, [&] { d.RehashStep(1); });
  for (const auto& k : keys) REQUIRE(seen.count(k) >= 1);
}

TEST_CASE("dict: scan returns every stable key while the table grows and shrinks") {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    CAPTURE(seed);
    Dict d;
    std::mt19937_64 rng(seed);
    std::unordered_set<std::string> stable;
    for (int i = 0; i < 300; ++i) {
      InsertString(d, "stable:" + std::to_string(i), "v");
      stable.insert("stable:" + std::to_string(i));
    }
    LiveKeys volatile_keys;
    size_t volatile_count = 0;
    int next_volatile = 0;
    bool growing = true;
    int grows = 0;
    int shrinks = 0;
    size_t last_buckets = 0;
    const int burst = 4 + 2 * static_cast<int>(seed);
    // Between scan steps, add keys until there are 4000 more (the table grows to 8192 buckets),
    // then remove them all (it shrinks), and again, for as long as the scan lasts.
    auto between = [&] {
      for (int k = 0; k < burst; ++k) {
        if (growing) {
          const std::string key = "vol:" + std::to_string(next_volatile++);
          InsertString(d, key, "v");
          volatile_keys.Add(key);
          growing = ++volatile_count < 4000;
        } else {
          const std::string key = volatile_keys.Pick(rng);
          Erase(d, key);
          volatile_keys.Remove(key);
          growing = --volatile_count == 0;
        }
      }
      if (!d.rehashing()) {
        const size_t buckets = d.BucketMemory();
        if (last_buckets != 0 && buckets > last_buckets) ++grows;
        if (last_buckets != 0 && buckets < last_buckets) ++shrinks;
        last_buckets = buckets;
      }
    };
    auto seen = FullScan(d, between);
    for (const auto& k : stable) REQUIRE(seen.count(k) >= 1);
    // The scenario must really have resized both ways while scanning.
    CHECK(grows >= 2);
    CHECK(shrinks >= 1);
  }
}

TEST_CASE("dict: random returns members") {
  Dict d;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) InsertString(d, Key(i), "v");
  std::set<std::string> drawn;
  for (int i = 0; i < 5000; ++i) {
    Entry* e = d.Random(rng);
    REQUIRE(e != nullptr);
    REQUIRE(d.Find(e->key()) == e);
    drawn.insert(std::string(e->key()));
  }
  CHECK(drawn.size() == 50);  // every key comes up with 5000 draws

  // While rehashing, and on a table made sparse by removals.
  Dict big;
  int i = 0;
  while (!big.rehashing() || big.size() < 2000) InsertString(big, Key(i++), "v");
  for (int k = 0; k < 1000; ++k) {
    Entry* e = big.Random(rng);
    REQUIRE(e != nullptr);
    REQUIRE(big.Find(e->key()) == e);
  }
  for (int k = 1; k < i; ++k) Erase(big, Key(k));
  REQUIRE(big.size() == 1);
  for (int k = 0; k < 100; ++k) CHECK(big.Random(rng)->key() == Key(0));
}

TEST_CASE("dict: clear frees everything and the table is reusable") {
  Dict d;
  int destroyed = 0;
  for (int i = 0; i < 3000; ++i) InsertString(d, Key(i), "v");
  d.Insert(Entry::NewObject("obj", ValueType::kHash, new CountingObject(&destroyed)));
  d.Clear();
  CHECK(destroyed == 1);
  CHECK(d.size() == 0);
  CHECK(!d.rehashing());
  CHECK(d.Find(Key(1)) == nullptr);
  InsertString(d, "again", "1");
  CHECK(d.Find("again")->str() == "1");
  // The destructor frees the rest (LeakSanitizer would report otherwise).
}

TEST_CASE("entry: string encodings") {
  CHECK(StringEncodingFor("123") == Encoding::kInt);
  CHECK(StringEncodingFor("0") == Encoding::kInt);
  CHECK(StringEncodingFor("-1") == Encoding::kInt);
  CHECK(StringEncodingFor("9223372036854775807") == Encoding::kInt);
  CHECK(StringEncodingFor("-9223372036854775808") == Encoding::kInt);
  CHECK(StringEncodingFor("9223372036854775808") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("-9223372036854775809") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("99999999999999999999") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("0123") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("00") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("-0") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("+1") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("-") == Encoding::kEmbStr);
  CHECK(StringEncodingFor(" 1") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("1 ") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("1.5") == Encoding::kEmbStr);
  CHECK(StringEncodingFor("") == Encoding::kEmbStr);
  CHECK(StringEncodingFor(std::string(44, 'x')) == Encoding::kEmbStr);
  CHECK(StringEncodingFor(std::string(45, 'x')) == Encoding::kRaw);
  CHECK(StringEncodingFor(std::string(45, '1')) == Encoding::kRaw);
}

TEST_CASE("entry: string entries") {
  Entry* e = Entry::NewString("name", "12345");
  CHECK(e->key() == "name");
  CHECK(e->str() == "12345");
  CHECK(e->type == ValueType::kString);
  CHECK(e->encoding == Encoding::kInt);
  CHECK(e->next == nullptr);
  CHECK(e->flags == 0);
  CHECK(e->atime == 0);
  CHECK(!e->has_ttl());
  CHECK(Entry::MemoryUsage(e) >= sizeof(Entry) + 4 + 5);
  Entry::Free(e);

  Entry* empty = Entry::NewString("", "");
  CHECK(empty->key().empty());
  CHECK(empty->str().empty());
  Entry::Free(empty);

  Entry* raw = Entry::NewString("k", std::string(100, 'z'));
  CHECK(raw->encoding == Encoding::kRaw);
  CHECK(raw->str() == std::string(100, 'z'));
  Entry::Free(raw);
}

TEST_CASE("entry: object entries") {
  int destroyed = 0;
  auto* obj = new CountingObject(&destroyed);
  Entry* e = Entry::NewObject("h", ValueType::kHash, obj);
  CHECK(e->key() == "h");
  CHECK(e->type == ValueType::kHash);
  CHECK(e->encoding == Encoding::kObject);
  CHECK(e->val_len == sizeof(Object*));
  CHECK(e->object() == obj);
  CHECK(!e->has_ttl());
  CHECK(Entry::MemoryUsage(e) >= 1000 + sizeof(Entry) + 1 + sizeof(Object*));
  Entry::Free(e);
  CHECK(destroyed == 1);
}

}  // namespace
}  // namespace runnel::engine
