// The set command family, part two: intersections, unions and differences (SINTER, SINTERCARD,
// SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE). Missing keys count as empty sets; a key
// of another type anywhere fails the command. A STORE replaces its destination whatever its
// type, or deletes it when the result is empty.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/sets_common.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "engine/set.h"

namespace runnel::commands::sets {

namespace {

using engine::Db;

constexpr std::string_view kErrNumKeys = "ERR numkeys should be greater than 0";
constexpr std::string_view kErrTooManyKeys =
    "ERR Number of keys can't be greater than number of args";
constexpr std::string_view kErrLimit = "ERR LIMIT can't be negative";

// The sets at `keys` (nullptr for a missing key), looked up as reads. Replies WRONGTYPE and
// returns false if any key holds another type.
bool LoadSets(CommandContext& ctx, Db& db, std::span<const std::string_view> keys,
              std::vector<const Set*>* sets) {
  for (std::string_view key : keys) {
    bool failed;
    const Set* s = FindSet(ctx, db, key, true, &failed);
    if (failed) return false;
    sets->push_back(s);
  }
  return true;
}

bool AnyMissing(const std::vector<const Set*>& sets) {
  return std::find(sets.begin(), sets.end(), nullptr) != sets.end();
}

// ---------------------------------------------------------------------------------------------
// Computing results
// ---------------------------------------------------------------------------------------------

// Calls fn(member) for each member of the intersection of `sets` (none missing) until fn
// returns false. Walks the smallest set and looks its members up in the others.
template <class Fn>
void ForEachInCommon(std::vector<const Set*> sets, Fn fn) {
  std::stable_sort(sets.begin(), sets.end(),
                   [](const Set* a, const Set* b) { return a->size() < b->size(); });
  sets[0]->ForEach([&](std::string_view m) {
    for (size_t i = 1; i < sets.size(); ++i)
      if (sets[i] != sets[0] && !sets[i]->Contains(m)) return true;
    return fn(m);
  });
}

// The intersection as a set to store: shaped after the smallest set (a listpack in place of a
// hash table, since most intersections are small), and an intset if it is all integers.
std::unique_ptr<Set> Intersection(const std::vector<const Set*>& sets) {
  const Set* smallest = *std::min_element(
      sets.begin(), sets.end(), [](const Set* a, const Set* b) { return a->size() < b->size(); });
  auto result = std::make_unique<Set>(smallest->encoding() == Set::Encoding::kIntSet
                                          ? Set::Encoding::kIntSet
                                          : Set::Encoding::kListpack);
  const engine::SetLimits limits = Limits();
  ForEachInCommon(sets, [&](std::string_view m) { return result->Add(m, limits) || true; });
  result->ConvertToIntSetIfPossible(limits);
  return result;
}

std::unique_ptr<Set> Union(const std::vector<const Set*>& sets) {
  auto result = std::make_unique<Set>(Set::Encoding::kIntSet);
  const engine::SetLimits limits = Limits();
  for (const Set* s : sets) {
    if (s == nullptr) continue;
    s->ForEach([&](std::string_view m) { return result->Add(m, limits) || true; });
  }
  return result;
}

// The first set minus the others. Either walks the first set and looks each member up in the
// others, or copies the first set and removes the others' members, whichever looks cheaper.
std::unique_ptr<Set> Difference(std::vector<const Set*> sets) {
  auto result = std::make_unique<Set>(Set::Encoding::kIntSet);
  const Set* first = sets[0];
  if (first == nullptr) return result;
  for (size_t i = 1; i < sets.size(); ++i)
    if (sets[i] == first) return result;  // a set minus itself
  uint64_t walk_work = 0, copy_work = 0;
  for (const Set* s : sets) {
    if (s == nullptr) continue;
    walk_work += first->size();
    copy_work += s->size();
  }
  const engine::SetLimits limits = Limits();
  auto add = [&](std::string_view m) { return result->Add(m, limits) || true; };
  if (walk_work / 2 <= copy_work) {
    // Largest first: members that are found, are found sooner.
    std::stable_sort(sets.begin() + 1, sets.end(), [](const Set* a, const Set* b) {
      return (a ? a->size() : 0) > (b ? b->size() : 0);
    });
    first->ForEach([&](std::string_view m) {
      for (size_t i = 1; i < sets.size(); ++i)
        if (sets[i] != nullptr && sets[i]->Contains(m)) return true;
      return add(m);
    });
    return result;
  }
  first->ForEach(add);
  for (size_t i = 1; i < sets.size() && result->size() > 0; ++i) {
    if (sets[i] == nullptr) continue;
    sets[i]->ForEach([&](std::string_view m) {
      result->Remove(m);
      return result->size() > 0;
    });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Storing results
// ---------------------------------------------------------------------------------------------

// Replaces `dst` by `result` (deletes it if the result is empty) and replies the result's size.
// The sources may lie in other shards than `dst`, so the log gets the result itself.
void Store(CommandContext& ctx, Db& db, std::string_view dst, std::unique_ptr<Set> result,
           std::string_view event) {
  const int64_t n = static_cast<int64_t>(result->size());
  bool existed = false;
  Set* stored = nullptr;
  if (n > 0) {
    stored = result.release();
    db.SetObject(dst, engine::ValueType::kSet, stored);
  } else {
    existed = db.Delete(dst);
  }
  if (n > 0 || existed) {
    db.Touched(dst);
    ctx.Notify(n > 0 ? kNotifySet : kNotifyGeneric, n > 0 ? event : "del", dst);
    if (WantEffects(ctx) && KeysSpanShards(ctx)) {
      ctx.AddEffect({"DEL", std::string(dst)});
      std::vector<std::string> members;
      if (stored != nullptr) {
        stored->ForEach([&](std::string_view m) {
          members.emplace_back(m);
          return true;
        });
      }
      AddMemberEffects(ctx, "SADD", dst, members);
    }
  }
  ctx.out().Integer(n);
}

enum class Op { kInter, kUnion, kDiff };

std::unique_ptr<Set> Compute(Op op, const std::vector<const Set*>& sets) {
  switch (op) {
    case Op::kInter:
      return AnyMissing(sets) ? std::make_unique<Set>() : Intersection(sets);
    case Op::kUnion:
      return Union(sets);
    default:
      return Difference(sets);
  }
}

// SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...]
void StoreCommand(CommandContext& ctx, Op op) {
  Db db = ctx.db();
  std::vector<const Set*> sets;
  if (!LoadSets(ctx, db, ctx.args().subspan(2), &sets)) return;
  Store(ctx, db, ctx.arg(1), Compute(op, sets),
        op == Op::kInter ? "sinterstore" : op == Op::kUnion ? "sunionstore" : "sdiffstore");
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

// SINTER key [key ...]
void CmdSInter(CommandContext& ctx) {
  Db db = ctx.db();
  std::vector<const Set*> sets;
  if (!LoadSets(ctx, db, ctx.args().subspan(1), &sets)) return;
  if (AnyMissing(sets)) return ctx.out().SetHeader(0);
  std::vector<std::string> members;
  ForEachInCommon(sets, [&](std::string_view m) {
    members.emplace_back(m);
    return true;
  });
  ctx.out().SetHeader(static_cast<int64_t>(members.size()));
  for (const std::string& m : members) ctx.out().Bulk(m);
}

// Parses SINTERCARD's numkeys and LIMIT. Replies the error and returns false if invalid.
bool ParseInterCard(CommandContext& ctx, size_t* numkeys, uint64_t* limit) {
  int64_t n;
  if (!ParseInt64(ctx.arg(1), &n) || n < 1) {
    ctx.Error(kErrNumKeys);
    return false;
  }
  if (static_cast<uint64_t>(n) > ctx.argc() - 2) {
    ctx.Error(kErrTooManyKeys);
    return false;
  }
  *numkeys = static_cast<size_t>(n);
  for (size_t i = 2 + *numkeys; i < ctx.argc(); ++i) {
    int64_t l;
    if (!EqualsIgnoreCase(ctx.arg(i), "limit") || i + 1 >= ctx.argc()) {
      ctx.Error(kErrSyntax);
      return false;
    }
    if (!ParseInt64(ctx.arg(++i), &l) || l < 0) {
      ctx.Error(kErrLimit);
      return false;
    }
    *limit = static_cast<uint64_t>(l);
  }
  return true;
}

// The keys of SINTERCARD numkeys key [key ...] [LIMIT limit], for shard locking. Invalid forms
// have none; the handler then fails before it looks any key up.
void InterCardKeys(std::span<const std::string_view> args, std::vector<int>* out) {
  int64_t n;
  if (args.size() < 3 || !ParseInt64(args[1], &n) || n < 1) return;
  if (static_cast<uint64_t>(n) > args.size() - 2) return;
  for (int64_t i = 0; i < n; ++i) out->push_back(static_cast<int>(2 + i));
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void CmdSInterCard(CommandContext& ctx) {
  size_t numkeys;
  uint64_t limit = 0;
  if (!ParseInterCard(ctx, &numkeys, &limit)) return;
  Db db = ctx.db();
  std::vector<const Set*> sets;
  if (!LoadSets(ctx, db, ctx.args().subspan(2, numkeys), &sets)) return;
  if (AnyMissing(sets)) return ctx.out().Integer(0);
  uint64_t n = 0;
  ForEachInCommon(sets, [&](std::string_view) { return ++n != limit; });
  ctx.out().Integer(static_cast<int64_t>(n));
}

void ReplyComputed(CommandContext& ctx, Op op, size_t first_key) {
  Db db = ctx.db();
  std::vector<const Set*> sets;
  if (!LoadSets(ctx, db, ctx.args().subspan(first_key), &sets)) return;
  ReplyMembers(ctx.out(), *Compute(op, sets));
}

// SUNION key [key ...]
void CmdSUnion(CommandContext& ctx) { ReplyComputed(ctx, Op::kUnion, 1); }
// SDIFF key [key ...]
void CmdSDiff(CommandContext& ctx) { ReplyComputed(ctx, Op::kDiff, 1); }
// SINTERSTORE destination key [key ...]
void CmdSInterStore(CommandContext& ctx) { StoreCommand(ctx, Op::kInter); }
// SUNIONSTORE destination key [key ...]
void CmdSUnionStore(CommandContext& ctx) { StoreCommand(ctx, Op::kUnion); }
// SDIFFSTORE destination key [key ...]
void CmdSDiffStore(CommandContext& ctx) { StoreCommand(ctx, Op::kDiff); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

// clang-format off
void RegisterAlgebraCommands(CommandTable& t) {
  constexpr uint32_t kReadCats = kCatRead | kCatSet | kCatSlow;
  constexpr uint32_t kWriteCats = kCatWrite | kCatSet | kCatSlow;
  constexpr KeySpec kAllKeys = {1, -1, 1};
  t.Add({.name = "sinter", .arity = -2, .flags = kReadOnly, .categories = kReadCats,
         .keys = kAllKeys, .group = "set", .since = "1.0.0",
         .summary = "Returns the intersect of multiple sets.",
         .syntax = "key [key ...]", .handler = CmdSInter});
  t.Add({.name = "sintercard", .arity = -3, .flags = kReadOnly, .categories = kReadCats,
         .keys = {0, 0, 0}, .group = "set", .since = "7.0.0",
         .summary = "Returns the number of members of the intersect of multiple sets.",
         .syntax = "numkeys key [key ...] [LIMIT limit]", .handler = CmdSInterCard,
         .key_finder = InterCardKeys});
  t.Add({.name = "sinterstore", .arity = -3, .flags = kWrite | kDenyOom,
         .categories = kWriteCats, .keys = kAllKeys, .group = "set", .since = "1.0.0",
         .summary = "Stores the intersect of multiple sets in a key.",
         .syntax = "destination key [key ...]", .handler = CmdSInterStore});
  t.Add({.name = "sunion", .arity = -2, .flags = kReadOnly, .categories = kReadCats,
         .keys = kAllKeys, .group = "set", .since = "1.0.0",
         .summary = "Returns the union of multiple sets.",
         .syntax = "key [key ...]", .handler = CmdSUnion});
  t.Add({.name = "sunionstore", .arity = -3, .flags = kWrite | kDenyOom,
         .categories = kWriteCats, .keys = kAllKeys, .group = "set", .since = "1.0.0",
         .summary = "Stores the union of multiple sets in a key.",
         .syntax = "destination key [key ...]", .handler = CmdSUnionStore});
  t.Add({.name = "sdiff", .arity = -2, .flags = kReadOnly, .categories = kReadCats,
         .keys = kAllKeys, .group = "set", .since = "1.0.0",
         .summary = "Returns the difference of multiple sets.",
         .syntax = "key [key ...]", .handler = CmdSDiff});
  t.Add({.name = "sdiffstore", .arity = -3, .flags = kWrite | kDenyOom,
         .categories = kWriteCats, .keys = kAllKeys, .group = "set", .since = "1.0.0",
         .summary = "Stores the difference of multiple sets in a key.",
         .syntax = "destination key [key ...]", .handler = CmdSDiffStore});
}
// clang-format on

}  // namespace runnel::commands::sets
