// The keyspace: `databases` logical databases, each split over the same fixed set of shards by
// key slot (CRC16 as in Redis Cluster). A shard owns one table per database and one mutex; a
// command locks the shards of its keys (ascending order) before it touches them through a Db.
//
// Expiry: a key's absolute expiry time (ms) lives in its table's TTL index, which also lets the
// active expiry cycle sample only keys that have a TTL.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <random>
#include <string_view>
#include <vector>

#include "common/keyspace_events.h"
#include "engine/dict.h"
#include "engine/entry.h"
#include "engine/spin_lock.h"
#include "engine/status.h"

namespace runnel::engine {

// A client blocked on keys (the command layer derives from it); shards keep them per key.
class Waiter {
 public:
  virtual ~Waiter() = default;
};

// What one command did to the keyspace, collected by its Db views: how many writes (to decide
// whether it goes to the log), keys written that blocked clients wait on, keys removed because
// they had expired (logged as deletions), and keys created (only while "new" keyspace events
// are on, which is all they are for).
struct Changes {
  uint64_t dirty = 0;
  std::vector<std::pair<int, std::string>> ready;    // (db, key)
  std::vector<std::pair<int, std::string>> expired;  // (db, key)
  std::vector<std::pair<int, std::string>> created;  // (db, key)
  void Clear() {
    dirty = 0;
    ready.clear();
    expired.clear();
    created.clear();
  }
};

// A client's WATCH: made dirty when any watched key is written (EXEC then fails).
struct Watch {
  std::atomic<bool> dirty{false};
  // (db, key, the key's expiry time when watched): a watched key that expires also counts.
  std::vector<std::tuple<int, std::string, int64_t>> keys;
};

// One database's keys within one shard.
class Table {
 public:
  Dict& dict() { return dict_; }
  size_t size() const { return dict_.size(); }
  size_t expires() const { return ttl_.size(); }

  int64_t ExpireAt(const Entry* e) const { return e->has_ttl() ? ttl_[e->ttl_index].at : 0; }
  void SetExpireAt(Entry* e, int64_t at);  // at == 0 removes the TTL
  // Unlinks `e` from the table (and its TTL) and frees it.
  void Delete(Entry* e);
  // Replaces `old` by `fresh` (same key) in the dict and the TTL index; frees `old`.
  void Swap(Entry* old, Entry* fresh);
  void Clear();
  uint64_t expired_keys() const { return expired_; }
  void CountExpired() { ++expired_; }
  // Samples up to `samples` keys with a TTL and deletes the expired ones; returns how many.
  // `on_expired` (may be empty) hears each key just before it is deleted.
  size_t ExpireSample(int64_t now_ms, size_t samples, std::mt19937_64& rng,
                      const std::function<void(std::string_view)>& on_expired = {});

 private:
  struct Ttl {
    Entry* entry;
    int64_t at;
  };
  void DropTtl(Entry* e);
  Dict dict_;
  std::vector<Ttl> ttl_;
  uint64_t expired_ = 0;
};

class Shard {
 public:
  explicit Shard(int databases) : tables_(databases) {}
  SpinLock& mutex() { return mu_; }
  // The table of database `db`, created on first use.
  Table& table(int db);
  // nullptr if the database has no keys in this shard yet.
  Table* find_table(int db) { return tables_[db].get(); }
  int databases() const { return static_cast<int>(tables_.size()); }
  // Monotonic counter of writes to this shard (WATCH, SCAN stability checks, DEBUG).
  uint64_t version = 0;
  // LSN of the last log record that changed this shard (under the shard's lock).
  uint64_t last_lsn = 0;
  // Clients blocked on keys of this shard, per (db, key), in the order they blocked.
  std::map<std::pair<int, std::string>, std::deque<std::shared_ptr<Waiter>>> waiters;
  // Clients watching keys of this shard, per (db, key).
  std::map<std::pair<int, std::string>, std::vector<std::shared_ptr<Watch>>> watchers;
  // FLUSHDB/FLUSHALL: every watcher of database `db` (all if db < 0) becomes dirty.
  void TouchWatchers(int db);

 private:
  SpinLock mu_;
  std::vector<std::unique_ptr<Table>> tables_;
};

class Keyspace {
 public:
  static constexpr int kShards = 256;
  static constexpr int kSlotsPerShard = 16384 / kShards;

  explicit Keyspace(int databases);
  int databases() const { return databases_; }
  static int ShardOfSlot(int slot) { return slot / kSlotsPerShard; }
  static int ShardOf(std::string_view key);
  Shard& shard(int i) { return *shards_[i]; }

  // Locks all shards in ascending order (FLUSHALL, SWAPDB-like whole-keyspace commands).
  void LockAll();
  void UnlockAll();

  // Seconds on the LRU clock (for OBJECT IDLETIME); advanced by the server's timer so lookups
  // do not read the clock.
  static uint32_t LruClock() { return lru_clock_.load(std::memory_order_relaxed); }
  static void UpdateLruClock();
  // Keys removed because they expired (lazily or by the active cycle), over all shards.
  uint64_t ExpiredKeys();
  // Runs one active-expiry pass over the shards s with s % stride == offset; returns keys removed.
  // `on_expired(shard, db, key)` runs under the shard's lock before each deletion (the log).
  using ExpiredFn = std::function<void(int shard, int db, std::string_view key)>;
  size_t ActiveExpire(int offset, int stride, int64_t now_ms, int64_t budget_us,
                      std::mt19937_64& rng, const ExpiredFn& on_expired = {});

 private:
  int databases_;
  std::vector<std::unique_ptr<Shard>> shards_;
  static std::atomic<uint32_t> lru_clock_;
};

// A database as seen by one command whose key shards are locked. All lookups apply lazy expiry:
// an expired key is deleted and reported missing.
class Db {
 public:
  // `touch`: lookups update keys' access times (off for CLIENT NO-TOUCH clients). `changes`
  // collects what the command did (may be null in tests).
  Db(Keyspace* ks, int index, int64_t now_ms, bool touch = true, Changes* changes = nullptr)
      : ks_(ks), index_(index), now_ms_(now_ms), touch_(touch), changes_(changes) {}

  int index() const { return index_; }
  int64_t now_ms() const { return now_ms_; }
  Keyspace* keyspace() const { return ks_; }

  // The live entry of `key`, or nullptr. `touch` updates its access time.
  Entry* Find(std::string_view key, bool touch = true);
  // Like Find, but kWrongType if the key exists with another type (then *out is nullptr).
  Status FindTyped(std::string_view key, ValueType type, Entry** out);
  bool Exists(std::string_view key) { return Find(key, false) != nullptr; }

  // Sets a string value. keep_ttl keeps the old key's TTL; otherwise the key gets `expire_at`
  // (0 = none). Returns the new entry.
  Entry* SetString(std::string_view key, std::string_view value, int64_t expire_at = 0,
                   bool keep_ttl = false);
  // Replaces the value of an existing string entry in place when it fits; returns the entry
  // (possibly moved), keeping the TTL.
  Entry* UpdateString(Entry* e, std::string_view value);
  // Adds an object-typed key (must not exist).
  Entry* AddObject(std::string_view key, ValueType type, Object* obj);
  // Sets `key` to an object-typed value, replacing whatever it held (and its TTL), as the
  // *STORE commands do.
  Entry* SetObject(std::string_view key, ValueType type, Object* obj);
  // Links an entry built elsewhere (RENAME, MOVE, COPY); the key must not exist.
  void Link(Entry* e, int64_t expire_at);
  // Unlinks the entry of `key` without freeing it; its TTL is returned through *expire_at.
  Entry* Unlink(std::string_view key, int64_t* expire_at);
  bool Delete(std::string_view key);
  void Delete(Entry* e);

  int64_t ExpireAt(const Entry* e) { return table(e->key()).ExpireAt(e); }
  void SetExpireAt(Entry* e, int64_t at) { table(e->key()).SetExpireAt(e, at); }
  // The table holding `key` in this database (creating it).
  Table& table(std::string_view key);

  // The shard of `key`. A command passes the same key to several calls and CRC16 is not free,
  // so the last answer is kept for keys inside the command's argument bytes, which cannot
  // change while it runs (set_stable_range); keys elsewhere (an entry's own, which a free and
  // a malloc could reuse) are always hashed.
  int ShardOf(std::string_view key) {
    if (key.data() < stable_lo_ || key.data() >= stable_hi_) return Keyspace::ShardOf(key);
    if (key.data() != cached_key_ || key.size() != cached_len_) {
      cached_key_ = key.data();
      cached_len_ = key.size();
      cached_shard_ = Keyspace::ShardOf(key);
    }
    return cached_shard_;
  }
  void set_stable_range(const char* lo, const char* hi) {
    stable_lo_ = lo;
    stable_hi_ = hi;
  }
  // Primes the cache with a shard the caller already computed for a key in the stable range.
  void SeedShard(const char* key, size_t len, int shard) {
    cached_key_ = key;
    cached_len_ = len;
    cached_shard_ = shard;
  }

  // Records a write to `key`: counts it for the log and wakes clients blocked on the key.
  // Every write command calls it once per key it changed.
  void Touched(std::string_view key);

 private:
  bool Expired(Table& t, Entry* e) const {
    return e->has_ttl() && t.ExpireAt(e) <= now_ms_;
  }
  // A key was added (Redis's "new" keyspace event).
  void Created(std::string_view key) {
    if (changes_ != nullptr && (KeyspaceEvents() & kNotifyNew) != 0) [[unlikely]]
      changes_->created.emplace_back(index_, std::string(key));
  }
  Keyspace* ks_;
  int index_;
  int64_t now_ms_;
  bool touch_;
  Changes* changes_;
  const char* stable_lo_ = nullptr;
  const char* stable_hi_ = nullptr;
  const char* cached_key_ = nullptr;
  size_t cached_len_ = 0;
  int cached_shard_ = 0;
};

}  // namespace runnel::engine
