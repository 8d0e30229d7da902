// Tests of the serialized form of a shard's keys: round trips (strings with TTLs, objects
// through a registered loader) and rejection of malformed data.
#include "engine/snapshot.h"

#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <vector>

#include "engine/keyspace.h"
#include "engine/object.h"
#include "engine/stream.h"

using namespace runnel::engine;

namespace {

// All keys in these tests share a hash tag, so they live in one shard.
std::string Key(int i) { return "{snap}k" + std::to_string(i); }

Shard& SnapShard(Keyspace& ks) { return ks.shard(Keyspace::ShardOf("{snap}")); }

std::string SerializeShard(Shard& shard, int64_t now_ms) {
  std::string out;
  for (int db = 0; db < shard.databases(); ++db)
    if (Table* t = shard.find_table(db)) SerializeTable(db, *t, now_ms, &out);
  return out;
}

// A stand-in object type: a string that serializes as itself, and whose loader rejects "bad".
class TestObject : public Object {
 public:
  explicit TestObject(std::string v) : value(std::move(v)) {}
  size_t MemoryUsage() const override { return value.size(); }
  const char* EncodingName() const override { return "test"; }
  Object* Clone() const override { return new TestObject(value); }
  void Serialize(std::string* out) const override { out->append(value); }
  std::string value;
};

Object* LoadTestObject(std::string_view data) {
  if (data == "bad") return nullptr;
  return new TestObject(std::string(data));
}

Object* LoadStream(std::string_view data) { return Stream::Deserialize(data).release(); }

// Registers a loader for the scope of a test (the test loader for kSet by default), then puts
// back what was there, even when a REQUIRE ends the test early.
class ScopedLoader {
 public:
  explicit ScopedLoader(ValueType type = ValueType::kSet, ObjectLoader loader = LoadTestObject)
      : type_(type), saved_(FindObjectLoader(type)) {
    RegisterObjectLoader(type, loader);
  }
  ~ScopedLoader() { RegisterObjectLoader(type_, saved_); }

 private:
  ValueType type_;
  ObjectLoader saved_;
};

}  // namespace

TEST_CASE("snapshot: strings with TTLs round-trip; expired keys are skipped") {
  Keyspace ks(4);
  const int64_t now = 1'000'000;
  Db db0(&ks, 0, now - 10'000), db3(&ks, 3, now - 10'000);
  for (int i = 0; i < 500; ++i) db0.SetString(Key(i), "value-" + std::to_string(i));
  db0.SetString(Key(1000), std::string(5000, 'b'), now + 60'000);
  db0.SetString(Key(1001), "gone", now - 1);  // expired by serialization time
  db0.SetString(Key(1002), "edge", now);      // expires exactly now: gone too
  db3.SetString(Key(1), "other db", now + 5);
  db3.SetString(Key(2), std::string("bin\0ary", 7));

  const std::string data = SerializeShard(SnapShard(ks), now);
  Keyspace loaded(4);
  std::string err;
  REQUIRE_MESSAGE(LoadSnapshot(data, &SnapShard(loaded), &err), err);

  Db l0(&loaded, 0, now), l3(&loaded, 3, now);
  for (int i = 0; i < 500; ++i) {
    Entry* e = l0.Find(Key(i));
    REQUIRE(e != nullptr);
    CHECK(e->str() == "value-" + std::to_string(i));
    CHECK(l0.ExpireAt(e) == 0);
  }
  Entry* ttl = l0.Find(Key(1000));
  REQUIRE(ttl != nullptr);
  CHECK(ttl->str() == std::string(5000, 'b'));
  CHECK(l0.ExpireAt(ttl) == now + 60'000);
  CHECK(l0.Find(Key(1001)) == nullptr);
  CHECK(l0.Find(Key(1002)) == nullptr);
  CHECK(SnapShard(loaded).table(0).size() == 501);
  CHECK(SnapShard(loaded).table(0).expires() == 1);
  Entry* e = l3.Find(Key(1));
  REQUIRE(e != nullptr);
  CHECK(e->str() == "other db");
  CHECK(l3.ExpireAt(e) == now + 5);
  REQUIRE(l3.Find(Key(2)) != nullptr);
  CHECK(l3.Find(Key(2))->str() == std::string("bin\0ary", 7));
  CHECK(l3.Find(Key(2))->encoding == Encoding::kEmbStr);
  CHECK(SnapShard(loaded).find_table(1) == nullptr);  // nothing invented

  // Serializing the loaded shard gives the same amount of data (order may differ).
  CHECK(SerializeShard(SnapShard(loaded), now).size() == data.size());
}

TEST_CASE("snapshot: an empty or fully expired table writes nothing") {
  Keyspace ks(1);
  Db db(&ks, 0, 0);
  db.SetString(Key(1), "v", 10);
  std::string out = "prefix";
  SerializeTable(0, SnapShard(ks).table(0), 10, &out);
  CHECK(out == "prefix");
  std::string err;
  Keyspace loaded(1);
  CHECK(LoadSnapshot("", &SnapShard(loaded), &err));
}

TEST_CASE("snapshot: objects round-trip through their registered loader") {
  ScopedLoader loader;
  Keyspace ks(1);
  Db db(&ks, 0, 0);
  db.AddObject(Key(1), ValueType::kSet, new TestObject("members"));
  db.SetExpireAt(db.Find(Key(1)), 99);
  db.SetString(Key(2), "plain");
  const std::string data = SerializeShard(SnapShard(ks), 0);

  Keyspace loaded(1);
  std::string err;
  REQUIRE_MESSAGE(LoadSnapshot(data, &SnapShard(loaded), &err), err);
  Db l(&loaded, 0, 0);
  Entry* e = l.Find(Key(1));
  REQUIRE(e != nullptr);
  CHECK(e->type == ValueType::kSet);
  CHECK(static_cast<TestObject*>(e->object())->value == "members");
  CHECK(l.ExpireAt(e) == 99);
  REQUIRE(l.Find(Key(2)) != nullptr);
}

TEST_CASE("snapshot: a type without a loader, or a value its loader rejects, is an error") {
  Keyspace ks(1);
  Db db(&ks, 0, 0);
  db.AddObject(Key(1), ValueType::kSet, new TestObject("bad"));
  const std::string data = SerializeShard(SnapShard(ks), 0);
  std::string err;
  {
    ScopedLoader loader;
    Keyspace loaded(1);
    CHECK_FALSE(LoadSnapshot(data, &SnapShard(loaded), &err));
    CHECK(err.find("malformed value") != std::string::npos);
  }
  if (FindObjectLoader(ValueType::kSet) == nullptr) {
    Keyspace loaded(1);
    CHECK_FALSE(LoadSnapshot(data, &SnapShard(loaded), &err));
    CHECK(err.find("unknown value type") != std::string::npos);
  }
}

TEST_CASE("snapshot: malformed data is rejected with its offset") {
  Keyspace ks(2);
  Db db(&ks, 1, 0);
  db.SetString(Key(1), "one", 12345);
  db.SetString(Key(2), "two");
  const std::string data = SerializeShard(SnapShard(ks), 0);
  std::string err;
  // Every strict prefix of one chunk is truncated somewhere.
  for (size_t n = 1; n < data.size(); ++n) {
    Keyspace loaded(2);
    CHECK_FALSE(LoadSnapshot(data.substr(0, n), &SnapShard(loaded), &err));
    CHECK(err.find("snapshot: offset ") == 0);
  }
  // A database the server does not have.
  Keyspace one_db(1);
  CHECK_FALSE(LoadSnapshot(data, &SnapShard(one_db), &err));
  CHECK(err == "snapshot: offset 0: bad database index");
  // The same chunk twice: the same keys twice.
  Keyspace twice(2);
  CHECK_FALSE(LoadSnapshot(data + data, &SnapShard(twice), &err));
  CHECK(err.find("key appears twice") != std::string::npos);
  // The offset is where the duplicate entry starts, after the chunk's db and count.
  CHECK(err.find("offset " + std::to_string(data.size() + 9) + ":") != std::string::npos);
  // A key count larger than the data could hold.
  std::string lie = data;
  lie[1] = '\x7f';
  lie[8] = '\x7f';
  Keyspace loaded(2);
  CHECK_FALSE(LoadSnapshot(lie, &SnapShard(loaded), &err));
  CHECK(err.find("bad key count") != std::string::npos);
}

TEST_CASE("snapshot: streams round-trip once their loader is registered") {
  ScopedLoader loader(ValueType::kStream, LoadStream);
  Keyspace ks(1);
  Db db(&ks, 0, 0);
  auto* s = new Stream();
  for (uint64_t i = 1; i <= 1000; ++i) {
    std::string v = std::to_string(i);
    std::string_view fv[] = {"field", v};
    s->Append(StreamId{i, 0}, fv);
  }
  db.AddObject(Key(1), ValueType::kStream, s);
  const std::string data = SerializeShard(SnapShard(ks), 0);
  Keyspace loaded(1);
  std::string err;
  CHECK_MESSAGE(LoadSnapshot(data, &SnapShard(loaded), &err), err);
  Db l(&loaded, 0, 0);
  Entry* e = l.Find(Key(1));
  REQUIRE(e != nullptr);
  REQUIRE(e->type == ValueType::kStream);
  auto* back = static_cast<Stream*>(e->object());
  CHECK(back->length() == 1000);
  CHECK(back->last_id() == StreamId{1000, 0});
}

TEST_CASE("snapshot: big streams can be copied under the lock and written after it (deferred)") {
  ScopedLoader loader(ValueType::kStream, LoadStream);
  Keyspace ks(2);
  auto make_stream = [](uint64_t n) {
    auto* s = new Stream();
    const std::string value(64, 'v');
    for (uint64_t i = 1; i <= n; ++i) {
      std::string_view fv[] = {"field", value};
      s->Append(StreamId{i, 0}, fv);
    }
    return s;
  };
  Db db0(&ks, 0, 0), db1(&ks, 1, 0);
  db0.AddObject(Key(1), ValueType::kStream, make_stream(30000));  // big
  db0.AddObject(Key(2), ValueType::kStream, make_stream(10));      // small
  db0.SetString(Key(3), "plain");
  db1.AddObject(Key(4), ValueType::kStream, make_stream(30000));  // big, with a TTL
  db1.SetExpireAt(db1.Find(Key(4)), 123456);
  REQUIRE(db0.Find(Key(1))->object()->MemoryUsage() >= kDeferValueBytes);
  REQUIRE(db0.Find(Key(2))->object()->MemoryUsage() < kDeferValueBytes);

  Shard& shard = SnapShard(ks);
  std::string data;
  std::vector<DeferredValue> deferred;
  for (int db = 0; db < shard.databases(); ++db)
    if (Table* t = shard.find_table(db)) SerializeTable(db, *t, 0, &data, &deferred);
  REQUIRE(deferred.size() == 2);
  CHECK(deferred[0].key == Key(1));
  CHECK(deferred[1].key == Key(4));
  CHECK(deferred[1].expire_at == 123456);
  // The copies stand alone: what the table holds may change before they are written.
  db0.Delete(Key(1));
  SerializeDeferred(&deferred, &data);
  CHECK(deferred.empty());

  Keyspace loaded(2);
  std::string err;
  REQUIRE_MESSAGE(LoadSnapshot(data, &SnapShard(loaded), &err), err);
  Db l0(&loaded, 0, 0), l1(&loaded, 1, 0);
  for (auto [d, key, n] : {std::tuple{&l0, Key(1), 30000}, {&l0, Key(2), 10}, {&l1, Key(4), 30000}}) {
    CAPTURE(key);
    Entry* e = d->Find(key);
    REQUIRE(e != nullptr);
    REQUIRE(e->type == ValueType::kStream);
    CHECK(static_cast<Stream*>(e->object())->length() == static_cast<size_t>(n));
    CHECK(static_cast<Stream*>(e->object())->last_id() == StreamId{static_cast<uint64_t>(n), 0});
  }
  CHECK(l1.ExpireAt(l1.Find(Key(4))) == 123456);
  REQUIRE(l0.Find(Key(3)) != nullptr);
  CHECK(l0.Find(Key(3))->str() == "plain");
}
