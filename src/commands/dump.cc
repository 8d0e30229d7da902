// DUMP and RESTORE: a key's value as a self-checking payload and back. The payload format is
// runnel's own (type, serialized value, version, CRC32C), not Redis's RDB encoding.
//
// RESTORE is also how the log records a value that moves between shards (RENAME and COPY across
// shards are logged as DEL on one shard and RESTORE on the other).
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/table.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "engine/snapshot.h"

namespace runnel::commands {

namespace {

// DUMP key
void CmdDump(CommandContext& ctx) {
  engine::Db db = ctx.db();
  engine::Entry* e = db.Find(ctx.arg(1));
  if (e == nullptr) {
    ctx.out().Null();
    return;
  }
  std::string payload;
  engine::DumpValue(e, &payload);
  ctx.out().Bulk(payload);
}

struct RestoreOptions {
  bool replace = false;
  bool absttl = false;
  int64_t idle = -1;
};

bool ParseRestoreOptions(CommandContext& ctx, RestoreOptions* o) {
  for (size_t i = 4; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (EqualsIgnoreCase(a, "REPLACE")) {
      o->replace = true;
    } else if (EqualsIgnoreCase(a, "ABSTTL")) {
      o->absttl = true;
    } else if (EqualsIgnoreCase(a, "IDLETIME") && i + 1 < ctx.argc()) {
      if (!ParseInt64(ctx.arg(++i), &o->idle)) {
        ctx.Error(kErrNotInteger);
        return false;
      }
      if (o->idle < 0) {
        ctx.Error("ERR Invalid IDLETIME value, must be >= 0");
        return false;
      }
    } else if (EqualsIgnoreCase(a, "FREQ") && i + 1 < ctx.argc()) {
      int64_t freq;
      if (!ParseInt64(ctx.arg(++i), &freq)) {
        ctx.Error(kErrNotInteger);
        return false;
      }
      if (freq < 0 || freq > 255) {
        ctx.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return false;
      }
    } else {
      ctx.Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
void CmdRestore(CommandContext& ctx) {
  std::string_view key = ctx.arg(1);
  int64_t ttl;
  RestoreOptions opts;
  if (!ParseRestoreOptions(ctx, &opts)) return;
  if (!ParseInt64(ctx.arg(2), &ttl)) {
    ctx.Error(kErrNotInteger);
    return;
  }
  if (ttl < 0) {
    ctx.Error("ERR Invalid TTL value, must be >= 0");
    return;
  }
  engine::Db db = ctx.db();
  engine::Entry* old = db.Find(key, false);
  if (old != nullptr && !opts.replace) {
    ctx.Error("BUSYKEY Target key name already exists.");
    return;
  }
  engine::Entry* e = engine::RestoreValue(key, ctx.arg(3));
  if (e == nullptr) {
    ctx.Error("ERR DUMP payload version or checksum are wrong");
    return;
  }
  int64_t expire_at = ttl == 0 ? 0 : opts.absttl ? ttl : ctx.now_ms() + ttl;
  if (old != nullptr) db.Delete(old);
  if (expire_at != 0 && expire_at <= ctx.now_ms()) {
    engine::Entry::Free(e);  // already expired: as if restored and expired at once
    if (old != nullptr) ctx.Notify(kNotifyGeneric, "del", key);
  } else {
    db.Link(e, expire_at);
    if (opts.idle >= 0)
      e->atime = engine::Keyspace::LruClock() - static_cast<uint32_t>(opts.idle);
    ctx.Notify(kNotifyGeneric, "restore", key);
  }
  db.Touched(key);
  ctx.out().Ok();
}

}  // namespace

void RegisterDump(CommandTable& t) {
  t.Add({.name = "dump", .arity = 2, .flags = kReadOnly,
         .categories = kCatKeyspace | kCatRead | kCatSlow, .keys = {1, 1, 1},
         .group = "generic", .since = "2.6.0",
         .summary = "Returns a serialized representation of the value stored at a key.",
         .syntax = "key", .handler = CmdDump});
  t.Add({.name = "restore", .arity = -4, .flags = kWrite | kDenyOom,
         .categories = kCatKeyspace | kCatWrite | kCatSlow | kCatDangerous, .keys = {1, 1, 1},
         .group = "generic", .since = "2.6.0",
         .summary = "Creates a key from the serialized representation of a value.",
         .syntax = "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] "
                   "[FREQ frequency]",
         .handler = CmdRestore});
}

}  // namespace runnel::commands
