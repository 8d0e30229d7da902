// The serialized form of a shard's keys, as stored in checkpoints: one chunk per database
// table, each holding the table's live keys with their type, expiry and value.
//
//   chunk:  db (varint) | count (fixed64) | count x entry
//   entry:  type (u8) | expire_at ms (varint, 0 = none) | key (varint length + bytes) | value
//   value:  string: varint length + bytes; other types: fixed64 length + Object::Serialize
//
// Non-string types register a loader that rebuilds their Object from its Serialize bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/entry.h"
#include "engine/keyspace.h"

namespace runnel::engine {

// Rebuilds an object from the bytes its Serialize wrote; nullptr if they are malformed.
using ObjectLoader = Object* (*)(std::string_view);
// Registers the loader of a non-string type. Call it during start-up, before any load (from an
// explicit init function: a static initializer in a static library may never be linked in).
void RegisterObjectLoader(ValueType type, ObjectLoader fn);
// The registered loader of a type, or nullptr.
ObjectLoader FindObjectLoader(ValueType type);

// A value copied under its shard's lock, to be serialized once the lock is let go.
struct DeferredValue {
  int db;
  ValueType type;
  int64_t expire_at;
  std::string key;
  std::unique_ptr<Object> copy;
};

// Streams at least this big (MemoryUsage) are deferred by SerializeTable when it may.
inline constexpr size_t kDeferValueBytes = 1 << 20;

// Appends the keys of `t` (database `db` of one shard) that are live at now_ms. The caller holds
// the shard's lock. An empty table appends nothing. With `deferred`, big streams are copied into
// it instead (a clone, which shares their chunks: stream.h), for SerializeDeferred after the
// unlock.
void SerializeTable(int db, Table& t, int64_t now_ms, std::string* out,
                    std::vector<DeferredValue>* deferred = nullptr);
// Appends the deferred values (one more chunk per database; the loader takes a database's keys
// from any number of chunks) and empties `deferred`.
void SerializeDeferred(std::vector<DeferredValue>* deferred, std::string* out);

// Puts the keys of one shard's serialized chunks into `shard` (single-threaded, at start-up).
// False, with *err naming the byte offset, on malformed data, a database the shard does not
// have, a type with no loader, or a key that appears twice. Keys keep their expiry even if it
// has passed (lazy and active expiry remove them, as for any key).
bool LoadSnapshot(std::string_view data, Shard* shard, std::string* err);

// DUMP/RESTORE payloads: one value (type byte, then the string bytes or the object's serialized
// form), a format version (2 bytes) and a CRC32C (4 bytes) of everything before it, so a payload
// that comes from a client is checked before it is trusted.
void DumpValue(const Entry* e, std::string* out);
// A new entry named `key` holding the value of a DUMP payload; nullptr if the payload is damaged
// or of another format.
Entry* RestoreValue(std::string_view key, std::string_view payload);

}  // namespace runnel::engine
