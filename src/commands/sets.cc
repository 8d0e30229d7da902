// The set command family, part one: shared helpers, the single-key commands (SADD, SREM,
// SISMEMBER, SMISMEMBER, SCARD, SMEMBERS, SRANDMEMBER, SPOP, SSCAN), SMOVE and the family's
// registration. Set algebra (SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD) lives in
// sets_algebra.cc.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/lookup.h"
#include "commands/random_reply.h"
#include "commands/scan_options.h"
#include "commands/sets_common.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "common/config.h"
#include "common/glob.h"
#include "common/util.h"
#include "engine/entry.h"
#include "engine/keyspace.h"
#include "engine/random.h"
#include "engine/set.h"

namespace runnel::commands {

namespace sets {

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

engine::SetLimits Limits() {
  const Config& c = GlobalConfig();
  return {static_cast<uint64_t>(c.set_max_intset_entries.load(std::memory_order_relaxed)),
          static_cast<uint64_t>(c.set_max_listpack_entries.load(std::memory_order_relaxed)),
          static_cast<uint64_t>(c.set_max_listpack_value.load(std::memory_order_relaxed))};
}

engine::Entry* FindSetEntry(CommandContext& ctx, engine::Db& db, std::string_view key, bool read,
                            bool* failed) {
  return LookupTyped(ctx, db, key, engine::ValueType::kSet, read, failed);
}

Set* CreateSet(engine::Db& db, std::string_view key, std::string_view first, size_t size_hint,
               const engine::SetLimits& limits) {
  Set* s = Set::Create(first, size_hint, limits).release();
  db.AddObject(key, engine::ValueType::kSet, s);
  return s;
}

void AddMemberEffects(CommandContext& ctx, std::string_view verb, std::string_view key,
                      const std::vector<std::string>& members) {
  for (size_t i = 0; i < members.size(); i += kEffectBatch) {
    std::vector<std::string> argv{std::string(verb), std::string(key)};
    size_t end = std::min(members.size(), i + kEffectBatch);
    argv.insert(argv.end(), members.begin() + static_cast<ptrdiff_t>(i),
                members.begin() + static_cast<ptrdiff_t>(end));
    ctx.AddEffect(std::move(argv));
  }
}

void ReplyMembers(resp::ReplyWriter& out, const Set& s) {
  out.SetHeader(static_cast<int64_t>(s.size()));
  s.ForEach([&](std::string_view m) {
    out.Bulk(m);
    return true;
  });
}

}  // namespace sets

namespace {

using namespace sets;
using engine::Db;

constexpr std::string_view kErrNotPositive = "ERR value is out of range, must be positive";
constexpr std::string_view kErrInvalidCursor = "ERR invalid cursor";

// ---------------------------------------------------------------------------------------------
// SADD, SREM, SISMEMBER, SMISMEMBER, SCARD, SMEMBERS
// ---------------------------------------------------------------------------------------------

// SADD key member [member ...]
void CmdSAdd(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  const engine::SetLimits limits = Limits();
  const size_t n = ctx.argc() - 2;
  if (s == nullptr) {
    s = CreateSet(db, ctx.arg(1), ctx.arg(2), n, limits);
  } else {
    s->PrepareFor(n, limits);
  }
  int64_t added = 0;
  for (size_t i = 2; i < ctx.argc(); ++i) added += s->Add(ctx.arg(i), limits) ? 1 : 0;
  if (added > 0) {
    db.Touched(ctx.arg(1));
    ctx.Notify(kNotifySet, "sadd", ctx.arg(1));
  }
  ctx.out().Integer(added);
}

// SREM key member [member ...]
void CmdSRem(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  int64_t removed = 0;
  for (size_t i = 2; s != nullptr && i < ctx.argc() && s->size() > 0; ++i)
    removed += s->Remove(ctx.arg(i)) ? 1 : 0;
  if (removed > 0) {
    bool emptied = s->size() == 0;
    if (emptied) db.Delete(ctx.arg(1));
    db.Touched(ctx.arg(1));
    ctx.Notify(kNotifySet, "srem", ctx.arg(1));
    if (emptied) ctx.Notify(kNotifyGeneric, "del", ctx.arg(1));
  }
  ctx.out().Integer(removed);
}

// SISMEMBER key member
void CmdSIsMember(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().Integer(s != nullptr && s->Contains(ctx.arg(2)) ? 1 : 0);
}

// SMISMEMBER key member [member ...]
void CmdSMIsMember(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().ArrayHeader(static_cast<int64_t>(ctx.argc() - 2));
  for (size_t i = 2; i < ctx.argc(); ++i)
    ctx.out().Integer(s != nullptr && s->Contains(ctx.arg(i)) ? 1 : 0);
}

// SCARD key
void CmdSCard(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().Integer(s == nullptr ? 0 : static_cast<int64_t>(s->size()));
}

// SMEMBERS key
void CmdSMembers(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  if (s == nullptr) return ctx.out().SetHeader(0);
  ReplyMembers(ctx.out(), *s);
}

// ---------------------------------------------------------------------------------------------
// SRANDMEMBER
// ---------------------------------------------------------------------------------------------

// `n` members drawn with repeats, in random order (a negative count, or 1).
void ReplyWithRepeats(CommandContext& ctx, const Set& s, uint64_t n) {
  ctx.out().ArrayHeader(static_cast<int64_t>(n));
  RepeatsLimit limit(ctx);
  s.Sample(n, ThreadRng(), [&](std::string_view m) {
    ctx.out().Bulk(m);
    return limit.Sent();
  });
}

// `count` distinct members (fewer than the set has).
void ReplyDistinct(CommandContext& ctx, const Set& s, uint64_t count) {
  std::vector<std::string> picked;
  if (s.encoding() != Set::Encoding::kHashTable || count * 3 > s.size()) {
    // A large share, or a small set: shuffle the front of a copy of all members.
    s.ForEach([&](std::string_view m) {
      picked.emplace_back(m);
      return true;
    });
    engine::PartialShuffle(&picked, count, ThreadRng());
    picked.resize(count);
  } else {
    std::unordered_set<std::string> seen;
    std::string m;
    while (picked.size() < count) {
      s.RandomMember(ThreadRng(), &m);
      if (seen.insert(m).second) picked.push_back(m);
    }
  }
  ctx.out().ArrayHeader(static_cast<int64_t>(count));
  for (const std::string& m : picked) ctx.out().Bulk(m);
}

void RandMemberWithCount(CommandContext& ctx) {
  int64_t count;
  if (!ParseInt64(ctx.arg(2), &count)) return ctx.Error(kErrNotInteger);
  if (count == INT64_MIN) return ctx.Error(kErrCountRange);
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  if (s == nullptr || count == 0) return ctx.out().EmptyArray();
  if (count < 0 || count == 1) return ReplyWithRepeats(ctx, *s, count < 0 ? -count : 1);
  if (static_cast<uint64_t>(count) >= s->size()) {
    ctx.out().ArrayHeader(static_cast<int64_t>(s->size()));
    s->ForEach([&](std::string_view m) {
      ctx.out().Bulk(m);
      return true;
    });
    return;
  }
  ReplyDistinct(ctx, *s, static_cast<uint64_t>(count));
}

// SRANDMEMBER key [count]
void CmdSRandMember(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.Error(kErrSyntax);
  if (ctx.argc() == 3) return RandMemberWithCount(ctx);
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  if (s == nullptr) return ctx.out().Null();
  std::string m;
  s->RandomMember(ThreadRng(), &m);
  ctx.out().Bulk(m);
}

// ---------------------------------------------------------------------------------------------
// SPOP
// ---------------------------------------------------------------------------------------------

// SPOP with a count below the set's size: pops members one by one; or, when few would remain,
// moves the ones that remain into a new set and hands out the old one (as Redis does, which
// also gives the remaining set a fresh, possibly more compact, encoding).
void PopSome(engine::Entry* e, uint64_t count, std::vector<std::string>* popped) {
  auto* s = static_cast<Set*>(e->object());
  const uint64_t remaining = s->size() - count;
  if (remaining * 5 > count) {
    for (uint64_t i = 0; i < count; ++i) popped->push_back(s->PopRandom(ThreadRng()));
    return;
  }
  const engine::SetLimits limits = Limits();
  auto* rest = new Set(s->encoding() == Set::Encoding::kIntSet ? Set::Encoding::kIntSet
                                                               : Set::Encoding::kListpack);
  for (uint64_t i = 0; i < remaining; ++i) rest->Add(s->PopRandom(ThreadRng()), limits);
  s->ForEach([&](std::string_view m) {
    popped->emplace_back(m);
    return true;
  });
  e->set_object(rest);
  delete s;
}

void PopWithCount(CommandContext& ctx) {
  int64_t count;
  if (!ParseInt64(ctx.arg(2), &count) || count < 0) return ctx.Error(kErrNotPositive);
  Db db = ctx.db();
  bool failed;
  engine::Entry* e = FindSetEntry(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  if (e == nullptr || count == 0) return ctx.out().SetHeader(0);
  auto* s = static_cast<Set*>(e->object());
  if (static_cast<uint64_t>(count) >= s->size()) {
    ReplyMembers(ctx.out(), *s);
    db.Delete(e);
    db.Touched(ctx.arg(1));
    ctx.Notify(kNotifySet, "spop", ctx.arg(1));
    ctx.Notify(kNotifyGeneric, "del", ctx.arg(1));
    if (WantEffects(ctx)) ctx.AddEffect({"DEL", std::string(ctx.arg(1))});
    return;
  }
  std::vector<std::string> popped;
  PopSome(e, static_cast<uint64_t>(count), &popped);
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifySet, "spop", ctx.arg(1));
  ctx.out().SetHeader(static_cast<int64_t>(popped.size()));
  for (const std::string& m : popped) ctx.out().Bulk(m);
  if (WantEffects(ctx)) AddMemberEffects(ctx, "SREM", ctx.arg(1), popped);
}

// SPOP key [count]
void CmdSPop(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.Error(kErrSyntax);
  if (ctx.argc() == 3) return PopWithCount(ctx);
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  if (s == nullptr) return ctx.out().Null();
  std::string m = s->PopRandom(ThreadRng());
  bool emptied = s->size() == 0;
  if (emptied) db.Delete(ctx.arg(1));
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifySet, "spop", ctx.arg(1));
  if (emptied) ctx.Notify(kNotifyGeneric, "del", ctx.arg(1));
  if (WantEffects(ctx)) ctx.AddEffect({"SREM", std::string(ctx.arg(1)), m});
  ctx.out().Bulk(m);
}

// ---------------------------------------------------------------------------------------------
// SMOVE
// ---------------------------------------------------------------------------------------------

// SMOVE source destination member
void CmdSMove(CommandContext& ctx) {
  std::string_view src_key = ctx.arg(1), dst_key = ctx.arg(2), member = ctx.arg(3);
  Db db = ctx.db();
  engine::Entry* src = db.Find(src_key);
  engine::Entry* dst = db.Find(dst_key);
  if (src == nullptr) return ctx.out().Integer(0);
  if (src->type != engine::ValueType::kSet ||
      (dst != nullptr && dst->type != engine::ValueType::kSet))
    return ctx.Error(kErrWrongType);
  auto* from = static_cast<Set*>(src->object());
  if (src == dst) return ctx.out().Integer(from->Contains(member) ? 1 : 0);
  if (!from->Remove(member)) return ctx.out().Integer(0);
  bool emptied = from->size() == 0;
  if (emptied) db.Delete(src);
  db.Touched(src_key);
  ctx.Notify(kNotifySet, "srem", src_key);
  if (emptied) ctx.Notify(kNotifyGeneric, "del", src_key);
  const engine::SetLimits limits = Limits();
  Set* to =
      dst != nullptr ? static_cast<Set*>(dst->object()) : CreateSet(db, dst_key, member, 1, limits);
  bool added = to->Add(member, limits);
  if (added) {
    db.Touched(dst_key);
    ctx.Notify(kNotifySet, "sadd", dst_key);
  }
  if (WantEffects(ctx) && KeysSpanShards(ctx)) {
    // Each shard replays its own half from its own checkpoint.
    ctx.AddEffect({"SREM", std::string(src_key), std::string(member)});
    if (added) ctx.AddEffect({"SADD", std::string(dst_key), std::string(member)});
  }
  ctx.out().Integer(1);
}

// ---------------------------------------------------------------------------------------------
// SSCAN
// ---------------------------------------------------------------------------------------------

// SSCAN key cursor [MATCH pattern] [COUNT count]
void CmdSScan(CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseScanCursor(ctx.arg(2), &cursor)) return ctx.Error(kErrInvalidCursor);
  Db db = ctx.db();
  bool failed;
  Set* s = FindSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  std::vector<std::string> found;
  uint64_t next = 0;
  if (s != nullptr) {
    ScanOptions opts;
    if (!ParseScanOptions(ctx, 3, false, &opts)) return;
    next = s->Scan(cursor, static_cast<uint64_t>(opts.count), [&](std::string_view m) {
      if (opts.pattern.empty() || GlobMatch(opts.pattern, m)) found.emplace_back(m);
    });
  }
  ctx.out().ArrayHeader(2);
  ctx.out().Bulk(std::to_string(next));
  ctx.out().ArrayHeader(static_cast<int64_t>(found.size()));
  for (const std::string& m : found) ctx.out().Bulk(m);
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

constexpr KeySpec kOneKey = {1, 1, 1};
constexpr uint32_t kReadCats = kCatRead | kCatSet;
constexpr uint32_t kWriteCats = kCatWrite | kCatSet;

// clang-format off
void AddMemberCommands(CommandTable& t) {
  t.Add({.name = "sadd", .arity = -3, .flags = kWrite | kDenyOom | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "set",
         .since = "1.0.0", .summary = "Adds one or more members to a set. Creates the key if it "
                                      "doesn't exist.",
         .syntax = "key member [member ...]", .handler = CmdSAdd});
  t.Add({.name = "srem", .arity = -3, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "set",
         .since = "1.0.0", .summary = "Removes one or more members from a set. Deletes the set "
                                      "if the last member was removed.",
         .syntax = "key member [member ...]", .handler = CmdSRem});
  t.Add({.name = "sismember", .arity = 3, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "set",
         .since = "1.0.0", .summary = "Determines whether a member belongs to a set.",
         .syntax = "key member", .handler = CmdSIsMember});
  t.Add({.name = "smismember", .arity = -3, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "set",
         .since = "6.2.0", .summary = "Determines whether multiple members belong to a set.",
         .syntax = "key member [member ...]", .handler = CmdSMIsMember});
  t.Add({.name = "scard", .arity = 2, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "set",
         .since = "1.0.0", .summary = "Returns the number of members in a set.",
         .syntax = "key", .handler = CmdSCard});
  t.Add({.name = "smembers", .arity = 2, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "set",
         .since = "1.0.0", .summary = "Returns all members of a set.",
         .syntax = "key", .handler = CmdSMembers});
}

void AddRandomCommands(CommandTable& t) {
  t.Add({.name = "srandmember", .arity = -2, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "set",
         .since = "1.0.0", .summary = "Get one or multiple random members from a set",
         .syntax = "key [count]", .handler = CmdSRandMember});
  t.Add({.name = "spop", .arity = -2, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "set",
         .since = "1.0.0", .summary = "Returns one or more random members from a set after "
                                      "removing them. Deletes the set if the last member was "
                                      "popped.",
         .syntax = "key [count]", .handler = CmdSPop});
  t.Add({.name = "smove", .arity = 4, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = {1, 2, 1}, .group = "set",
         .since = "1.0.0", .summary = "Moves a member from one set to another.",
         .syntax = "source destination member", .handler = CmdSMove});
  t.Add({.name = "sscan", .arity = -3, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "set",
         .since = "2.8.0", .summary = "Iterates over members of a set.",
         .syntax = "key cursor [MATCH pattern] [COUNT count]", .handler = CmdSScan});
}
// clang-format on

}  // namespace

void RegisterSets(CommandTable& t) {
  AddMemberCommands(t);
  AddRandomCommands(t);
  sets::RegisterAlgebraCommands(t);
}

}  // namespace runnel::commands
