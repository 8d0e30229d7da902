#include "engine/keyspace.h"

#include <malloc.h>

#include <atomic>
#include <cstring>

#include "common/util.h"
#include "engine/slot.h"

namespace runnel::engine {

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

void Table::SetExpireAt(Entry* e, int64_t at) {
  if (at == 0) {
    DropTtl(e);
    return;
  }
  if (e->has_ttl()) {
    ttl_[e->ttl_index].at = at;
    return;
  }
  e->ttl_index = static_cast<uint32_t>(ttl_.size());
  ttl_.push_back({e, at});
}

void Table::DropTtl(Entry* e) {
  if (!e->has_ttl()) return;
  uint32_t i = e->ttl_index;
  if (i != ttl_.size() - 1) {
    ttl_[i] = ttl_.back();
    ttl_[i].entry->ttl_index = i;
  }
  ttl_.pop_back();
  e->ttl_index = Entry::kNoTtl;
}

void Table::Delete(Entry* e) {
  DropTtl(e);
  Entry* removed = dict_.Remove(e->key());
  Entry::Free(removed);
}

void Table::Swap(Entry* old, Entry* fresh) {
  fresh->ttl_index = old->ttl_index;
  if (fresh->has_ttl()) ttl_[fresh->ttl_index].entry = fresh;
  old->ttl_index = Entry::kNoTtl;
  dict_.Replace(old, fresh);
  Entry::Free(old);
}

void Table::Clear() {
  ttl_.clear();
  ttl_.shrink_to_fit();
  dict_.Clear();
}

size_t Table::ExpireSample(int64_t now_ms, size_t samples, std::mt19937_64& rng,
                           const std::function<void(std::string_view)>& on_expired) {
  size_t expired = 0;
  for (size_t i = 0; i < samples && !ttl_.empty(); ++i) {
    size_t pick = rng() % ttl_.size();
    if (ttl_[pick].at <= now_ms) {
      if (on_expired) on_expired(ttl_[pick].entry->key());
      Delete(ttl_[pick].entry);
      ++expired;
      ++expired_;
    }
  }
  return expired;
}

// ---------------------------------------------------------------------------------------------
// Shard and Keyspace
// ---------------------------------------------------------------------------------------------

void Shard::TouchWatchers(int db) {
  for (auto& [key, list] : watchers) {
    if (db >= 0 && key.first != db) continue;
    for (auto& w : list) w->dirty.store(true, std::memory_order_relaxed);
  }
}

Table& Shard::table(int db) {
  auto& t = tables_[db];
  if (!t) t = std::make_unique<Table>();
  return *t;
}

Keyspace::Keyspace(int databases) : databases_(databases) {
  shards_.reserve(kShards);
  for (int i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>(databases));
}

int Keyspace::ShardOf(std::string_view key) { return ShardOfSlot(KeySlot(key)); }

void Keyspace::LockAll() {
  for (auto& s : shards_) s->mutex().lock();
}

void Keyspace::UnlockAll() {
  for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) (*it)->mutex().unlock();
}

std::atomic<uint32_t> Keyspace::lru_clock_{0};

void Keyspace::UpdateLruClock() {
  static const int64_t start = MonotonicUs();
  lru_clock_.store(static_cast<uint32_t>((MonotonicUs() - start) / 1000000),
                   std::memory_order_relaxed);
}

uint64_t Keyspace::ExpiredKeys() {
  uint64_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s->mutex());
    for (int db = 0; db < databases_; ++db)
      if (Table* t = s->find_table(db)) n += t->expired_keys();
  }
  return n;
}

size_t Keyspace::ActiveExpire(int offset, int stride, int64_t now_ms, int64_t budget_us,
                              std::mt19937_64& rng, const ExpiredFn& on_expired) {
  // Like Redis: sample keys with a TTL, and keep sampling a table while more than a tenth of
  // the sample had expired, within a time budget.
  constexpr size_t kSample = 20;
  int64_t deadline = MonotonicUs() + budget_us;
  size_t removed = 0;
  for (int i = offset; i < kShards; i += stride) {
    Shard& s = *shards_[i];
    std::lock_guard lock(s.mutex());
    for (int db = 0; db < databases_; ++db) {
      Table* t = s.find_table(db);
      if (t == nullptr || t->expires() == 0) continue;
      size_t n;
      std::function<void(std::string_view)> hook;
      if (on_expired) hook = [&](std::string_view key) { on_expired(i, db, key); };
      do {
        n = t->ExpireSample(now_ms, kSample, rng, hook);
        removed += n;
      } while (n > kSample / 10 && t->expires() > 0 && MonotonicUs() < deadline);
    }
    if (MonotonicUs() >= deadline) break;
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Db
// ---------------------------------------------------------------------------------------------

void Db::Touched(std::string_view key) {
  Shard& shard = ks_->shard(ShardOf(key));
  shard.version++;
  if (!shard.watchers.empty()) {
    auto it = shard.watchers.find(std::make_pair(index_, std::string(key)));
    if (it != shard.watchers.end())
      for (auto& w : it->second) w->dirty.store(true, std::memory_order_relaxed);
  }
  if (changes_ == nullptr) return;
  changes_->dirty++;
  if (shard.waiters.empty()) return;  // the common case: nobody is blocked here
  auto ready = std::make_pair(index_, std::string(key));
  if (shard.waiters.count(ready) != 0) changes_->ready.push_back(std::move(ready));
}

Table& Db::table(std::string_view key) { return ks_->shard(ShardOf(key)).table(index_); }

Entry* Db::Find(std::string_view key, bool touch) {
  Table* t = ks_->shard(ShardOf(key)).find_table(index_);
  if (t == nullptr) return nullptr;
  Entry* e = t->dict().Find(key);
  if (e == nullptr) return nullptr;
  if (Expired(*t, e)) {
    if (changes_ != nullptr) changes_->expired.emplace_back(index_, std::string(key));
    t->Delete(e);
    t->CountExpired();
    return nullptr;
  }
  if (touch && touch_) e->atime = Keyspace::LruClock();
  return e;
}

Status Db::FindTyped(std::string_view key, ValueType type, Entry** out) {
  Entry* e = Find(key);
  *out = nullptr;
  if (e == nullptr) return Status::kNotFound;
  if (e->type != type) return Status::kWrongType;
  *out = e;
  return Status::kOk;
}

Entry* Db::SetString(std::string_view key, std::string_view value, int64_t expire_at,
                     bool keep_ttl) {
  Table& t = table(key);
  Entry* old = t.dict().Find(key);
  if (old != nullptr && Expired(t, old)) {
    if (changes_ != nullptr) changes_->expired.emplace_back(index_, std::string(key));
    t.Delete(old);
    t.CountExpired();
    old = nullptr;
  }
  Entry* e;
  if (old != nullptr && old->type == ValueType::kString &&
      malloc_usable_size(old) >= sizeof(Entry) + key.size() + value.size()) {
    // Overwrite in place: no allocation for a same-size SET.
    std::memcpy(old->mutable_str(), value.data(), value.size());
    old->val_len = static_cast<uint32_t>(value.size());
    old->encoding = StringEncodingFor(value);
    e = old;
  } else {
    e = Entry::NewString(key, value);
    if (old != nullptr) {
      t.Swap(old, e);
    } else {
      t.dict().Insert(e);
      Created(key);
    }
  }
  e->atime = Keyspace::LruClock();
  if (!keep_ttl) t.SetExpireAt(e, expire_at);
  return e;
}

Entry* Db::UpdateString(Entry* e, std::string_view value) {
  std::string_view key = e->key();
  if (malloc_usable_size(e) >= sizeof(Entry) + key.size() + value.size()) {
    std::memmove(e->mutable_str(), value.data(), value.size());
    e->val_len = static_cast<uint32_t>(value.size());
    e->encoding = StringEncodingFor(value);
    return e;
  }
  Entry* fresh = Entry::NewString(key, value);
  fresh->atime = e->atime;
  table(key).Swap(e, fresh);
  return fresh;
}

Entry* Db::AddObject(std::string_view key, ValueType type, Object* obj) {
  Entry* e = Entry::NewObject(key, type, obj);
  e->atime = Keyspace::LruClock();
  table(key).dict().Insert(e);
  Created(key);
  return e;
}

Entry* Db::SetObject(std::string_view key, ValueType type, Object* obj) {
  Entry* old = Find(key, false);
  if (old == nullptr) return AddObject(key, type, obj);
  Table& t = table(key);
  Entry* e = Entry::NewObject(key, type, obj);
  e->atime = Keyspace::LruClock();
  t.SetExpireAt(old, 0);
  t.Swap(old, e);
  return e;
}

void Db::Link(Entry* e, int64_t expire_at) {
  Table& t = table(e->key());
  e->next = nullptr;
  e->ttl_index = Entry::kNoTtl;
  t.dict().Insert(e);
  t.SetExpireAt(e, expire_at);
  Created(e->key());
}

Entry* Db::Unlink(std::string_view key, int64_t* expire_at) {
  Table& t = table(key);
  Entry* e = t.dict().Find(key);
  if (e == nullptr) return nullptr;
  *expire_at = t.ExpireAt(e);
  t.SetExpireAt(e, 0);
  t.dict().Remove(key);
  return e;
}

bool Db::Delete(std::string_view key) {
  Entry* e = Find(key, false);
  if (e == nullptr) return false;
  Delete(e);
  return true;
}

void Db::Delete(Entry* e) { table(e->key()).Delete(e); }

}  // namespace runnel::engine
