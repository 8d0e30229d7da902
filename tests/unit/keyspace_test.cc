#include <doctest/doctest.h>

#include <random>
#include <string>

#include "engine/keyspace.h"

using namespace runnel::engine;

TEST_CASE("keyspace: set, find and delete strings") {
  Keyspace ks(4);
  Db db(&ks, 0, 1000);
  CHECK(db.Find("a") == nullptr);
  Entry* e = db.SetString("a", "hello");
  CHECK(e->str() == "hello");
  CHECK(db.Find("a") == e);
  // A value that does not fit moves the entry; the key keeps working.
  std::string big(1000, 'x');
  Entry* moved = db.SetString("a", big);
  CHECK(db.Find("a") == moved);
  CHECK(moved->str() == big);
  CHECK(db.Delete("a"));
  CHECK_FALSE(db.Delete("a"));
  // Databases are separate.
  Db other(&ks, 1, 1000);
  db.SetString("k", "v0");
  CHECK(other.Find("k") == nullptr);
}

TEST_CASE("keyspace: lazy expiry removes keys whose time has passed") {
  Keyspace ks(1);
  Db before(&ks, 0, 1000);
  before.SetString("t", "v", 1500);
  before.SetString("keep", "v", 0);
  Entry* e = before.Find("t");
  REQUIRE(e != nullptr);
  CHECK(before.ExpireAt(e) == 1500);
  Db at(&ks, 0, 1500);  // expiry is inclusive: at the expiry time the key is gone
  CHECK(at.Find("t") == nullptr);
  CHECK(at.Find("keep") != nullptr);
  CHECK(ks.ExpiredKeys() == 1);
}

TEST_CASE("keyspace: SET without KEEPTTL clears the TTL, with KEEPTTL keeps it") {
  Keyspace ks(1);
  Db db(&ks, 0, 1000);
  db.SetString("k", "v", 5000);
  db.SetString("k", "w", 0, /*keep_ttl=*/true);
  CHECK(db.ExpireAt(db.Find("k")) == 5000);
  db.SetString("k", "x");
  CHECK(db.ExpireAt(db.Find("k")) == 0);
  CHECK(db.table("k").expires() == 0);
}

TEST_CASE("keyspace: the TTL index stays consistent through deletes and moves") {
  Keyspace ks(1);
  Db db(&ks, 0, 0);
  std::mt19937_64 rng(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    keys.push_back("{same}" + std::to_string(i));  // one slot, one table
    db.SetString(keys.back(), "v", 1000 + i);
  }
  Table& t = db.table(keys[0]);
  CHECK(t.expires() == 2000);
  for (int i = 0; i < 2000; i += 3) db.Delete(keys[i]);
  for (int i = 1; i < 2000; i += 3) db.UpdateString(db.Find(keys[i]), std::string(200, 'y'));
  for (int i = 0; i < 2000; ++i) {
    Entry* e = db.Find(keys[i]);
    if (i % 3 == 0) {
      CHECK(e == nullptr);
    } else {
      REQUIRE(e != nullptr);
      CHECK(db.ExpireAt(e) == 1000 + i);
    }
  }
  // Sampling at a time after every TTL deletes only expired keys, and eventually all of them.
  size_t removed = 0;
  for (int round = 0; round < 10000 && t.expires() > 0; ++round)
    removed += t.ExpireSample(5000, 20, rng);
  CHECK(t.expires() == 0);
  CHECK(t.size() == 0);
  CHECK(removed == 2000 - 667);
}

TEST_CASE("keyspace: active expiry over shards only removes expired keys") {
  Keyspace ks(2);
  Db db(&ks, 1, 0);
  for (int i = 0; i < 500; ++i) db.SetString("e" + std::to_string(i), "v", 100);
  for (int i = 0; i < 500; ++i) db.SetString("l" + std::to_string(i), "v", 1000000);
  std::mt19937_64 rng(1);
  size_t removed = 0;
  for (int pass = 0; pass < 50; ++pass) {
    removed += ks.ActiveExpire(0, 2, 200, 1000000, rng);
    removed += ks.ActiveExpire(1, 2, 200, 1000000, rng);
  }
  CHECK(removed == 500);
  Db later(&ks, 1, 200);
  for (int i = 0; i < 500; ++i) CHECK(later.Find("l" + std::to_string(i)) != nullptr);
}

TEST_CASE("keyspace: keys map to shards by slot, hash tags together") {
  CHECK(Keyspace::ShardOf("{user}a") == Keyspace::ShardOf("{user}b"));
  CHECK(Keyspace::ShardOfSlot(0) == 0);
  CHECK(Keyspace::ShardOfSlot(16383) == Keyspace::kShards - 1);
}
