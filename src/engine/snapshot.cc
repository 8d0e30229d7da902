// Serializing a shard's tables for checkpoints and loading them back.
#include "engine/snapshot.h"

#include <array>
#include <atomic>

#include "engine/object.h"
#include "persist/coding.h"
#include "persist/crc32c.h"

namespace runnel::engine {

namespace {

using persist::EncodeFixed64;
using persist::GetFixed64;
using persist::GetLengthPrefixed;
using persist::GetVarint;
using persist::PutFixed64;
using persist::PutLengthPrefixed;
using persist::PutVarint;

// Smallest entry: type, expiry, key length, value length (1 byte each).
constexpr size_t kMinEntryBytes = 4;

std::array<std::atomic<ObjectLoader>, 256> loaders{};

void PutHead(ValueType type, int64_t expire_at, std::string_view key, std::string* out) {
  out->push_back(static_cast<char>(type));
  PutVarint(out, static_cast<uint64_t>(expire_at));
  PutLengthPrefixed(out, key);
}

void PutObject(const Object& obj, std::string* out) {
  // The object's length is known only once it is written: reserve it, then fill it in.
  const size_t len_at = out->size();
  PutFixed64(out, 0);
  obj.Serialize(out);
  EncodeFixed64(out->data() + len_at, out->size() - len_at - 8);
}

void PutEntry(Entry* e, int64_t expire_at, std::string* out) {
  PutHead(e->type, expire_at, e->key(), out);
  if (e->type == ValueType::kString) {
    PutLengthPrefixed(out, e->str());
  } else {
    PutObject(*e->object(), out);
  }
}

// Reads one entry and links it into `t`; on failure returns why.
const char* LoadEntry(std::string_view* in, Table* t) {
  if (in->empty()) return "truncated entry";
  const auto type = static_cast<ValueType>(static_cast<uint8_t>((*in)[0]));
  in->remove_prefix(1);
  uint64_t expire_at;
  std::string_view key, value;
  if (!GetVarint(in, &expire_at)) return "bad expiry";
  if (!GetLengthPrefixed(in, &key)) return "bad key length";
  Entry* e;
  if (type == ValueType::kString) {
    if (!GetLengthPrefixed(in, &value)) return "bad string length";
    e = Entry::NewString(key, value);
  } else {
    uint64_t len;
    if (!GetFixed64(in, &len) || len > in->size()) return "bad value length";
    value = in->substr(0, len);
    in->remove_prefix(len);
    ObjectLoader load = FindObjectLoader(type);
    if (load == nullptr) return "unknown value type";
    Object* obj = load(value);
    if (obj == nullptr) return "malformed value";
    e = Entry::NewObject(key, type, obj);
  }
  if (t->dict().Find(key) != nullptr) {
    Entry::Free(e);
    return "key appears twice";
  }
  e->atime = Keyspace::LruClock();
  t->dict().Insert(e);
  t->SetExpireAt(e, static_cast<int64_t>(expire_at));
  return nullptr;
}

}  // namespace

void RegisterObjectLoader(ValueType type, ObjectLoader fn) {
  loaders[static_cast<uint8_t>(type)].store(fn, std::memory_order_release);
}

ObjectLoader FindObjectLoader(ValueType type) {
  return loaders[static_cast<uint8_t>(type)].load(std::memory_order_acquire);
}

void SerializeTable(int db, Table& t, int64_t now_ms, std::string* out,
                    std::vector<DeferredValue>* deferred) {
  if (t.size() == 0) return;
  const size_t start = out->size();
  PutVarint(out, static_cast<uint64_t>(db));
  const size_t count_at = out->size();
  PutFixed64(out, 0);
  uint64_t count = 0;
  uint64_t cursor = 0;
  do {
    cursor = t.dict().Scan(cursor, [&](Entry* e) {
      const int64_t at = t.ExpireAt(e);
      if (at != 0 && at <= now_ms) return;  // expired: as good as deleted
      if (deferred != nullptr && e->type == ValueType::kStream &&
          e->object()->MemoryUsage() >= kDeferValueBytes) {
        deferred->push_back({db, e->type, at, std::string(e->key()),
                             std::unique_ptr<Object>(e->object()->Clone())});
        return;
      }
      PutEntry(e, at, out);
      ++count;
    });
  } while (cursor != 0);
  if (count == 0) {
    out->resize(start);
    return;
  }
  EncodeFixed64(out->data() + count_at, count);
}

void SerializeDeferred(std::vector<DeferredValue>* deferred, std::string* out) {
  // SerializeTable adds them a table at a time: each database's values are together.
  for (size_t i = 0; i < deferred->size();) {
    const int db = (*deferred)[i].db;
    size_t end = i;
    while (end < deferred->size() && (*deferred)[end].db == db) ++end;
    PutVarint(out, static_cast<uint64_t>(db));
    PutFixed64(out, end - i);
    for (; i < end; ++i) {
      const DeferredValue& v = (*deferred)[i];
      PutHead(v.type, v.expire_at, v.key, out);
      PutObject(*v.copy, out);
    }
  }
  deferred->clear();
}

bool LoadSnapshot(std::string_view data, Shard* shard, std::string* err) {
  std::string_view in = data;
  auto fail = [&](const char* why) {
    *err = "snapshot: offset " + std::to_string(data.size() - in.size()) + ": " + why;
    return false;
  };
  while (!in.empty()) {
    const std::string_view chunk = in;  // errors in the chunk header name its start
    uint64_t db, count;
    if (!GetVarint(&in, &db) || db >= static_cast<uint64_t>(shard->databases())) {
      in = chunk;
      return fail("bad database index");
    }
    if (!GetFixed64(&in, &count) || count > in.size() / kMinEntryBytes) {
      in = chunk;
      return fail("bad key count");
    }
    Table& t = shard->table(static_cast<int>(db));
    for (uint64_t i = 0; i < count; ++i) {
      const std::string_view before = in;
      if (const char* why = LoadEntry(&in, &t)) {
        in = before;  // report the offset where the bad entry starts
        return fail(why);
      }
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// DUMP / RESTORE
// ---------------------------------------------------------------------------------------------

namespace {
constexpr uint16_t kDumpVersion = 1;
constexpr size_t kDumpTrailer = 2 + 4;
}  // namespace

void DumpValue(const Entry* e, std::string* out) {
  const size_t start = out->size();
  out->push_back(static_cast<char>(e->type));
  if (e->type == ValueType::kString) {
    out->append(e->str());
  } else {
    e->object()->Serialize(out);
  }
  out->push_back(static_cast<char>(kDumpVersion & 0xff));
  out->push_back(static_cast<char>(kDumpVersion >> 8));
  uint32_t crc = persist::Crc32c(0, out->data() + start, out->size() - start);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
}

Entry* RestoreValue(std::string_view key, std::string_view payload) {
  if (payload.size() < 1 + kDumpTrailer) return nullptr;
  const size_t body = payload.size() - 4;
  uint32_t crc = 0;
  for (int i = 0; i < 4; ++i)
    crc |= static_cast<uint32_t>(static_cast<uint8_t>(payload[body + i])) << (8 * i);
  if (crc != persist::Crc32c(0, payload.data(), body)) return nullptr;
  const uint16_t version = static_cast<uint16_t>(static_cast<uint8_t>(payload[body - 2]) |
                                                 (static_cast<uint8_t>(payload[body - 1]) << 8));
  if (version != kDumpVersion) return nullptr;
  const auto type = static_cast<ValueType>(static_cast<uint8_t>(payload[0]));
  std::string_view value = payload.substr(1, body - 2 - 1);
  if (type == ValueType::kString) return Entry::NewString(key, value);
  ObjectLoader load = FindObjectLoader(type);
  Object* obj = load != nullptr ? load(value) : nullptr;
  return obj != nullptr ? Entry::NewObject(key, type, obj) : nullptr;
}

}  // namespace runnel::engine
