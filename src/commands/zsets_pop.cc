// The sorted-set command family, part three: pops. ZPOPMIN, ZPOPMAX and ZMPOP, and the blocking
// BZPOPMIN, BZPOPMAX and BZMPOP. A blocking pop that finds nothing calls CommandContext::Block
// with its own arguments and the dispatcher re-runs it (is_retry) when one of its keys is
// written, in the order clients blocked; inside MULTI nothing blocks (EXEC replies null). Every
// pop logs the ZREM of what it popped, never itself, so replaying the log never blocks and
// never depends on which key had elements.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/lists_common.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "commands/zsets_common.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "engine/zset.h"

namespace runnel::commands::zsets {

namespace {

using engine::Db;
using Popped = std::vector<std::pair<std::string, double>>;

constexpr std::string_view kErrNumKeys = "ERR numkeys should be greater than 0";
constexpr std::string_view kErrCount = "ERR count should be greater than 0";

std::vector<std::string> ArgsOf(CommandContext& ctx) {
  return std::vector<std::string>(ctx.args().begin(), ctx.args().end());
}

// Pops up to `count` of the lowest (highest with `max`) elements of the set at `key`,
// announces and logs them, and deletes the key if it empties.
Popped PopFrom(CommandContext& ctx, Db& db, std::string_view key, ZSet* z, bool max,
               uint64_t count) {
  Popped out;
  z->Pop(max, count, [&](std::string_view m, double s) {
    out.emplace_back(m, s);
    return true;
  });
  Removed(ctx, db, key, z, max ? "zpopmax" : "zpopmin");
  if (WantEffects(ctx)) {
    std::vector<std::string> members;
    members.reserve(out.size());
    for (const auto& [m, s] : out) members.push_back(m);
    AddZRemEffects(ctx, key, members);
  }
  return out;
}

// The first of `n` keys from args[first] that holds a sorted set (its position in *which), or
// nullptr. A key of another type replies WRONGTYPE (*failed), except on a blocked client's
// retry, where it counts as missing: the client waits for a sorted set.
ZSet* FirstZSet(CommandContext& ctx, Db& db, size_t first, size_t n, size_t* which, bool* failed) {
  *failed = false;
  for (size_t k = first; k < first + n; ++k) {
    engine::Entry* e = db.Find(ctx.arg(k));
    if (e == nullptr) continue;
    if (e->type != engine::ValueType::kZSet) {
      if (ctx.is_retry()) continue;
      ctx.Error(kErrWrongType);
      *failed = true;
      return nullptr;
    }
    *which = k;
    return static_cast<ZSet*>(e->object());
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX
// ---------------------------------------------------------------------------------------------

// ZPOPMIN / ZPOPMAX key [count]
void Pop(CommandContext& ctx, bool max) {
  if (ctx.argc() > 3) return ctx.Error(kErrSyntax);
  const bool has_count = ctx.argc() == 3;
  int64_t count = 1;
  if (has_count && (!ParseInt64(ctx.arg(2), &count) || count < 0))
    return ctx.Error("ERR value is out of range, must be positive");
  Db db = ctx.db();
  size_t which;
  bool failed;
  ZSet* z = FirstZSet(ctx, db, 1, 1, &which, &failed);
  if (failed) return;
  if (z == nullptr || count == 0) return ctx.out().EmptyArray();
  const Popped popped = PopFrom(ctx, db, ctx.arg(1), z, max, static_cast<uint64_t>(count));
  // With a count, RESP3 nests each pair; a single pop is a flat pair in both protocols.
  const bool nested = has_count && ctx.out().protocol() >= 3;
  ctx.out().ArrayHeader(static_cast<int64_t>(nested ? popped.size() : popped.size() * 2));
  for (const auto& [m, s] : popped) {
    if (nested) ctx.out().ArrayHeader(2);
    ctx.out().Bulk(m);
    ctx.out().Double(s);
  }
}

void CmdZPopMin(CommandContext& ctx) { Pop(ctx, false); }
void CmdZPopMax(CommandContext& ctx) { Pop(ctx, true); }

// BZPOPMIN / BZPOPMAX key [key ...] timeout
void BlockingPop(CommandContext& ctx, bool max) {
  int64_t timeout_ms;
  if (!lists::ParseTimeout(ctx, ctx.arg(ctx.argc() - 1), &timeout_ms)) return;
  Db db = ctx.db();
  size_t which;
  bool failed;
  ZSet* z = FirstZSet(ctx, db, 1, ctx.argc() - 2, &which, &failed);
  if (failed) return;
  if (z != nullptr) {
    const Popped popped = PopFrom(ctx, db, ctx.arg(which), z, max, 1);
    ctx.out().ArrayHeader(3);
    ctx.out().Bulk(ctx.arg(which));
    ctx.out().Bulk(popped[0].first);
    ctx.out().Double(popped[0].second);
    return;
  }
  std::vector<std::string> keys(ctx.args().begin() + 1, ctx.args().end() - 1);
  ctx.Block(std::move(keys), timeout_ms, ArgsOf(ctx));
}

void CmdBZPopMin(CommandContext& ctx) { BlockingPop(ctx, false); }
void CmdBZPopMax(CommandContext& ctx) { BlockingPop(ctx, true); }

// ---------------------------------------------------------------------------------------------
// ZMPOP, BZMPOP
// ---------------------------------------------------------------------------------------------

struct MultiPopArgs {
  size_t first_key = 0;
  size_t nkeys = 0;
  bool max = false;
  int64_t count = 1;
};

// numkeys key [key ...] MIN|MAX [COUNT count], from args[at].
bool ParseMultiPop(CommandContext& ctx, size_t at, MultiPopArgs* a) {
  int64_t numkeys;
  if (!ParseInt64(ctx.arg(at), &numkeys) || numkeys <= 0) return ctx.Error(kErrNumKeys), false;
  if (static_cast<uint64_t>(numkeys) >= ctx.argc() - at - 1) return ctx.Error(kErrSyntax), false;
  a->first_key = at + 1;
  a->nkeys = static_cast<size_t>(numkeys);
  size_t i = a->first_key + a->nkeys;
  if (EqualsIgnoreCase(ctx.arg(i), "max")) {
    a->max = true;
  } else if (!EqualsIgnoreCase(ctx.arg(i), "min")) {
    return ctx.Error(kErrSyntax), false;
  }
  bool has_count = false;
  for (++i; i < ctx.argc(); ++i) {
    if (has_count || !EqualsIgnoreCase(ctx.arg(i), "count") || i + 1 >= ctx.argc())
      return ctx.Error(kErrSyntax), false;
    if (!ParseInt64(ctx.arg(++i), &a->count) || a->count <= 0) return ctx.Error(kErrCount), false;
    has_count = true;
  }
  return true;
}

// Replies [key, [[member, score], ...]] from the first non-empty set; false (nothing replied)
// if there is none. True after a WRONGTYPE reply.
bool MultiPop(CommandContext& ctx, Db& db, const MultiPopArgs& a) {
  size_t which;
  bool failed;
  ZSet* z = FirstZSet(ctx, db, a.first_key, a.nkeys, &which, &failed);
  if (failed) return true;
  if (z == nullptr) return false;
  const Popped popped = PopFrom(ctx, db, ctx.arg(which), z, a.max, static_cast<uint64_t>(a.count));
  ctx.out().ArrayHeader(2);
  ctx.out().Bulk(ctx.arg(which));
  ctx.out().ArrayHeader(static_cast<int64_t>(popped.size()));
  for (const auto& [m, s] : popped) {
    ctx.out().ArrayHeader(2);
    ctx.out().Bulk(m);
    ctx.out().Double(s);
  }
  return true;
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
void CmdZMPop(CommandContext& ctx) {
  MultiPopArgs a;
  if (!ParseMultiPop(ctx, 1, &a)) return;
  Db db = ctx.db();
  if (!MultiPop(ctx, db, a)) ctx.out().NullArray();
}

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
void CmdBZMPop(CommandContext& ctx) {
  MultiPopArgs a;
  if (!ParseMultiPop(ctx, 2, &a)) return;
  int64_t timeout_ms;
  if (!lists::ParseTimeout(ctx, ctx.arg(1), &timeout_ms)) return;
  Db db = ctx.db();
  if (MultiPop(ctx, db, a)) return;
  auto first = ctx.args().begin() + static_cast<ptrdiff_t>(a.first_key);
  std::vector<std::string> keys(first, first + static_cast<ptrdiff_t>(a.nkeys));
  ctx.Block(std::move(keys), timeout_ms, ArgsOf(ctx));
}

}  // namespace

// clang-format off
void RegisterPopCommands(CommandTable& t) {
  constexpr uint32_t kCats = kCatWrite | kCatSortedSet | kCatFast;
  constexpr uint32_t kBlockingCats = kCatWrite | kCatSortedSet | kCatFast | kCatBlocking;
  t.Add({.name = "zpopmin", .arity = -2, .flags = kWrite | kFast, .categories = kCats,
         .keys = {1, 1, 1}, .group = "sorted_set", .since = "5.0.0",
         .summary = "Returns the lowest-scoring members from a sorted set after removing them. "
                    "Deletes the sorted set if the last member was popped.",
         .syntax = "key [count]", .handler = CmdZPopMin});
  t.Add({.name = "zpopmax", .arity = -2, .flags = kWrite | kFast, .categories = kCats,
         .keys = {1, 1, 1}, .group = "sorted_set", .since = "5.0.0",
         .summary = "Returns the highest-scoring members from a sorted set after removing them. "
                    "Deletes the sorted set if the last member was popped.",
         .syntax = "key [count]", .handler = CmdZPopMax});
  t.Add({.name = "zmpop", .arity = -4, .flags = kWrite,
         .categories = kCatWrite | kCatSortedSet | kCatSlow, .keys = {0, 0, 0},
         .group = "sorted_set", .since = "7.0.0",
         .summary = "Returns the highest- or lowest-scoring members from one or more sorted sets "
                    "after removing them. Deletes the sorted set if the last member was popped.",
         .syntax = "numkeys key [key ...] MIN|MAX [COUNT count]", .handler = CmdZMPop,
         .key_finder = lists::LmpopKeys});
  t.Add({.name = "bzpopmin", .arity = -3, .flags = kWrite | kNoScript | kFast | kBlocking,
         .categories = kBlockingCats, .keys = {1, -2, 1}, .group = "sorted_set",
         .since = "5.0.0",
         .summary = "Removes and returns the member with the lowest score from one or more "
                    "sorted sets. Blocks until a member is available otherwise. Deletes the "
                    "sorted set if the last element was popped.",
         .syntax = "key [key ...] timeout:double", .handler = CmdBZPopMin});
  t.Add({.name = "bzpopmax", .arity = -3, .flags = kWrite | kNoScript | kFast | kBlocking,
         .categories = kBlockingCats, .keys = {1, -2, 1}, .group = "sorted_set",
         .since = "5.0.0",
         .summary = "Removes and returns the member with the highest score from one or more "
                    "sorted sets. Blocks until a member available otherwise. Deletes the sorted "
                    "set if the last element was popped.",
         .syntax = "key [key ...] timeout:double", .handler = CmdBZPopMax});
  t.Add({.name = "bzmpop", .arity = -5, .flags = kWrite | kBlocking,
         .categories = kCatWrite | kCatSortedSet | kCatSlow | kCatBlocking, .keys = {0, 0, 0}, .group = "sorted_set",
         .since = "7.0.0",
         .summary = "Removes and returns a member by score from one or more sorted sets. Blocks "
                    "until a member is available otherwise. Deletes the sorted set if the last "
                    "element was popped.",
         .syntax = "timeout:double numkeys key [key ...] MIN|MAX [COUNT count]",
         .handler = CmdBZMPop, .key_finder = lists::BlmpopKeys});
}
// clang-format on

}  // namespace runnel::commands::zsets
