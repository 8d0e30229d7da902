// The generic key commands: existence and deletion, renaming and copying between keys and
// databases, expiry (EXPIRE family, TTL family, PERSIST), whole-keyspace walks (KEYS, SCAN,
// RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL) and OBJECT introspection.
//
// Most handlers run with their keys' shards already locked by the dispatcher. The whole-keyspace
// commands are kSelfLocking: the walks lock one shard at a time (so a long KEYS never stalls the
// whole server), the flushes lock every shard so they are atomic.
#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/random_reply.h"
#include "commands/scan_options.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "common/util.h"
#include "engine/entry.h"
#include "common/glob.h"
#include "engine/object.h"
#include "engine/snapshot.h"
#include "engine/keyspace.h"

namespace runnel::commands {

namespace {

using engine::Db;
using engine::Encoding;
using engine::Entry;
using engine::Keyspace;
using engine::Shard;
using engine::Table;
using engine::ValueType;

constexpr std::string_view kErrSameObject = "ERR source and destination objects are the same";
constexpr std::string_view kErrIntRange =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
constexpr std::string_view kErrInvalidCursor = "ERR invalid cursor";
constexpr std::string_view kErrNoLfu =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust.";

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const char* TypeName(ValueType type) {
  switch (type) {
    case ValueType::kString: return "string";
    case ValueType::kList: return "list";
    case ValueType::kSet: return "set";
    case ValueType::kZSet: return "zset";
    case ValueType::kHash: return "hash";
    case ValueType::kStream: return "stream";
  }
  return "none";
}

// OBJECT ENCODING's name: strings by their encoding, other types as their object reports.
const char* EncodingName(const Entry* e) {
  switch (e->encoding) {
    case Encoding::kInt: return "int";
    case Encoding::kEmbStr: return "embstr";
    case Encoding::kRaw: return "raw";
    case Encoding::kObject: break;
  }
  return e->object()->EncodingName();
}

bool Expired(Table& t, const Entry* e, int64_t now_ms) {
  return e->has_ttl() && t.ExpireAt(e) <= now_ms;
}

int SessionDb(CommandContext& ctx) { return ctx.session().db.load(std::memory_order_relaxed); }

// A lookup on behalf of a read: counts a keyspace hit or miss for INFO. (Write lookups go
// straight to Db::Find: Redis counts no hits or misses for them.)
Entry* ReadLookup(CommandContext& ctx, Db& db, std::string_view key, bool touch) {
  Entry* e = db.Find(key, touch);
  auto& counter = e != nullptr ? ctx.stats().keyspace_hits : ctx.stats().keyspace_misses;
  counter.fetch_add(1, std::memory_order_relaxed);
  if (e == nullptr) ctx.Notify(kNotifyKeyMiss, "keymiss", key);
  return e;
}

// Parses a database index as COPY and MOVE take it; replies with the error and returns false if
// it is not a valid one.
bool ParseDbIndex(CommandContext& ctx, std::string_view arg, int* out) {
  int64_t v;
  if (!ParseInt64(arg, &v)) {
    ctx.Error(kErrNotInteger);
    return false;
  }
  if (v < INT_MIN || v > INT_MAX) {
    ctx.Error(kErrIntRange);
    return false;
  }
  if (v < 0 || v >= ctx.keyspace().databases()) {
    ctx.Error(kErrDbIndex);
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

// Moves the value of the unlinked entry `e` into a new entry named `key` (the key lives inside
// the entry, so a rename needs a new block) and frees `e`.
Entry* Rekey(Entry* e, std::string_view key) {
  Entry* fresh;
  if (e->type == ValueType::kString) {
    fresh = Entry::NewString(key, e->str());
  } else {
    fresh = Entry::NewObject(key, e->type, e->object());
    e->set_object(nullptr);  // now owned by `fresh`
  }
  fresh->encoding = e->encoding;
  fresh->atime = e->atime;
  Entry::Free(e);
  return fresh;
}

// Locks every shard for the life of the guard (the flushes).
class AllShardsLock {
 public:
  explicit AllShardsLock(Keyspace& ks) : ks_(ks) { ks_.LockAll(); }
  ~AllShardsLock() { ks_.UnlockAll(); }
  AllShardsLock(const AllShardsLock&) = delete;
  AllShardsLock& operator=(const AllShardsLock&) = delete;

 private:
  Keyspace& ks_;
};

// ---------------------------------------------------------------------------------------------
// Existence and deletion
// ---------------------------------------------------------------------------------------------

void DeleteKeys(CommandContext& ctx) {
  Db db = ctx.db();
  int64_t deleted = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    if (!db.Delete(ctx.arg(i))) continue;
    db.Touched(ctx.arg(i));
    ctx.Notify(kNotifyGeneric, "del", ctx.arg(i));
    ++deleted;
  }
  ctx.out().Integer(deleted);
}

// DEL key [key ...]
void CmdDel(CommandContext& ctx) { DeleteKeys(ctx); }

// UNLINK key [key ...]
// Entries are freed inline: a string entry is one block, so there is nothing worth deferring.
void CmdUnlink(CommandContext& ctx) { DeleteKeys(ctx); }

// EXISTS key [key ...]
void CmdExists(CommandContext& ctx) {
  Db db = ctx.db();
  int64_t found = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    if (ReadLookup(ctx, db, ctx.arg(i), false) != nullptr) ++found;
  }
  ctx.out().Integer(found);
}

// TOUCH key [key ...]
// Touches even for a client in NO-TOUCH mode: touching is what it was asked to do.
void CmdTouch(CommandContext& ctx) {
  Db db(&ctx.keyspace(), SessionDb(ctx), ctx.now_ms(), /*touch=*/true);
  int64_t found = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    if (ReadLookup(ctx, db, ctx.arg(i), true) != nullptr) ++found;
  }
  ctx.out().Integer(found);
}

// TYPE key
void CmdType(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e = ReadLookup(ctx, db, ctx.arg(1), false);
  ctx.out().Simple(e == nullptr ? "none" : TypeName(e->type));
}

// ---------------------------------------------------------------------------------------------
// Renaming, copying, moving
// ---------------------------------------------------------------------------------------------

// A value that lands on another shard than the one it came from cannot be logged as the command
// itself: recovery replays each shard from its own checkpoint, so the log records the new key
// as a RESTORE of the value (in the destination's database) on the destination's shard.
void AddRestoreEffect(CommandContext& ctx, int dst_db, std::string_view dst, const Entry* e,
                      int64_t expire_at) {
  std::string payload;
  engine::DumpValue(e, &payload);
  int db = SessionDb(ctx);
  if (dst_db != db) ctx.AddEffect({"SELECT", std::to_string(dst_db)});
  ctx.AddEffect({"RESTORE", std::string(dst), std::to_string(expire_at), std::move(payload),
                 "REPLACE", "ABSTTL"});
  if (dst_db != db) ctx.AddEffect({"SELECT", std::to_string(db)});
}

bool SameShard(std::string_view a, std::string_view b) {
  return Keyspace::ShardOf(a) == Keyspace::ShardOf(b);
}

void RenameGeneric(CommandContext& ctx, bool nx) {
  std::string_view src = ctx.arg(1);
  std::string_view dst = ctx.arg(2);
  Db db = ctx.db();
  if (db.Find(src) == nullptr) {
    ctx.Error(kErrNoSuchKey);
    return;
  }
  if (src == dst) {  // nothing to do, but the source had to exist
    nx ? ctx.out().Integer(0) : ctx.out().Ok();
    return;
  }
  if (Entry* old = db.Find(dst)) {
    if (nx) {
      ctx.out().Integer(0);
      return;
    }
    db.Delete(old);
  }
  int64_t expire_at;
  Entry* e = db.Unlink(src, &expire_at);
  Entry* moved = Rekey(e, dst);
  db.Link(moved, expire_at);
  db.Touched(src);
  db.Touched(dst);
  ctx.Notify(kNotifyGeneric, "rename_from", src);
  ctx.Notify(kNotifyGeneric, "rename_to", dst);
  if (!SameShard(src, dst)) {
    ctx.AddEffect({"DEL", std::string(src)});
    AddRestoreEffect(ctx, SessionDb(ctx), dst, moved, expire_at);
  }
  nx ? ctx.out().Integer(1) : ctx.out().Ok();
}

// RENAME key newkey
void CmdRename(CommandContext& ctx) { RenameGeneric(ctx, false); }

// RENAMENX key newkey
void CmdRenameNx(CommandContext& ctx) { RenameGeneric(ctx, true); }

// COPY source destination [DB destination-db] [REPLACE]
void CmdCopy(CommandContext& ctx) {
  std::string_view src = ctx.arg(1);
  std::string_view dst = ctx.arg(2);
  int dst_db = SessionDb(ctx);
  bool replace = false;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "replace")) {
      replace = true;
    } else if (EqualsIgnoreCase(ctx.arg(i), "db") && i + 1 < ctx.argc()) {
      if (!ParseDbIndex(ctx, ctx.arg(++i), &dst_db)) return;
    } else {
      ctx.Error(kErrSyntax);
      return;
    }
  }
  Db from = ctx.db();
  Db to = ctx.db(dst_db);
  if (from.index() == to.index() && src == dst) {
    ctx.Error(kErrSameObject);
    return;
  }
  Entry* e = ReadLookup(ctx, from, src, true);
  if (e == nullptr) {
    ctx.out().Integer(0);
    return;
  }
  if (Entry* old = to.Find(dst)) {
    if (!replace) {
      ctx.out().Integer(0);
      return;
    }
    to.Delete(old);
  }
  Entry* copy = e->type == ValueType::kString ? Entry::NewString(dst, e->str())
                                              : Entry::NewObject(dst, e->type, e->object()->Clone());
  copy->encoding = e->encoding;
  copy->atime = Keyspace::LruClock();
  to.Link(copy, from.ExpireAt(e));
  to.Touched(dst);
  ctx.Notify(kNotifyGeneric, "copy_to", dst, dst_db);
  if (!SameShard(src, dst)) AddRestoreEffect(ctx, dst_db, dst, copy, from.ExpireAt(e));
  ctx.out().Integer(1);
}

// MOVE key db
void CmdMove(CommandContext& ctx) {
  std::string_view key = ctx.arg(1);
  int dst_db;
  if (!ParseDbIndex(ctx, ctx.arg(2), &dst_db)) return;
  if (dst_db == SessionDb(ctx)) {
    ctx.Error(kErrSameObject);
    return;
  }
  // The same key name in another database lives in the same shard, which is locked.
  Db from = ctx.db();
  Db to = ctx.db(dst_db);
  if (from.Find(key) == nullptr || to.Find(key) != nullptr) {
    ctx.out().Integer(0);
    return;
  }
  int64_t expire_at;
  Entry* e = from.Unlink(key, &expire_at);
  to.Link(e, expire_at);
  from.Touched(key);
  ctx.Notify(kNotifyGeneric, "move_from", key);
  ctx.Notify(kNotifyGeneric, "move_to", key, dst_db);
  ctx.out().Integer(1);
}

// ---------------------------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------------------------

enum ExpireFlag : unsigned { kExpireNx = 1, kExpireXx = 2, kExpireGt = 4, kExpireLt = 8 };

// Parses the NX|XX|GT|LT options from argument `first` on; replies with the error and returns
// false on an unknown or incompatible option.
bool ParseExpireFlags(CommandContext& ctx, size_t first, unsigned* flags) {
  *flags = 0;
  for (size_t i = first; i < ctx.argc(); ++i) {
    std::string_view opt = ctx.arg(i);
    if (EqualsIgnoreCase(opt, "nx")) {
      *flags |= kExpireNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      *flags |= kExpireXx;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      *flags |= kExpireGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      *flags |= kExpireLt;
    } else {
      ctx.Error("ERR Unsupported option " + std::string(opt));
      return false;
    }
  }
  if ((*flags & kExpireNx) && (*flags & (kExpireXx | kExpireGt | kExpireLt))) {
    ctx.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return false;
  }
  if ((*flags & kExpireGt) && (*flags & kExpireLt)) {
    ctx.Error("ERR GT and LT options at the same time are not compatible");
    return false;
  }
  return true;
}

// Converts the command's time argument to an absolute time in ms; false if that overflows.
bool AbsoluteExpireMs(int64_t when, bool seconds, bool relative, int64_t now_ms, int64_t* out) {
  if (seconds) {
    if (when > INT64_MAX / 1000 || when < INT64_MIN / 1000) return false;
    when *= 1000;
  }
  if (relative) {
    if (when > INT64_MAX - now_ms) return false;
    when += now_ms;
  }
  *out = when;
  return true;
}

// Whether the flags allow replacing expiry `current` (0 = none, i.e. never) by `at`.
bool ExpireAllowed(unsigned flags, int64_t current, int64_t at) {
  if ((flags & kExpireNx) && current != 0) return false;
  if ((flags & kExpireXx) && current == 0) return false;
  const int64_t effective = current == 0 ? INT64_MAX : current;
  if ((flags & kExpireGt) && at <= effective) return false;
  if ((flags & kExpireLt) && at >= effective) return false;
  return true;
}

void ExpireGeneric(CommandContext& ctx, bool seconds, bool relative) {
  unsigned flags;
  if (!ParseExpireFlags(ctx, 3, &flags)) return;
  int64_t when;
  if (!ParseInt64(ctx.arg(2), &when)) {
    ctx.Error(kErrNotInteger);
    return;
  }
  int64_t at;
  if (!AbsoluteExpireMs(when, seconds, relative, ctx.now_ms(), &at)) {
    ctx.Error(fmt::format(fmt::runtime(kErrInvalidExpire), ctx.spec()->name));
    return;
  }
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  Entry* e = db.Find(key);
  if (e == nullptr || !ExpireAllowed(flags, db.ExpireAt(e), at)) {
    ctx.out().Integer(0);
    return;
  }
  bool past = at <= ctx.now_ms();
  if (past) {
    db.Delete(e);  // a time in the past deletes the key
  } else {
    db.SetExpireAt(e, at);
  }
  db.Touched(key);
  ctx.Notify(kNotifyGeneric, past ? "del" : "expire", key);
  ctx.out().Integer(1);
}

// EXPIRE key seconds [NX|XX|GT|LT]
void CmdExpire(CommandContext& ctx) { ExpireGeneric(ctx, true, true); }

// PEXPIRE key milliseconds [NX|XX|GT|LT]
void CmdPExpire(CommandContext& ctx) { ExpireGeneric(ctx, false, true); }

// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
void CmdExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, true, false); }

// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
void CmdPExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, false, false); }

// Replies -2 for a missing key, -1 for a key without expiry, else the remaining time (or the
// absolute expiry time), in ms or rounded to seconds.
void TtlGeneric(CommandContext& ctx, bool ms, bool absolute) {
  Db db = ctx.db();
  Entry* e = ReadLookup(ctx, db, ctx.arg(1), false);
  if (e == nullptr) {
    ctx.out().Integer(-2);
    return;
  }
  int64_t at = db.ExpireAt(e);
  if (at == 0) {
    ctx.out().Integer(-1);
    return;
  }
  const int64_t t = absolute ? at : std::max<int64_t>(0, at - ctx.now_ms());
  // Rounds to the nearest second without overflowing near INT64_MAX (PEXPIREAT accepts it).
  ctx.out().Integer(ms ? t : t / 1000 + (t % 1000 >= 500));
}

// TTL key
void CmdTtl(CommandContext& ctx) { TtlGeneric(ctx, false, false); }

// PTTL key
void CmdPTtl(CommandContext& ctx) { TtlGeneric(ctx, true, false); }

// EXPIRETIME key
void CmdExpireTime(CommandContext& ctx) { TtlGeneric(ctx, false, true); }

// PEXPIRETIME key
void CmdPExpireTime(CommandContext& ctx) { TtlGeneric(ctx, true, true); }

// PERSIST key
void CmdPersist(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e = db.Find(ctx.arg(1));
  if (e == nullptr || db.ExpireAt(e) == 0) {
    ctx.out().Integer(0);
    return;
  }
  db.SetExpireAt(e, 0);
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifyGeneric, "persist", ctx.arg(1));
  ctx.out().Integer(1);
}

// ---------------------------------------------------------------------------------------------
// Whole-keyspace commands (self-locking)
// ---------------------------------------------------------------------------------------------

void ReplyKeys(CommandContext& ctx, const std::vector<std::string>& keys) {
  ctx.out().ArrayHeader(static_cast<int64_t>(keys.size()));
  for (const auto& k : keys) ctx.out().Bulk(k);
}

// KEYS pattern
void CmdKeys(CommandContext& ctx) {
  std::string_view pattern = ctx.arg(1);
  const bool all = pattern == "*";
  const int db = SessionDb(ctx);
  const int64_t now = ctx.now_ms();
  std::vector<std::string> keys;
  for (int i = 0; i < Keyspace::kShards; ++i) {
    Shard& shard = ctx.keyspace().shard(i);
    std::lock_guard lock(shard.mutex());
    Table* t = shard.find_table(db);
    if (t == nullptr || t->size() == 0) continue;
    uint64_t cursor = 0;
    do {
      cursor = t->dict().Scan(cursor, [&](Entry* e) {
        if (Expired(*t, e, now)) return;
        if (all || GlobMatch(pattern, e->key())) keys.emplace_back(e->key());
      });
    } while (cursor != 0);
  }
  ReplyKeys(ctx, keys);
}

// A SCAN cursor: the shard in the low 8 bits, that shard's Dict::Scan cursor above them. The
// dict cursor survives table resizes, so the combined one does too.
static_assert(Keyspace::kShards == 256, "the SCAN cursor keeps the shard in 8 bits");
constexpr int kShardBits = 8;

struct ScanRequest {
  uint64_t cursor = 0;
  ScanOptions opts;
};

// Parses SCAN's arguments; replies with the error and returns false if they are invalid.
bool ParseScan(CommandContext& ctx, ScanRequest* req) {
  if (!ParseScanCursor(ctx.arg(1), &req->cursor)) {
    ctx.Error(kErrInvalidCursor);
    return false;
  }
  return ParseScanOptions(ctx, 2, true, &req->opts);
}

// Scans one shard's table from `*cursor` until the table is done, `*budget` bucket visits are
// spent, or `*visited` reaches the COUNT; matching keys go to `keys`. Expired keys are skipped
// and then deleted. The shard must be locked.
void ScanShard(CommandContext& ctx, const ScanRequest& req, Table& t, uint64_t* cursor,
               int64_t* budget, int64_t* visited, std::vector<std::string>* keys) {
  const int64_t now = ctx.now_ms();
  std::vector<std::string> expired;
  auto visit = [&](Entry* e) {
    ++*visited;
    if (Expired(t, e, now)) {
      expired.emplace_back(e->key());
    } else if ((req.opts.pattern.empty() || GlobMatch(req.opts.pattern, e->key())) &&
               (req.opts.type.empty() || EqualsIgnoreCase(req.opts.type, TypeName(e->type)))) {
      keys->emplace_back(e->key());
    }
  };
  do {
    *cursor = t.dict().Scan(*cursor, visit);
  } while (*cursor != 0 && --*budget > 0 && *visited < req.opts.count);
  Db db = ctx.db();
  for (const auto& k : expired) db.Find(k, false);  // deletes it as expired
}

// Runs one SCAN call; returns the next cursor.
uint64_t ScanKeyspace(CommandContext& ctx, const ScanRequest& req,
                      std::vector<std::string>* keys) {
  int shard = static_cast<int>(req.cursor & (Keyspace::kShards - 1));
  uint64_t cursor = req.cursor >> kShardBits;
  int64_t budget = req.opts.count > INT64_MAX / 10 ? INT64_MAX : req.opts.count * 10;
  int64_t visited = 0;
  const int db = SessionDb(ctx);
  while (true) {
    {
      Shard& s = ctx.keyspace().shard(shard);
      std::lock_guard lock(s.mutex());
      Table* t = s.find_table(db);
      if (t != nullptr && t->size() > 0) {
        ScanShard(ctx, req, *t, &cursor, &budget, &visited, keys);
      } else {
        cursor = 0;
      }
    }
    if (cursor == 0 && ++shard == Keyspace::kShards) return 0;
    if (budget <= 0 || visited >= req.opts.count) return (cursor << kShardBits) | shard;
  }
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
void CmdScan(CommandContext& ctx) {
  ScanRequest req;
  if (!ParseScan(ctx, &req)) return;
  std::vector<std::string> keys;
  uint64_t next = ScanKeyspace(ctx, req, &keys);
  ctx.out().ArrayHeader(2);
  ctx.out().Bulk(std::to_string(next));
  ReplyKeys(ctx, keys);
}

enum class Draw { kFound, kEmpty, kRetry };

// Draws one key, each key about equally likely: picks a shard weighted by its key count, then a
// random entry in it. An expired pick is deleted and the draw must be retried.
Draw DrawRandomKey(CommandContext& ctx, std::mt19937_64& rng, std::string* key) {
  const int db = SessionDb(ctx);
  std::array<size_t, Keyspace::kShards> sizes{};
  size_t total = 0;
  for (int i = 0; i < Keyspace::kShards; ++i) {
    Shard& s = ctx.keyspace().shard(i);
    std::lock_guard lock(s.mutex());
    if (Table* t = s.find_table(db)) sizes[i] = t->size();
    total += sizes[i];
  }
  if (total == 0) return Draw::kEmpty;
  size_t pick = rng() % total;
  int i = 0;
  while (pick >= sizes[i]) pick -= sizes[i++];
  Shard& s = ctx.keyspace().shard(i);
  std::lock_guard lock(s.mutex());
  Table* t = s.find_table(db);
  Entry* e = t != nullptr ? t->dict().Random(rng) : nullptr;
  if (e == nullptr) return Draw::kRetry;  // the shard emptied since it was counted
  key->assign(e->key());
  if (!Expired(*t, e, ctx.now_ms())) return Draw::kFound;
  ctx.db().Find(*key, false);  // deletes it as expired
  return Draw::kRetry;
}

// RANDOMKEY
void CmdRandomKey(CommandContext& ctx) {
  std::string key;
  Draw draw;
  do {
    draw = DrawRandomKey(ctx, ThreadRng(), &key);
  } while (draw == Draw::kRetry);
  if (draw == Draw::kEmpty) {
    ctx.out().Null();
    return;
  }
  ctx.out().Bulk(key);
}

// DBSIZE
void CmdDbSize(CommandContext& ctx) {
  const int db = SessionDb(ctx);
  int64_t total = 0;
  for (int i = 0; i < Keyspace::kShards; ++i) {
    Shard& s = ctx.keyspace().shard(i);
    std::lock_guard lock(s.mutex());
    if (Table* t = s.find_table(db)) total += static_cast<int64_t>(t->size());
  }
  ctx.out().Integer(total);
}

// Accepts the optional ASYNC|SYNC of the flushes (both flush synchronously here); replies with
// the error and returns false on anything else.
bool ParseFlushMode(CommandContext& ctx) {
  if (ctx.argc() == 1) return true;
  if (ctx.argc() == 2 && (EqualsIgnoreCase(ctx.arg(1), "async") ||
                          EqualsIgnoreCase(ctx.arg(1), "sync"))) {
    return true;
  }
  ctx.Error(kErrSyntax);
  return false;
}

// Clears database `db` (or every database if db < 0); every shard must be locked. Each key
// removed counts as one change, as in Redis (INFO rdb_changes_since_last_save, save points).
void ClearDatabases(Keyspace& ks, int db) {
  for (int i = 0; i < Keyspace::kShards; ++i) {
    Shard& s = ks.shard(i);
    for (int d = 0; d < s.databases(); ++d) {
      if (db >= 0 && d != db) continue;
      if (Table* t = s.find_table(d)) {
        s.version += t->size();
        t->Clear();
      }
    }
    s.TouchWatchers(db);
  }
}

// FLUSHDB [ASYNC|SYNC]
void CmdFlushDb(CommandContext& ctx) {
  if (!ParseFlushMode(ctx)) return;
  {
    AllShardsLock lock(ctx.keyspace());
    ClearDatabases(ctx.keyspace(), SessionDb(ctx));
    ctx.changes().dirty++;
    LogEffectsAllShards(ctx);
  }
  ctx.out().Ok();
}

// FLUSHALL [ASYNC|SYNC]
void CmdFlushAll(CommandContext& ctx) {
  if (!ParseFlushMode(ctx)) return;
  {
    AllShardsLock lock(ctx.keyspace());
    ClearDatabases(ctx.keyspace(), -1);
    ctx.changes().dirty++;
    LogEffectsAllShards(ctx);
  }
  ctx.server().FlushedAll(ctx.in_exec());
  ctx.out().Ok();
}

// ---------------------------------------------------------------------------------------------
// OBJECT
// ---------------------------------------------------------------------------------------------

// The OBJECT subject, looked up without touching it; replies nil and returns nullptr if missing.
Entry* ObjectLookup(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e = ReadLookup(ctx, db, ctx.arg(2), false);
  if (e == nullptr) ctx.out().Null();
  return e;
}

// Redis shares one object for each small non-negative integer value and reports it with an
// "infinite" refcount.
bool IsSharedInteger(const Entry* e) {
  constexpr int64_t kSharedIntegers = 10000;
  int64_t v;
  return e->type == ValueType::kString && e->encoding == Encoding::kInt &&
         ParseInt64(e->str(), &v) && v >= 0 && v < kSharedIntegers;
}

// OBJECT ENCODING key
void CmdObjectEncoding(CommandContext& ctx) {
  if (Entry* e = ObjectLookup(ctx)) ctx.out().Bulk(EncodingName(e));
}

// OBJECT REFCOUNT key
void CmdObjectRefCount(CommandContext& ctx) {
  if (Entry* e = ObjectLookup(ctx)) ctx.out().Integer(IsSharedInteger(e) ? INT_MAX : 1);
}

// OBJECT IDLETIME key
void CmdObjectIdleTime(CommandContext& ctx) {
  Entry* e = ObjectLookup(ctx);
  if (e == nullptr) return;
  const uint32_t now = Keyspace::LruClock();
  ctx.out().Integer(now >= e->atime ? now - e->atime : 0);
}

// OBJECT FREQ key
// runnel has no LFU eviction, so there is never a frequency to report.
void CmdObjectFreq(CommandContext& ctx) {
  if (ObjectLookup(ctx) != nullptr) ctx.Error(kErrNoLfu);
}

// OBJECT HELP
void CmdObjectHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
  };
  ctx.out().ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.out().Simple(line);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

void RegisterKeys(CommandTable& t) {
  constexpr uint32_t kWriteSlow = kCatKeyspace | kCatWrite | kCatSlow;
  constexpr uint32_t kWriteFast = kCatKeyspace | kCatWrite | kCatFast;
  constexpr uint32_t kReadSlow = kCatKeyspace | kCatRead | kCatSlow;
  constexpr uint32_t kReadFast = kCatKeyspace | kCatRead | kCatFast;
  constexpr KeySpec kOneKey{1, 1, 1};
  constexpr KeySpec kAllKeys{1, -1, 1};
  constexpr KeySpec kTwoKeys{1, 2, 1};
  constexpr KeySpec kNoKeys{};

  t.Add({.name = "del", .arity = -2, .flags = kWrite | kKeysIndependent, .categories = kWriteSlow,
         .keys = kAllKeys, .group = "generic", .since = "1.0.0",
         .summary = "Deletes one or more keys.",
         .syntax = "key [key ...]", .handler = CmdDel});
  t.Add({.name = "unlink", .arity = -2, .flags = kWrite | kFast | kKeysIndependent, .categories = kWriteFast,
         .keys = kAllKeys, .group = "generic", .since = "4.0.0",
         .summary = "Asynchronously deletes one or more keys.",
         .syntax = "key [key ...]", .handler = CmdUnlink});
  t.Add({.name = "exists", .arity = -2, .flags = kReadOnly | kFast, .categories = kReadFast,
         .keys = kAllKeys, .group = "generic", .since = "1.0.0",
         .summary = "Determines whether one or more keys exist.",
         .syntax = "key [key ...]", .handler = CmdExists});
  t.Add({.name = "touch", .arity = -2, .flags = kReadOnly | kFast, .categories = kReadFast,
         .keys = kAllKeys, .group = "generic", .since = "3.2.1",
         .summary = "Returns the number of existing keys out of those specified after updating "
                    "the time they were last accessed.",
         .syntax = "key [key ...]", .handler = CmdTouch});
  t.Add({.name = "type", .arity = 2, .flags = kReadOnly | kFast, .categories = kReadFast,
         .keys = kOneKey, .group = "generic", .since = "1.0.0",
         .summary = "Determines the type of value stored at a key.",
         .syntax = "key", .handler = CmdType});

  t.Add({.name = "rename", .arity = 3, .flags = kWrite, .categories = kWriteSlow,
         .keys = kTwoKeys, .group = "generic", .since = "1.0.0",
         .summary = "Renames a key and overwrites the destination.",
         .syntax = "key newkey", .handler = CmdRename});
  t.Add({.name = "renamenx", .arity = 3, .flags = kWrite | kFast, .categories = kWriteFast,
         .keys = kTwoKeys, .group = "generic", .since = "1.0.0",
         .summary = "Renames a key only when the target key name doesn't exist.",
         .syntax = "key newkey", .handler = CmdRenameNx});
  t.Add({.name = "copy", .arity = -3, .flags = kWrite | kDenyOom, .categories = kWriteSlow,
         .keys = kTwoKeys, .group = "generic", .since = "6.2.0",
         .summary = "Copies the value of a key to a new key.",
         .syntax = "source destination [DB destination-db] [REPLACE]", .handler = CmdCopy});
  t.Add({.name = "move", .arity = 3, .flags = kWrite | kFast, .categories = kWriteFast,
         .keys = kOneKey, .group = "generic", .since = "1.0.0",
         .summary = "Moves a key to another database.",
         .syntax = "key db", .handler = CmdMove});

  t.Add({.name = "expire", .arity = -3, .flags = kWrite | kFast, .categories = kWriteFast,
         .keys = kOneKey, .group = "generic", .since = "1.0.0",
         .summary = "Sets the expiration time of a key in seconds.",
         .syntax = "key seconds [NX|XX|GT|LT]", .handler = CmdExpire});
  t.Add({.name = "pexpire", .arity = -3, .flags = kWrite | kFast, .categories = kWriteFast,
         .keys = kOneKey, .group = "generic", .since = "2.6.0",
         .summary = "Sets the expiration time of a key in milliseconds.",
         .syntax = "key milliseconds [NX|XX|GT|LT]", .handler = CmdPExpire});
  t.Add({.name = "expireat", .arity = -3, .flags = kWrite | kFast, .categories = kWriteFast,
         .keys = kOneKey, .group = "generic", .since = "1.2.0",
         .summary = "Sets the expiration time of a key to a Unix timestamp.",
         .syntax = "key unix-time-seconds [NX|XX|GT|LT]", .handler = CmdExpireAt});
  t.Add({.name = "pexpireat", .arity = -3, .flags = kWrite | kFast, .categories = kWriteFast,
         .keys = kOneKey, .group = "generic", .since = "2.6.0",
         .summary = "Sets the expiration time of a key to a Unix milliseconds timestamp.",
         .syntax = "key unix-time-milliseconds [NX|XX|GT|LT]", .handler = CmdPExpireAt});
  t.Add({.name = "ttl", .arity = 2, .flags = kReadOnly | kFast, .categories = kReadFast,
         .keys = kOneKey, .group = "generic", .since = "1.0.0",
         .summary = "Returns the expiration time in seconds of a key.",
         .syntax = "key", .handler = CmdTtl});
  t.Add({.name = "pttl", .arity = 2, .flags = kReadOnly | kFast, .categories = kReadFast,
         .keys = kOneKey, .group = "generic", .since = "2.6.0",
         .summary = "Returns the expiration time in milliseconds of a key.",
         .syntax = "key", .handler = CmdPTtl});
  t.Add({.name = "expiretime", .arity = 2, .flags = kReadOnly | kFast, .categories = kReadFast,
         .keys = kOneKey, .group = "generic", .since = "7.0.0",
         .summary = "Returns the expiration time of a key as a Unix timestamp.",
         .syntax = "key", .handler = CmdExpireTime});
  t.Add({.name = "pexpiretime", .arity = 2, .flags = kReadOnly | kFast, .categories = kReadFast,
         .keys = kOneKey, .group = "generic", .since = "7.0.0",
         .summary = "Returns the expiration time of a key as a Unix milliseconds timestamp.",
         .syntax = "key", .handler = CmdPExpireTime});
  t.Add({.name = "persist", .arity = 2, .flags = kWrite | kFast, .categories = kWriteFast,
         .keys = kOneKey, .group = "generic", .since = "2.2.0",
         .summary = "Removes the expiration time of a key.",
         .syntax = "key", .handler = CmdPersist});

  t.Add({.name = "keys", .arity = 2, .flags = kReadOnly | kSelfLocking,
         .categories = kReadSlow | kCatDangerous,
         .keys = kNoKeys, .group = "generic", .since = "1.0.0",
         .summary = "Returns all key names that match a pattern.",
         .syntax = "pattern", .handler = CmdKeys});
  t.Add({.name = "scan", .arity = -2, .flags = kReadOnly | kSelfLocking, .categories = kReadSlow,
         .keys = kNoKeys, .group = "generic", .since = "2.8.0",
         .summary = "Iterates over the key names in the database.",
         .syntax = "cursor [MATCH pattern] [COUNT count] [TYPE type]", .handler = CmdScan});
  t.Add({.name = "randomkey", .arity = 1, .flags = kReadOnly | kSelfLocking,
         .categories = kReadSlow,
         .keys = kNoKeys, .group = "generic", .since = "1.0.0",
         .summary = "Returns a random key name from the database.",
         .syntax = "", .handler = CmdRandomKey});
  t.Add({.name = "dbsize", .arity = 1, .flags = kReadOnly | kFast | kSelfLocking,
         .categories = kReadFast,
         .keys = kNoKeys, .group = "server", .since = "1.0.0",
         .summary = "Returns the number of keys in the database.",
         .syntax = "", .handler = CmdDbSize});
  t.Add({.name = "flushdb", .arity = -1, .flags = kWrite | kSelfLocking,
         .categories = kWriteSlow | kCatDangerous,
         .keys = kNoKeys, .group = "server", .since = "1.0.0",
         .summary = "Remove all keys from the current database.",
         .syntax = "[ASYNC|SYNC]", .handler = CmdFlushDb});
  t.Add({.name = "flushall", .arity = -1, .flags = kWrite | kSelfLocking,
         .categories = kWriteSlow | kCatDangerous,
         .keys = kNoKeys, .group = "server", .since = "1.0.0",
         .summary = "Removes all keys from all databases.",
         .syntax = "[ASYNC|SYNC]", .handler = CmdFlushAll});

  constexpr KeySpec kObjectKey{2, 2, 1};
  auto& obj = t.Add({.name = "object", .arity = -2, .flags = 0, .categories = kCatSlow,
                     .keys = kNoKeys, .group = "generic", .since = "2.2.3",
                     .summary = "A container for object introspection commands."});
  t.AddSub(obj, {.name = "encoding", .arity = 3, .flags = kReadOnly, .categories = kReadSlow,
                 .keys = kObjectKey, .since = "2.2.3",
                 .summary = "Returns the internal encoding of a Redis object.",
                 .syntax = "key", .handler = CmdObjectEncoding});
  t.AddSub(obj, {.name = "freq", .arity = 3, .flags = kReadOnly, .categories = kReadSlow,
                 .keys = kObjectKey, .since = "4.0.0",
                 .summary = "Returns the logarithmic access frequency counter of a Redis object.",
                 .syntax = "key", .handler = CmdObjectFreq});
  t.AddSub(obj, {.name = "idletime", .arity = 3, .flags = kReadOnly, .categories = kReadSlow,
                 .keys = kObjectKey, .since = "2.2.3",
                 .summary = "Returns the time since the last access to a Redis object.",
                 .syntax = "key", .handler = CmdObjectIdleTime});
  t.AddSub(obj, {.name = "refcount", .arity = 3, .flags = kReadOnly, .categories = kReadSlow,
                 .keys = kObjectKey, .since = "2.2.3",
                 .summary = "Returns the reference count of a value of a key.",
                 .syntax = "key", .handler = CmdObjectRefCount});
  t.AddSub(obj, {.name = "help", .arity = 2, .flags = kLoading | kStale,
                 .categories = kCatKeyspace | kCatSlow,
                 .keys = kNoKeys, .since = "6.2.0",
                 .summary = "Returns helpful text about the different subcommands.",
                 .syntax = "", .handler = CmdObjectHelp});
}

}  // namespace runnel::commands
