// The hash command family: writes (HSET, HMSET, HSETNX, HDEL, HINCRBY, HINCRBYFLOAT), reads
// (HGET, HMGET, HEXISTS, HLEN, HSTRLEN, HKEYS, HVALS, HGETALL) and walks (HRANDFIELD, HSCAN).
// Handlers parse their arguments, reply with an error early, then work on the locked key
// through engine::Hash, which picks and converts the encoding.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/lookup.h"
#include "commands/random_reply.h"
#include "commands/scan_options.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "common/config.h"
#include "common/glob.h"
#include "common/util.h"
#include "engine/entry.h"
#include "engine/hash.h"
#include "engine/keyspace.h"

namespace runnel::commands {

namespace {

using engine::Db;
using engine::Entry;
using engine::Hash;
using engine::ValueType;

constexpr std::string_view kErrHashNotInteger = "ERR hash value is not an integer";
constexpr std::string_view kErrHashNotFloat = "ERR hash value is not a float";
constexpr std::string_view kErrIncrNanOrInf = "ERR value is NaN or Infinity";
constexpr std::string_view kErrResultNanOrInf = "ERR increment would produce NaN or Infinity";
constexpr std::string_view kErrOutOfRange = "ERR value is out of range";
constexpr std::string_view kErrInvalidCursor = "ERR invalid cursor";
constexpr std::string_view kErrTooBig =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// ---------------------------------------------------------------------------------------------
// Lookups and shared helpers
// ---------------------------------------------------------------------------------------------

engine::HashLimits Limits() {
  const Config& c = GlobalConfig();
  return {static_cast<size_t>(c.hash_max_listpack_entries.load(std::memory_order_relaxed)),
          static_cast<size_t>(c.hash_max_listpack_value.load(std::memory_order_relaxed))};
}

// Looks up the hash at `key`. Replies WRONGTYPE and returns false if the key holds another
// type; *e is nullptr when it is missing. Reads count keyspace hits and misses, as Redis's read
// lookups do.
bool FindHash(CommandContext& ctx, Db& db, std::string_view key, bool read, Entry** e) {
  bool failed;
  *e = LookupTyped(ctx, db, key, ValueType::kHash, read, &failed);
  return !failed;
}

// Creates the hash at `key` with room for `packed_bytes` of packed pairs.
Entry* CreateHash(Db& db, std::string_view key, size_t packed_bytes) {
  return db.AddObject(key, ValueType::kHash, Hash::Create(packed_bytes + 1));
}

// Whether to log effects: only the write-ahead log reads them.
// A table entry keeps a field's and a value's length in 32 bits: replies an error and returns
// false if args[from..] hold a longer string (possible only with proto-max-bulk-len > 4 GB).
bool CheckSizes(CommandContext& ctx, size_t from) {
  for (size_t i = from; i < ctx.argc(); ++i) {
    if (ctx.arg(i).size() > UINT32_MAX) {
      ctx.Error(kErrTooBig);
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// HSET, HMSET, HSETNX, HDEL
// ---------------------------------------------------------------------------------------------

// Readies `e` (null: the key is missing) for the pairs in args[2..]. As in Redis, a field or
// value longer than hash-max-listpack-value converts the hash before anything is written. A
// packed hash gets room at once for the pairs it can take (at most hash-max-listpack-entries
// of them), so it grows once, not once per pair.
Entry* PrepareForPairs(CommandContext& ctx, Db& db, Entry* e, const engine::HashLimits& limits) {
  size_t bytes = 0, pairs = 0;
  bool long_arg = false;
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    if (pairs++ < limits.max_entries) bytes += Hash::PackedBytes(ctx.arg(i), ctx.arg(i + 1));
    long_arg = long_arg || !limits.Fits(ctx.arg(i)) || !limits.Fits(ctx.arg(i + 1));
  }
  if (e == nullptr) e = CreateHash(db, ctx.arg(1), long_arg ? 0 : bytes);
  Hash h(e, limits);
  if (long_arg) {
    h.ConvertToTable();
  } else {
    h.Reserve(bytes);
  }
  return e;
}

// HSET key field value [field value ...], and HMSET (which replies OK).
void SetPairs(CommandContext& ctx, bool hmset) {
  if (ctx.argc() % 2 == 1) return ctx.Error(WrongArgs(ctx.spec()->name));
  if (!CheckSizes(ctx, 2)) return;
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  Entry* e;
  if (!FindHash(ctx, db, key, false, &e)) return;
  const engine::HashLimits limits = Limits();
  e = PrepareForPairs(ctx, db, e, limits);
  Hash h(e, limits);
  int64_t added = 0;
  for (size_t i = 2; i < ctx.argc(); i += 2) added += h.Set(ctx.arg(i), ctx.arg(i + 1)) ? 1 : 0;
  h.Trim();
  db.Touched(key);
  ctx.Notify(kNotifyHash, "hset", key);
  if (hmset) return ctx.out().Ok();
  ctx.out().Integer(added);
}

// HSET key field value [field value ...]
void CmdHSet(CommandContext& ctx) { SetPairs(ctx, false); }

// HMSET key field value [field value ...]
void CmdHMSet(CommandContext& ctx) { SetPairs(ctx, true); }

// HSETNX key field value
void CmdHSetNx(CommandContext& ctx) {
  if (!CheckSizes(ctx, 2)) return;
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  Entry* e;
  if (!FindHash(ctx, db, key, false, &e)) return;
  const engine::HashLimits limits = Limits();
  if (e != nullptr && Hash(e, limits).Contains(ctx.arg(2))) return ctx.out().Integer(0);
  if (e == nullptr) e = CreateHash(db, key, Hash::PackedBytes(ctx.arg(2), ctx.arg(3)));
  Hash(e, limits).Set(ctx.arg(2), ctx.arg(3));
  db.Touched(key);
  ctx.Notify(kNotifyHash, "hset", key);
  ctx.out().Integer(1);
}

// HDEL key field [field ...]
void CmdHDel(CommandContext& ctx) {
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  Entry* e;
  if (!FindHash(ctx, db, key, false, &e)) return;
  if (e == nullptr) return ctx.out().Integer(0);
  Hash h(e, Limits());
  int64_t deleted = 0;
  for (size_t i = 2; i < ctx.argc(); ++i) deleted += h.Delete(ctx.arg(i)) ? 1 : 0;
  if (deleted > 0) {
    bool emptied = h.size() == 0;
    if (emptied) db.Delete(e);  // an empty hash is no key, as in Redis
    db.Touched(key);
    ctx.Notify(kNotifyHash, "hdel", key);
    if (emptied) ctx.Notify(kNotifyGeneric, "del", key);
  }
  ctx.out().Integer(deleted);
}

// ---------------------------------------------------------------------------------------------
// HINCRBY, HINCRBYFLOAT
// ---------------------------------------------------------------------------------------------

// The current value of the field an increment changes, parsed by `parse`: false (after the
// error reply) if the value does not parse. A missing key or field leaves *value alone.
template <class T, class Parse>
bool CurrentValue(CommandContext& ctx, Entry* e, Parse parse, std::string_view error, T* value) {
  if (e == nullptr) return true;
  Hash h(e, Limits());
  std::string_view current;
  if (!h.Get(ctx.arg(2), &current) || parse(current, value)) return true;
  ctx.Error(error);
  return false;
}

// Stores the new value of args[2] in the hash `e` (created if null) and records the write.
void StoreIncrement(CommandContext& ctx, Db& db, Entry* e, std::string_view text,
                    std::string_view event) {
  if (e == nullptr) e = CreateHash(db, ctx.arg(1), Hash::PackedBytes(ctx.arg(2), text));
  Hash(e, Limits()).Set(ctx.arg(2), text);
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifyHash, event, ctx.arg(1));
}

// HINCRBY key field increment
void CmdHIncrBy(CommandContext& ctx) {
  int64_t incr;
  if (!ParseInt64(ctx.arg(3), &incr)) return ctx.Error(kErrNotInteger);
  if (!CheckSizes(ctx, 2)) return;
  Db db = ctx.db();
  Entry* e;
  if (!FindHash(ctx, db, ctx.arg(1), false, &e)) return;
  int64_t value = 0;
  if (!CurrentValue(ctx, e, ParseInt64, kErrHashNotInteger, &value)) return;
  if (__builtin_add_overflow(value, incr, &value)) return ctx.Error(kErrOverflow);
  char buf[24];
  StoreIncrement(ctx, db, e, std::string_view(buf, FormatInt64(value, buf)), "hincrby");
  ctx.out().Integer(value);
}

// HINCRBYFLOAT key field increment
void CmdHIncrByFloat(CommandContext& ctx) {
  long double incr;
  if (!ParseLongDoubleOperand(ctx.arg(3), &incr)) return ctx.Error(kErrNotFloat);
  if (std::isinf(incr)) return ctx.Error(kErrIncrNanOrInf);
  if (!CheckSizes(ctx, 2)) return;
  Db db = ctx.db();
  Entry* e;
  if (!FindHash(ctx, db, ctx.arg(1), false, &e)) return;
  long double value = 0;
  if (!CurrentValue(ctx, e, ParseLongDoubleOperand, kErrHashNotFloat, &value)) return;
  value += incr;
  if (std::isnan(value) || std::isinf(value)) return ctx.Error(kErrResultNanOrInf);
  std::string text = FormatLongDouble(value);
  StoreIncrement(ctx, db, e, text, "hincrbyfloat");
  // Logged as the value it produced, like Redis's replication of HINCRBYFLOAT, so the log
  // never depends on float formatting.
  if (WantEffects(ctx))
    ctx.AddEffect({"HSET", std::string(ctx.arg(1)), std::string(ctx.arg(2)), text});
  ctx.out().Bulk(text);
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

// Finds the hash of a read command: nullptr (with the reply sent) if the key is missing, in
// which case `missing` replies, or holds another type.
template <class Missing>
Entry* ReadHash(CommandContext& ctx, Db& db, Missing missing) {
  Entry* e;
  if (!FindHash(ctx, db, ctx.arg(1), true, &e)) return nullptr;
  if (e == nullptr) missing();
  return e;
}

// HGET key field
void CmdHGet(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e = ReadHash(ctx, db, [&] { ctx.out().Null(); });
  if (e == nullptr) return;
  Hash h(e, Limits());
  std::string_view value;
  if (!h.Get(ctx.arg(2), &value)) return ctx.out().Null();
  ctx.out().Bulk(value);
}

// HMGET key field [field ...]
void CmdHMGet(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e;
  if (!FindHash(ctx, db, ctx.arg(1), true, &e)) return;
  ctx.out().ArrayHeader(static_cast<int64_t>(ctx.argc() - 2));
  const Hash h(e, Limits());  // e may be null: then never read
  for (size_t i = 2; i < ctx.argc(); ++i) {
    std::string_view value;
    if (e != nullptr && h.Get(ctx.arg(i), &value)) {
      ctx.out().Bulk(value);
    } else {
      ctx.out().Null();
    }
  }
}

// HEXISTS key field
void CmdHExists(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e = ReadHash(ctx, db, [&] { ctx.out().Integer(0); });
  if (e != nullptr) ctx.out().Integer(Hash(e, Limits()).Contains(ctx.arg(2)) ? 1 : 0);
}

// HLEN key
void CmdHLen(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e = ReadHash(ctx, db, [&] { ctx.out().Integer(0); });
  if (e != nullptr) ctx.out().Integer(static_cast<int64_t>(Hash(e, Limits()).size()));
}

// HSTRLEN key field
void CmdHStrLen(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e = ReadHash(ctx, db, [&] { ctx.out().Integer(0); });
  if (e == nullptr) return;
  Hash h(e, Limits());
  std::string_view value;
  ctx.out().Integer(h.Get(ctx.arg(2), &value) ? static_cast<int64_t>(value.size()) : 0);
}

enum class Parts { kFields, kValues, kBoth };

// HKEYS, HVALS and HGETALL: every field, value, or both (a map in RESP3).
void ReplyAll(CommandContext& ctx, Parts parts) {
  Db db = ctx.db();
  resp::ReplyWriter& out = ctx.out();
  Entry* e = ReadHash(ctx, db, [&] {
    if (parts == Parts::kBoth) return out.MapHeader(0);
    out.EmptyArray();
  });
  if (e == nullptr) return;
  Hash h(e, Limits());
  const auto n = static_cast<int64_t>(h.size());
  if (parts == Parts::kBoth) {
    out.MapHeader(n);
  } else {
    out.ArrayHeader(n);
  }
  h.ForEach([&](std::string_view field, std::string_view value) {
    if (parts != Parts::kValues) out.Bulk(field);
    if (parts != Parts::kFields) out.Bulk(value);
  });
}

// HKEYS key
void CmdHKeys(CommandContext& ctx) { ReplyAll(ctx, Parts::kFields); }

// HVALS key
void CmdHVals(CommandContext& ctx) { ReplyAll(ctx, Parts::kValues); }

// HGETALL key
void CmdHGetAll(CommandContext& ctx) { ReplyAll(ctx, Parts::kBoth); }

// ---------------------------------------------------------------------------------------------
// HRANDFIELD
// ---------------------------------------------------------------------------------------------

// HRANDFIELD key: one random field, or null.
void RandomField(CommandContext& ctx) {
  Db db = ctx.db();
  Entry* e = ReadHash(ctx, db, [&] { ctx.out().Null(); });
  if (e == nullptr) return;
  Hash(e, Limits()).Sample(1, ThreadRng(), [&](std::string_view field, std::string_view) {
    ctx.out().Bulk(field);
    return true;
  });
}

// Parses HRANDFIELD's count and WITHVALUES in Redis's order of checks; replies on error.
bool ParseRandomArgs(CommandContext& ctx, int64_t* count, bool* with_values) {
  if (!ParseInt64(ctx.arg(2), count)) {
    ctx.Error(kErrNotInteger);
    return false;
  }
  if (*count == INT64_MIN) {
    ctx.Error(kErrCountRange);
    return false;
  }
  if (ctx.argc() > 4 || (ctx.argc() == 4 && !EqualsIgnoreCase(ctx.arg(3), "withvalues"))) {
    ctx.Error(kErrSyntax);
    return false;
  }
  *with_values = ctx.argc() == 4;
  // A reply of pairs counts two elements per pair, which must not overflow.
  if (*with_values && (*count < -INT64_MAX / 2 || *count > INT64_MAX / 2)) {
    ctx.Error(kErrOutOfRange);
    return false;
  }
  return true;
}

// HRANDFIELD key [count [WITHVALUES]]
void CmdHRandField(CommandContext& ctx) {
  if (ctx.argc() == 2) return RandomField(ctx);
  int64_t count;
  bool with_values;
  if (!ParseRandomArgs(ctx, &count, &with_values)) return;
  Db db = ctx.db();
  Entry* e = ReadHash(ctx, db, [&] { ctx.out().EmptyArray(); });
  if (e == nullptr) return;
  if (count == 0) return ctx.out().EmptyArray();
  Hash h(e, Limits());
  // A negative count draws with repeats; a positive one draws distinct fields.
  const uint64_t n =
      count > 0 ? std::min<uint64_t>(count, h.size()) : static_cast<uint64_t>(-count);
  resp::ReplyWriter& out = ctx.out();
  const bool nested = with_values && out.protocol() >= 3;
  out.ArrayHeader(static_cast<int64_t>(with_values && !nested ? n * 2 : n));
  auto reply = [&](std::string_view field, std::string_view value) {
    if (nested) out.ArrayHeader(2);
    out.Bulk(field);
    if (with_values) out.Bulk(value);
  };
  if (count > 0) return h.RandomDistinct(n, ThreadRng(), reply);
  RepeatsLimit limit(ctx);
  h.Sample(n, ThreadRng(), [&](std::string_view field, std::string_view value) {
    reply(field, value);
    return limit.Sent();
  });
}

// ---------------------------------------------------------------------------------------------
// HSCAN
// ---------------------------------------------------------------------------------------------

// HSCAN key cursor [MATCH pattern] [COUNT count]
void CmdHScan(CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseScanCursor(ctx.arg(2), &cursor)) return ctx.Error(kErrInvalidCursor);
  Db db = ctx.db();
  resp::ReplyWriter& out = ctx.out();
  // As in Redis, a missing key answers before the options are checked.
  Entry* e = ReadHash(ctx, db, [&] {
    out.ArrayHeader(2);
    out.Bulk("0");
    out.EmptyArray();
  });
  if (e == nullptr) return;
  ScanOptions opts;
  if (!ParseScanOptions(ctx, 3, false, &opts)) return;
  const std::string_view pattern = opts.pattern;
  const int64_t count = opts.count;
  // Copies: a packed integer's text lives only as long as the walk's current pair.
  std::vector<std::string> items;  // field, value, ...
  auto collect = [&](std::string_view field, std::string_view value) {
    if (!pattern.empty() && !GlobMatch(pattern, field)) return;
    items.emplace_back(field);
    items.emplace_back(value);
  };
  const uint64_t next = Hash(e, Limits()).Scan(cursor, static_cast<size_t>(count), collect);
  out.ArrayHeader(2);
  out.Bulk(std::to_string(next));
  out.ArrayHeader(static_cast<int64_t>(items.size()));
  for (const std::string& item : items) out.Bulk(item);
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

constexpr KeySpec kOneKey = {1, 1, 1};
constexpr uint32_t kWriteFlags = kWrite | kDenyOom | kFast;
constexpr uint32_t kWriteCats = kCatWrite | kCatHash | kCatFast;
constexpr uint32_t kFastReadCats = kCatRead | kCatHash | kCatFast;
constexpr uint32_t kSlowReadCats = kCatRead | kCatHash | kCatSlow;

// The rows are kept packed, one command per paragraph, so the table reads as a table.
// clang-format off
void AddWrites(CommandTable& t) {
  t.Add({.name = "hset", .arity = -4, .flags = kWriteFlags, .categories = kWriteCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Creates or modifies the value of a field in a hash.",
         .syntax = "key field value [field value ...]", .handler = CmdHSet});
  t.Add({.name = "hmset", .arity = -4, .flags = kWriteFlags, .categories = kWriteCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Sets the values of multiple fields.",
         .syntax = "key field value [field value ...]", .handler = CmdHMSet});
  t.Add({.name = "hsetnx", .arity = 4, .flags = kWriteFlags, .categories = kWriteCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Sets the value of a field in a hash only when the field doesn't exist.",
         .syntax = "key field value", .handler = CmdHSetNx});
  t.Add({.name = "hdel", .arity = -3, .flags = kWrite | kFast, .categories = kWriteCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Deletes one or more fields and their values from a hash. Deletes the hash "
                    "if no fields remain.",
         .syntax = "key field [field ...]", .handler = CmdHDel});
  t.Add({.name = "hincrby", .arity = 4, .flags = kWriteFlags, .categories = kWriteCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Increments the integer value of a field in a hash by a number. Uses 0 as "
                    "initial value if the field doesn't exist.",
         .syntax = "key field increment", .handler = CmdHIncrBy});
  t.Add({.name = "hincrbyfloat", .arity = 4, .flags = kWriteFlags, .categories = kWriteCats,
         .keys = kOneKey, .group = "hash", .since = "2.6.0",
         .summary = "Increments the floating point value of a field by a number. Uses 0 as "
                    "initial value if the field doesn't exist.",
         .syntax = "key field increment:double", .handler = CmdHIncrByFloat});
}

void AddReads(CommandTable& t) {
  constexpr uint32_t kFastRead = kReadOnly | kFast;
  t.Add({.name = "hget", .arity = 3, .flags = kFastRead, .categories = kFastReadCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Returns the value of a field in a hash.",
         .syntax = "key field", .handler = CmdHGet});
  t.Add({.name = "hmget", .arity = -3, .flags = kFastRead, .categories = kFastReadCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Returns the values of all fields in a hash.",
         .syntax = "key field [field ...]", .handler = CmdHMGet});
  t.Add({.name = "hexists", .arity = 3, .flags = kFastRead, .categories = kFastReadCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Determines whether a field exists in a hash.",
         .syntax = "key field", .handler = CmdHExists});
  t.Add({.name = "hlen", .arity = 2, .flags = kFastRead, .categories = kFastReadCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Returns the number of fields in a hash.",
         .syntax = "key", .handler = CmdHLen});
  t.Add({.name = "hstrlen", .arity = 3, .flags = kFastRead, .categories = kFastReadCats,
         .keys = kOneKey, .group = "hash", .since = "3.2.0",
         .summary = "Returns the length of the value of a field.",
         .syntax = "key field", .handler = CmdHStrLen});
  t.Add({.name = "hkeys", .arity = 2, .flags = kReadOnly, .categories = kSlowReadCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Returns all fields in a hash.",
         .syntax = "key", .handler = CmdHKeys});
  t.Add({.name = "hvals", .arity = 2, .flags = kReadOnly, .categories = kSlowReadCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Returns all values in a hash.",
         .syntax = "key", .handler = CmdHVals});
  t.Add({.name = "hgetall", .arity = 2, .flags = kReadOnly, .categories = kSlowReadCats,
         .keys = kOneKey, .group = "hash", .since = "2.0.0",
         .summary = "Returns all fields and values in a hash.",
         .syntax = "key", .handler = CmdHGetAll});
  t.Add({.name = "hrandfield", .arity = -2, .flags = kReadOnly, .categories = kSlowReadCats,
         .keys = kOneKey, .group = "hash", .since = "6.2.0",
         .summary = "Returns one or more random fields from a hash.",
         .syntax = "key [count [WITHVALUES]]", .handler = CmdHRandField});
  t.Add({.name = "hscan", .arity = -3, .flags = kReadOnly, .categories = kSlowReadCats,
         .keys = kOneKey, .group = "hash", .since = "2.8.0",
         .summary = "Iterates over fields and values of a hash.",
         .syntax = "key cursor [MATCH pattern] [COUNT count]", .handler = CmdHScan});
}
// clang-format on

}  // namespace

void RegisterHashes(CommandTable& t) {
  AddWrites(t);
  AddReads(t);
}

}  // namespace runnel::commands
