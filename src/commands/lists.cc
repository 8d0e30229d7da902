// The list command family: pushes (LPUSH, RPUSH, LPUSHX, RPUSHX), pops (LPOP, RPOP, LMPOP),
// reads (LLEN, LRANGE, LINDEX, LPOS), edits (LSET, LINSERT, LREM, LTRIM) and moves (LMOVE,
// RPOPLPUSH), plus the helpers the blocking commands (lists_blocking.cc) share. Handlers parse
// their arguments, reply with an error early, then work on the locked keys through engine::List.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/lookup.h"
#include "commands/lists_common.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "engine/list.h"

namespace runnel::commands::lists {

namespace {

constexpr std::string_view kErrMustBePositive = "ERR value is out of range, must be positive";
constexpr std::string_view kErrRankZero =
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
    "negative to start from the end of the list";
constexpr std::string_view kErrRankRange =
    "ERR value is out of range, value must between -9223372036854775807 and "
    "9223372036854775807";
constexpr std::string_view kErrNumKeys = "ERR numkeys should be greater than 0";
constexpr std::string_view kErrCount = "ERR count should be greater than 0";
// Longer waits are as good as forever, and keep deadlines far from overflowing.
constexpr int64_t kMaxTimeoutMs = int64_t{1} << 52;

const char* EndName(ListEnd end) { return end == ListEnd::kHead ? "LEFT" : "RIGHT"; }

List* CreateList(engine::Db& db, std::string_view key) {
  auto* l = new List();
  db.AddObject(key, engine::ValueType::kList, l);
  return l;
}

bool ParseIntArg(CommandContext& ctx, std::string_view arg, int64_t* out) {
  if (ParseInt64(arg, out)) return true;
  ctx.Error(kErrNotInteger);
  return false;
}

// After a removal: deletes the key if its list emptied, records the write, and announces
// `event` (none if empty) and then "del" if the key went.
void Removed(CommandContext& ctx, engine::Db& db, std::string_view key, const List* l,
             std::string_view event) {
  bool emptied = l->empty();
  if (emptied) db.Delete(key);
  db.Touched(key);
  if (!event.empty()) ctx.Notify(kNotifyList, event, key);
  if (emptied) ctx.Notify(kNotifyGeneric, "del", key);
}

const char* PopEvent(ListEnd end) { return end == ListEnd::kHead ? "lpop" : "rpop"; }
const char* PushEvent(ListEnd end) { return end == ListEnd::kHead ? "lpush" : "rpush"; }

// Redis's LRANGE/LTRIM arithmetic: negative indexes count from the end; the result is
// [*start, *stop] within the list, or false when that range is empty.
bool ClampRange(int64_t start, int64_t stop, int64_t len, int64_t* out_start, int64_t* out_stop) {
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return false;
  *out_start = start;
  *out_stop = std::min(stop, len - 1);
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared helpers (lists_common.h)
// ---------------------------------------------------------------------------------------------

List* FindList(CommandContext& ctx, engine::Db& db, std::string_view key, bool read, bool* failed) {
  engine::Entry* e = LookupTyped(ctx, db, key, engine::ValueType::kList, read, failed);
  return e != nullptr ? static_cast<List*>(e->object()) : nullptr;
}

bool ParseEnd(CommandContext& ctx, std::string_view arg, ListEnd* end) {
  if (EqualsIgnoreCase(arg, "left")) {
    *end = ListEnd::kHead;
  } else if (EqualsIgnoreCase(arg, "right")) {
    *end = ListEnd::kTail;
  } else {
    ctx.Error(kErrSyntax);
    return false;
  }
  return true;
}

// As Redis reads it: strtold over the whole argument, no leading space, no NaN, nothing that
// overflows or underflows. Infinity passes here and is refused below (as negative, the answer
// Redis 7.0 gives for timeouts too big to convert).
bool ParseTimeout(CommandContext& ctx, std::string_view arg, int64_t* ms) {
  std::string s(arg);
  char* end = nullptr;
  errno = 0;
  long double v = s.empty() ? 0 : std::strtold(s.c_str(), &end);
  bool range_error = errno == ERANGE && (std::isinf(v) || v == 0);
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0])) || end != s.c_str() + s.size() ||
      range_error || std::isnan(v)) {
    ctx.Error("ERR timeout is not a float or out of range");
    return false;
  }
  long double t = std::ceil(v * 1000.0L);
  if (t < 0 || !(t < 9.2e18L)) {
    ctx.Error("ERR timeout is negative");
    return false;
  }
  *ms = std::min(static_cast<int64_t>(t), kMaxTimeoutMs);
  return true;
}

bool ParseMultiPop(CommandContext& ctx, size_t numkeys_at, MultiPopArgs* a) {
  int64_t numkeys;
  if (!ParseInt64(ctx.arg(numkeys_at), &numkeys) || numkeys <= 0) {
    ctx.Error(kErrNumKeys);
    return false;
  }
  if (static_cast<uint64_t>(numkeys) >= ctx.argc() - numkeys_at - 1) {
    ctx.Error(kErrSyntax);  // no LEFT|RIGHT after the keys
    return false;
  }
  a->first_key = numkeys_at + 1;
  a->nkeys = static_cast<size_t>(numkeys);
  size_t i = a->first_key + a->nkeys;
  if (!ParseEnd(ctx, ctx.arg(i), &a->end)) return false;
  bool has_count = false;
  for (++i; i < ctx.argc(); ++i) {
    if (has_count || !EqualsIgnoreCase(ctx.arg(i), "count") || i + 1 >= ctx.argc()) {
      ctx.Error(kErrSyntax);
      return false;
    }
    if (!ParseInt64(ctx.arg(++i), &a->count) || a->count <= 0) {
      ctx.Error(kErrCount);
      return false;
    }
    has_count = true;
  }
  return true;
}

namespace {

void MultiPopKeys(std::span<const std::string_view> args, size_t numkeys_at,
                  std::vector<int>* out) {
  int64_t numkeys;
  if (args.size() <= numkeys_at || !ParseInt64(args[numkeys_at], &numkeys) || numkeys <= 0 ||
      static_cast<uint64_t>(numkeys) >= args.size() - numkeys_at - 1)
    return;
  for (int64_t k = 0; k < numkeys; ++k) out->push_back(static_cast<int>(numkeys_at + 1 + k));
}

}  // namespace

void LmpopKeys(std::span<const std::string_view> args, std::vector<int>* out) {
  MultiPopKeys(args, 1, out);
}
void BlmpopKeys(std::span<const std::string_view> args, std::vector<int>* out) {
  MultiPopKeys(args, 2, out);
}

void PopReply(CommandContext& ctx, engine::Db& db, std::string_view key, List* l, ListEnd end,
              int64_t count, bool log_effect) {
  size_t n = std::min(static_cast<size_t>(count), l->size());
  ctx.out().ArrayHeader(static_cast<int64_t>(n));
  for (size_t i = 0; i < n; ++i) {
    ctx.out().Bulk(l->Peek(end));
    l->Pop(end, nullptr);
  }
  Removed(ctx, db, key, l, n > 0 ? PopEvent(end) : "");
  if (log_effect && WantEffects(ctx))
    ctx.AddEffect({end == ListEnd::kHead ? "LPOP" : "RPOP", std::string(key), std::to_string(n)});
}

void PopOneReply(CommandContext& ctx, engine::Db& db, std::string_view key, List* l, ListEnd end,
                 bool log_effect) {
  ctx.out().Bulk(l->Peek(end));
  l->Pop(end, nullptr);
  Removed(ctx, db, key, l, PopEvent(end));
  if (log_effect && WantEffects(ctx))
    ctx.AddEffect({end == ListEnd::kHead ? "LPOP" : "RPOP", std::string(key)});
}

bool MultiPop(CommandContext& ctx, engine::Db& db, const MultiPopArgs& a) {
  for (size_t k = 0; k < a.nkeys; ++k) {
    std::string_view key = ctx.arg(a.first_key + k);
    engine::Entry* e = db.Find(key);
    if (e == nullptr) continue;
    if (e->type != engine::ValueType::kList) {
      if (ctx.is_retry()) continue;  // a blocked client waits for lists only
      ctx.Error(kErrWrongType);
      return true;
    }
    ctx.out().ArrayHeader(2);
    ctx.out().Bulk(key);
    PopReply(ctx, db, key, static_cast<List*>(e->object()), a.end, a.count, true);
    return true;
  }
  return false;
}

namespace {

void LogMove(CommandContext& ctx, std::string_view src, std::string_view dst, ListEnd from,
             ListEnd to, const std::string& value, bool blocking) {
  if (!WantEffects(ctx)) return;
  bool one_shard = engine::Keyspace::ShardOf(src) == engine::Keyspace::ShardOf(dst);
  if (one_shard && !blocking) return;  // the command itself replays right
  if (one_shard) {
    ctx.AddEffect({"LMOVE", std::string(src), std::string(dst), EndName(from), EndName(to)});
    return;
  }
  ctx.AddEffect({from == ListEnd::kHead ? "LPOP" : "RPOP", std::string(src)});
  ctx.AddEffect({to == ListEnd::kHead ? "LPUSH" : "RPUSH", std::string(dst), value});
}

}  // namespace

MoveResult Move(CommandContext& ctx, engine::Db& db, std::string_view src, std::string_view dst,
                ListEnd from, ListEnd to, bool blocking) {
  engine::Entry* se = db.Find(src);
  if (se == nullptr) return MoveResult::kEmpty;
  if (se->type != engine::ValueType::kList) {
    if (ctx.is_retry()) return MoveResult::kEmpty;  // still waiting for a list
    ctx.Error(kErrWrongType);
    return MoveResult::kFailed;
  }
  auto* s = static_cast<List*>(se->object());
  bool failed;
  List* d = FindList(ctx, db, dst, false, &failed);
  if (failed) return MoveResult::kFailed;
  std::string value;
  s->Pop(from, &value);
  if (d == nullptr) d = CreateList(db, dst);  // src == dst never gets here: it exists
  d->Push(to, value);
  ctx.out().Bulk(value);
  ctx.Notify(kNotifyList, PushEvent(to), dst);  // as in Redis, the push is announced first
  Removed(ctx, db, src, s, PopEvent(from));
  if (src != dst) db.Touched(dst);
  LogMove(ctx, src, dst, from, to, value, blocking);
  return MoveResult::kMoved;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Pushes and pops
// ---------------------------------------------------------------------------------------------

// LPUSH / RPUSH / LPUSHX / RPUSHX key element [element ...]
void Push(CommandContext& ctx, ListEnd end, bool only_existing) {
  engine::Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  bool failed;
  List* l = FindList(ctx, db, key, false, &failed);
  if (failed) return;
  if (l == nullptr && only_existing) return ctx.out().Integer(0);
  if (l == nullptr) l = CreateList(db, key);
  for (size_t i = 2; i < ctx.argc(); ++i) l->Push(end, ctx.arg(i));
  db.Touched(key);
  ctx.Notify(kNotifyList, PushEvent(end), key);
  ctx.out().Integer(static_cast<int64_t>(l->size()));
}

void CmdLPush(CommandContext& ctx) { Push(ctx, ListEnd::kHead, false); }
void CmdRPush(CommandContext& ctx) { Push(ctx, ListEnd::kTail, false); }
void CmdLPushX(CommandContext& ctx) { Push(ctx, ListEnd::kHead, true); }
void CmdRPushX(CommandContext& ctx) { Push(ctx, ListEnd::kTail, true); }

// LPOP / RPOP key [count]
void Pop(CommandContext& ctx, ListEnd end) {
  if (ctx.argc() > 3) return ctx.Error(WrongArgs(ctx.spec()->name));
  bool has_count = ctx.argc() == 3;
  int64_t count = 1;
  if (has_count && (!ParseInt64(ctx.arg(2), &count) || count < 0)) {
    return ctx.Error(kErrMustBePositive);
  }
  engine::Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  bool failed;
  List* l = FindList(ctx, db, key, false, &failed);
  if (failed) return;
  if (l == nullptr) return has_count ? ctx.out().NullArray() : ctx.out().Null();
  if (has_count) return PopReply(ctx, db, key, l, end, count, false);
  PopOneReply(ctx, db, key, l, end, false);
}

void CmdLPop(CommandContext& ctx) { Pop(ctx, ListEnd::kHead); }
void CmdRPop(CommandContext& ctx) { Pop(ctx, ListEnd::kTail); }

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
void CmdLMPop(CommandContext& ctx) {
  MultiPopArgs a;
  if (!ParseMultiPop(ctx, 1, &a)) return;
  engine::Db db = ctx.db();
  if (!MultiPop(ctx, db, a)) ctx.out().NullArray();
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

// LLEN key
void CmdLLen(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed;
  List* l = FindList(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().Integer(l == nullptr ? 0 : static_cast<int64_t>(l->size()));
}

// LRANGE key start stop
void CmdLRange(CommandContext& ctx) {
  int64_t start, stop;
  if (!ParseIntArg(ctx, ctx.arg(2), &start) || !ParseIntArg(ctx, ctx.arg(3), &stop)) return;
  engine::Db db = ctx.db();
  bool failed;
  List* l = FindList(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  if (l == nullptr || !ClampRange(start, stop, static_cast<int64_t>(l->size()), &start, &stop))
    return ctx.out().EmptyArray();
  ctx.out().ArrayHeader(stop - start + 1);
  engine::ListCursor c(*l, static_cast<size_t>(start), false);
  std::string_view v;
  for (int64_t i = start; i <= stop && c.Next(&v); ++i) ctx.out().Bulk(v);
}

// An index argument of LINDEX/LSET as a position in a list of `len`; false if outside.
bool ResolveIndex(int64_t index, size_t len, size_t* out) {
  int64_t n = static_cast<int64_t>(len);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  *out = static_cast<size_t>(index);
  return true;
}

// LINDEX key index
void CmdLIndex(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed;
  List* l = FindList(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  if (l == nullptr) return ctx.out().Null();
  int64_t index;
  if (!ParseIntArg(ctx, ctx.arg(2), &index)) return;
  size_t at;
  if (!ResolveIndex(index, l->size(), &at)) return ctx.out().Null();
  ctx.out().Bulk(l->At(at));
}

struct PosArgs {
  int64_t rank = 1;
  int64_t count = -1;  // -1: not given (reply one index, not an array)
  int64_t maxlen = 0;  // 0: the whole list
};

bool ParsePosOption(CommandContext& ctx, size_t i, PosArgs* a) {
  std::string_view opt = ctx.arg(i), val = ctx.arg(i + 1);
  if (EqualsIgnoreCase(opt, "rank")) {
    if (!ParseIntArg(ctx, val, &a->rank)) return false;
    if (a->rank == 0) return ctx.Error(kErrRankZero), false;
    if (a->rank == INT64_MIN) return ctx.Error(kErrRankRange), false;
    return true;
  }
  if (EqualsIgnoreCase(opt, "count")) {
    if (ParseInt64(val, &a->count) && a->count >= 0) return true;
    return ctx.Error("ERR COUNT can't be negative"), false;
  }
  if (EqualsIgnoreCase(opt, "maxlen")) {
    if (ParseInt64(val, &a->maxlen) && a->maxlen >= 0) return true;
    return ctx.Error("ERR MAXLEN can't be negative"), false;
  }
  ctx.Error(kErrSyntax);
  return false;
}

// The indexes of the matches LPOS asks for.
std::vector<int64_t> FindPositions(const List& l, std::string_view element, const PosArgs& a) {
  std::vector<int64_t> found;
  bool reverse = a.rank < 0;
  int64_t skip = (reverse ? -a.rank : a.rank) - 1;
  size_t want = a.count <= 0 ? (a.count == 0 ? SIZE_MAX : 1) : static_cast<size_t>(a.count);
  size_t limit = a.maxlen == 0 ? l.size() : std::min<size_t>(l.size(), a.maxlen);
  int64_t len = static_cast<int64_t>(l.size());
  engine::ListCursor c(l, reverse ? l.size() - 1 : 0, reverse);
  std::string_view v;
  for (size_t i = 0; i < limit && found.size() < want && c.Next(&v); ++i) {
    if (v != element) continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    int64_t index = static_cast<int64_t>(i);
    found.push_back(reverse ? len - 1 - index : index);
  }
  return found;
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void CmdLPos(CommandContext& ctx) {
  PosArgs a;
  for (size_t i = 3; i < ctx.argc(); i += 2) {
    if (i + 1 >= ctx.argc()) return ctx.Error(kErrSyntax);
    if (!ParsePosOption(ctx, i, &a)) return;
  }
  engine::Db db = ctx.db();
  bool failed;
  List* l = FindList(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  std::vector<int64_t> found;
  if (l != nullptr) found = FindPositions(*l, ctx.arg(2), a);
  if (a.count < 0) return found.empty() ? ctx.out().Null() : ctx.out().Integer(found[0]);
  ctx.out().ArrayHeader(static_cast<int64_t>(found.size()));
  for (int64_t i : found) ctx.out().Integer(i);
}

// ---------------------------------------------------------------------------------------------
// Edits
// ---------------------------------------------------------------------------------------------

// LSET key index element
void CmdLSet(CommandContext& ctx) {
  engine::Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  bool failed;
  List* l = FindList(ctx, db, key, false, &failed);
  if (failed) return;
  if (l == nullptr) return ctx.Error(kErrNoSuchKey);
  int64_t index;
  if (!ParseIntArg(ctx, ctx.arg(2), &index)) return;
  size_t at;
  if (!ResolveIndex(index, l->size(), &at)) return ctx.Error(kErrOutOfRange);
  l->Set(at, ctx.arg(3));
  db.Touched(key);
  ctx.Notify(kNotifyList, "lset", key);
  ctx.out().Ok();
}

// LINSERT key BEFORE|AFTER pivot element
void CmdLInsert(CommandContext& ctx) {
  bool after;
  if (EqualsIgnoreCase(ctx.arg(2), "after")) {
    after = true;
  } else if (EqualsIgnoreCase(ctx.arg(2), "before")) {
    after = false;
  } else {
    return ctx.Error(kErrSyntax);
  }
  engine::Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  bool failed;
  List* l = FindList(ctx, db, key, false, &failed);
  if (failed) return;
  if (l == nullptr) return ctx.out().Integer(0);
  if (!l->InsertAround(ctx.arg(3), ctx.arg(4), after)) return ctx.out().Integer(-1);
  db.Touched(key);
  ctx.Notify(kNotifyList, "linsert", key);
  ctx.out().Integer(static_cast<int64_t>(l->size()));
}

// LREM key count element
void CmdLRem(CommandContext& ctx) {
  int64_t count;
  if (!ParseIntArg(ctx, ctx.arg(2), &count)) return;
  engine::Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  bool failed;
  List* l = FindList(ctx, db, key, false, &failed);
  if (failed) return;
  size_t removed = l == nullptr ? 0 : l->Remove(ctx.arg(3), count);
  if (removed > 0) Removed(ctx, db, key, l, "lrem");
  ctx.out().Integer(static_cast<int64_t>(removed));
}

// LTRIM key start stop
void CmdLTrim(CommandContext& ctx) {
  int64_t start, stop;
  if (!ParseIntArg(ctx, ctx.arg(2), &start) || !ParseIntArg(ctx, ctx.arg(3), &stop)) return;
  engine::Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  bool failed;
  List* l = FindList(ctx, db, key, false, &failed);
  if (failed) return;
  if (l == nullptr) return ctx.out().Ok();
  size_t len = l->size();
  if (!ClampRange(start, stop, static_cast<int64_t>(len), &start, &stop)) {
    l->EraseRange(0, len);
  } else {
    l->EraseRange(static_cast<size_t>(stop) + 1, len - static_cast<size_t>(stop) - 1);
    l->EraseRange(0, static_cast<size_t>(start));
  }
  Removed(ctx, db, key, l, "ltrim");  // even when nothing went, as Redis does
  ctx.out().Ok();
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
void CmdLMove(CommandContext& ctx) {
  ListEnd from, to;
  if (!ParseEnd(ctx, ctx.arg(3), &from) || !ParseEnd(ctx, ctx.arg(4), &to)) return;
  engine::Db db = ctx.db();
  if (Move(ctx, db, ctx.arg(1), ctx.arg(2), from, to, false) == MoveResult::kEmpty)
    ctx.out().Null();
}

// RPOPLPUSH source destination
void CmdRPopLPush(CommandContext& ctx) {
  engine::Db db = ctx.db();
  if (Move(ctx, db, ctx.arg(1), ctx.arg(2), ListEnd::kTail, ListEnd::kHead, false) ==
      MoveResult::kEmpty)
    ctx.out().Null();
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

// The usage parser reads "a|b" as splitting the whole sequence, so a required LEFT|RIGHT or
// BEFORE|AFTER in the middle is written by its Redis argument name (where, wherefrom, whereto).

// clang-format off
constexpr uint32_t kReadCats = kCatRead | kCatList;
constexpr uint32_t kWriteCats = kCatWrite | kCatList;
constexpr KeySpec kOneKey = {1, 1, 1};

void AddPushPop(CommandTable& t) {
  constexpr uint32_t kPushFlags = kWrite | kDenyOom | kFast;
  t.Add({.name = "lpush", .arity = -3, .flags = kPushFlags, .categories = kWriteCats | kCatFast,
         .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Prepends one or more elements to a list. Creates the key if it doesn't "
                    "exist.",
         .syntax = "key element [element ...]", .handler = CmdLPush});
  t.Add({.name = "rpush", .arity = -3, .flags = kPushFlags, .categories = kWriteCats | kCatFast,
         .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Appends one or more elements to a list. Creates the key if it doesn't exist.",
         .syntax = "key element [element ...]", .handler = CmdRPush});
  t.Add({.name = "lpushx", .arity = -3, .flags = kPushFlags, .categories = kWriteCats | kCatFast,
         .keys = kOneKey, .group = "list", .since = "2.2.0",
         .summary = "Prepends one or more elements to a list only when the list exists.",
         .syntax = "key element [element ...]", .handler = CmdLPushX});
  t.Add({.name = "rpushx", .arity = -3, .flags = kPushFlags, .categories = kWriteCats | kCatFast,
         .keys = kOneKey, .group = "list", .since = "2.2.0",
         .summary = "Appends an element to a list only when the list exists.",
         .syntax = "key element [element ...]", .handler = CmdRPushX});
  t.Add({.name = "lpop", .arity = -2, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Returns the first elements in a list after removing it. Deletes the list if "
                    "the last element was popped.",
         .syntax = "key [count]", .handler = CmdLPop});
  t.Add({.name = "rpop", .arity = -2, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Returns and removes the last elements of a list. Deletes the list if the "
                    "last element was popped.",
         .syntax = "key [count]", .handler = CmdRPop});
  t.Add({.name = "lmpop", .arity = -4, .flags = kWrite, .categories = kWriteCats | kCatSlow,
         .keys = {0, 0, 0}, .group = "list", .since = "7.0.0",
         .summary = "Returns multiple elements from a list after removing them. Deletes the list "
                    "if the last element was popped.",
         .syntax = "numkeys key [key ...] where [COUNT count]", .handler = CmdLMPop,
         .key_finder = LmpopKeys});
}

void AddReads(CommandTable& t) {
  t.Add({.name = "llen", .arity = 2, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Returns the length of a list.", .syntax = "key", .handler = CmdLLen});
  t.Add({.name = "lrange", .arity = 4, .flags = kReadOnly, .categories = kReadCats | kCatSlow,
         .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Returns a range of elements from a list.",
         .syntax = "key start stop:integer", .handler = CmdLRange});
  t.Add({.name = "lindex", .arity = 3, .flags = kReadOnly, .categories = kReadCats | kCatSlow,
         .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Returns an element from a list by its index.", .syntax = "key index",
         .handler = CmdLIndex});
  t.Add({.name = "lpos", .arity = -3, .flags = kReadOnly, .categories = kReadCats | kCatSlow,
         .keys = kOneKey, .group = "list", .since = "6.0.6",
         .summary = "Returns the index of matching elements in a list.",
         .syntax = "key element [RANK rank] [COUNT num-matches:integer] [MAXLEN len]",
         .handler = CmdLPos});
}

void AddEdits(CommandTable& t) {
  t.Add({.name = "lset", .arity = 4, .flags = kWrite | kDenyOom,
         .categories = kWriteCats | kCatSlow, .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Sets the value of an element in a list by its index.",
         .syntax = "key index element", .handler = CmdLSet});
  t.Add({.name = "linsert", .arity = 5, .flags = kWrite | kDenyOom,
         .categories = kWriteCats | kCatSlow, .keys = kOneKey, .group = "list", .since = "2.2.0",
         .summary = "Inserts an element before or after another element in a list.",
         .syntax = "key where pivot element", .handler = CmdLInsert});
  t.Add({.name = "lrem", .arity = 4, .flags = kWrite, .categories = kWriteCats | kCatSlow,
         .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Removes elements from a list. Deletes the list if the last element was "
                    "removed.",
         .syntax = "key count element", .handler = CmdLRem});
  t.Add({.name = "ltrim", .arity = 4, .flags = kWrite, .categories = kWriteCats | kCatSlow,
         .keys = kOneKey, .group = "list", .since = "1.0.0",
         .summary = "Removes elements from both ends a list. Deletes the list if all elements "
                    "were trimmed.",
         .syntax = "key start stop:integer", .handler = CmdLTrim});
  t.Add({.name = "lmove", .arity = 5, .flags = kWrite | kDenyOom,
         .categories = kWriteCats | kCatSlow, .keys = {1, 2, 1}, .group = "list",
         .since = "6.2.0",
         .summary = "Returns an element after popping it from one list and pushing it to "
                    "another. Deletes the list if the last element was moved.",
         .syntax = "source destination wherefrom whereto", .handler = CmdLMove});
  t.Add({.name = "rpoplpush", .arity = 3, .flags = kWrite | kDenyOom,
         .categories = kWriteCats | kCatSlow, .keys = {1, 2, 1}, .group = "list",
         .since = "1.2.0",
         .summary = "Returns the last element of a list after removing and pushing it to "
                    "another list. Deletes the list if the last element was popped.",
         .syntax = "source destination", .handler = CmdRPopLPush});
}
// clang-format on

}  // namespace

}  // namespace runnel::commands::lists

namespace runnel::commands {

void RegisterLists(CommandTable& t) {
  lists::AddPushPop(t);
  lists::AddReads(t);
  lists::AddEdits(t);
  lists::RegisterBlockingCommands(t);
}

}  // namespace runnel::commands
