// The sorted-set command family, part four: unions, intersections and differences (ZUNION,
// ZINTER, ZDIFF, their STORE forms, ZINTERCARD). As in Redis, the inputs may be sorted sets or
// plain sets (whose members count with score 1); a missing key is an empty input; WEIGHTS
// multiply scores and AGGREGATE SUM|MIN|MAX combines them, treating NaN (inf x 0, inf + -inf)
// at each step as Redis does. A STORE replaces its destination whatever its type, or deletes it when the
// result is empty.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/table.h"
#include "commands/zsets_common.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "engine/set.h"
#include "engine/zset.h"

namespace runnel::commands::zsets {

namespace {

using engine::Db;

enum class Op { kUnion, kInter, kDiff, kInterCard };
enum class Aggregate { kSum, kMin, kMax };

// One input: a sorted set, a set, or nothing (a missing key).
struct Source {
  const ZSet* zset = nullptr;
  const engine::Set* set = nullptr;
  double weight = 1;

  size_t size() const { return zset ? zset->size() : set ? set->size() : 0; }
  bool Score(std::string_view m, double* s) const {
    if (zset != nullptr) return zset->Score(m, s);
    *s = 1;
    return set != nullptr && set->Contains(m);
  }
  // Calls fn(member, score) for each member until fn returns false.
  template <class Fn>
  void ForEach(Fn fn) const {
    if (zset != nullptr) {
      zset->ForEach([&](std::string_view m, double s) { return fn(m, s); });
    } else if (set != nullptr) {
      set->ForEach([&](std::string_view m) { return fn(m, 1.0); });
    }
  }
};

struct AlgebraArgs {
  std::vector<Source> sources;
  Aggregate aggregate = Aggregate::kSum;
  bool with_scores = false;
  uint64_t limit = 0;  // ZINTERCARD; 0: none
};

double Weighted(double score, double weight) {
  const double v = score * weight;
  return std::isnan(v) ? 0 : v;  // inf x 0
}

void Combine(double* target, double v, Aggregate a) {
  switch (a) {
    case Aggregate::kSum:
      *target += v;
      if (std::isnan(*target)) *target = 0;  // inf + -inf
      break;
    case Aggregate::kMin:
      *target = std::min(*target, v);
      break;
    case Aggregate::kMax:
      *target = std::max(*target, v);
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

// Looks up the `n` keys from args[first] as Redis does before it reads any option: a key of
// another type than sorted set or set fails the command.
bool LoadSources(CommandContext& ctx, Db& db, size_t first, size_t n, AlgebraArgs* a) {
  for (size_t k = first; k < first + n; ++k) {
    engine::Entry* e = db.Find(ctx.arg(k));
    auto& counter = e != nullptr ? ctx.stats().keyspace_hits : ctx.stats().keyspace_misses;
    counter.fetch_add(1, std::memory_order_relaxed);
    Source s;
    if (e != nullptr && e->type == engine::ValueType::kZSet) {
      s.zset = static_cast<const ZSet*>(e->object());
    } else if (e != nullptr && e->type == engine::ValueType::kSet) {
      s.set = static_cast<const engine::Set*>(e->object());
    } else if (e != nullptr) {
      return ctx.Error(kErrWrongType), false;
    }
    a->sources.push_back(s);
  }
  return true;
}

bool ParseAggregate(std::string_view s, Aggregate* a) {
  if (EqualsIgnoreCase(s, "sum")) {
    *a = Aggregate::kSum;
  } else if (EqualsIgnoreCase(s, "min")) {
    *a = Aggregate::kMin;
  } else if (EqualsIgnoreCase(s, "max")) {
    *a = Aggregate::kMax;
  } else {
    return false;
  }
  return true;
}

// WEIGHTS, AGGREGATE, WITHSCORES and LIMIT from args[i], each where Redis allows it.
bool ParseOptions(CommandContext& ctx, size_t i, Op op, bool store, AlgebraArgs* a) {
  const size_t n = a->sources.size();
  const bool weighted = op == Op::kUnion || op == Op::kInter;
  while (i < ctx.argc()) {
    const size_t left = ctx.argc() - i;
    std::string_view opt = ctx.arg(i);
    if (weighted && left >= n + 1 && EqualsIgnoreCase(opt, "weights")) {
      for (size_t k = 0; k < n; ++k)
        if (!ParseDouble(ctx.arg(i + 1 + k), &a->sources[k].weight))
          return ctx.Error("ERR weight value is not a float"), false;
      i += n + 1;
    } else if (weighted && left >= 2 && EqualsIgnoreCase(opt, "aggregate")) {
      if (!ParseAggregate(ctx.arg(i + 1), &a->aggregate)) return ctx.Error(kErrSyntax), false;
      i += 2;
    } else if (!store && op != Op::kInterCard && EqualsIgnoreCase(opt, "withscores")) {
      a->with_scores = true;
      ++i;
    } else if (op == Op::kInterCard && left >= 2 && EqualsIgnoreCase(opt, "limit")) {
      int64_t l;
      if (!ParseInt64(ctx.arg(i + 1), &l) || l < 0)
        return ctx.Error("ERR LIMIT can't be negative"), false;
      a->limit = static_cast<uint64_t>(l);
      i += 2;
    } else {
      return ctx.Error(kErrSyntax), false;
    }
  }
  return true;
}

// numkeys at args[at], the keys, then the options; replies the error and returns false if any
// part is invalid.
bool ParseAlgebra(CommandContext& ctx, Db& db, size_t at, Op op, bool store, AlgebraArgs* a) {
  int64_t n;
  if (!ParseInt64(ctx.arg(at), &n)) return ctx.Error(kErrNotInteger), false;
  if (n < 1) {
    return ctx.Error("ERR at least 1 input key is needed for '" + ctx.spec()->name + "' command"),
           false;
  }
  if (static_cast<uint64_t>(n) > ctx.argc() - at - 1) return ctx.Error(kErrSyntax), false;
  if (!LoadSources(ctx, db, at + 1, static_cast<size_t>(n), a)) return false;
  return ParseOptions(ctx, at + 1 + static_cast<size_t>(n), op, store, a);
}

// ---------------------------------------------------------------------------------------------
// Computing results
// ---------------------------------------------------------------------------------------------

using Accumulator = std::unordered_map<std::string, double>;

// Inputs smallest first, as Redis takes them (the order floating-point sums are made in).
std::vector<Source> BySize(std::vector<Source> sources) {
  std::stable_sort(sources.begin(), sources.end(),
                   [](const Source& x, const Source& y) { return x.size() < y.size(); });
  return sources;
}

// Calls fn(member, score) for each member of the intersection, until fn returns false.
template <class Fn>
void ForEachInCommon(const AlgebraArgs& a, Fn fn) {
  const std::vector<Source> sources = BySize(a.sources);
  if (sources[0].size() == 0) return;
  sources[0].ForEach([&](std::string_view m, double s) {
    double score = Weighted(s, sources[0].weight);
    for (size_t i = 1; i < sources.size(); ++i) {
      double other;
      if (!sources[i].Score(m, &other)) return true;
      // Unlike the first input's, a NaN product here is not made 0: a sum turns it into 0,
      // MIN and MAX ignore it (as Redis computes it).
      Combine(&score, other * sources[i].weight, a.aggregate);
    }
    return fn(m, score);
  });
}

Accumulator Compute(const AlgebraArgs& a, Op op) {
  Accumulator acc;
  if (op == Op::kInter) {
    ForEachInCommon(a, [&](std::string_view m, double s) {
      acc.emplace(m, s);
      return true;
    });
  } else if (op == Op::kUnion) {
    for (const Source& src : BySize(a.sources)) {
      src.ForEach([&](std::string_view m, double s) {
        const double v = Weighted(s, src.weight);
        auto [it, fresh] = acc.try_emplace(std::string(m), v);
        if (!fresh) Combine(&it->second, v, a.aggregate);
        return true;
      });
    }
  } else {
    const Source& first = a.sources[0];
    first.ForEach([&](std::string_view m, double s) {
      for (size_t i = 1; i < a.sources.size(); ++i) {
        double other;
        if (a.sources[i].Score(m, &other)) return true;
      }
      acc.emplace(m, s);
      return true;
    });
  }
  return acc;
}

// The accumulated elements in order, for a reply (a -0 keeps its sign, as in Redis's reply).
std::vector<std::pair<std::string_view, double>> InOrder(const Accumulator& acc) {
  std::vector<std::pair<std::string_view, double>> out(acc.begin(), acc.end());
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return engine::ElementLess(x.second, x.first, y.second, y.first);
  });
  return out;
}

// The accumulated elements as a sorted set to store (a listpack if they fit one).
std::unique_ptr<ZSet> ToZSet(const Accumulator& acc) {
  size_t longest = 0;
  for (const auto& [m, s] : acc) longest = std::max(longest, m.size());
  const engine::ZSetLimits limits = Limits();
  auto z = ZSet::Create(acc.size(), longest, limits);
  for (const auto& [m, s] : acc) z->Add(m, s, 0, limits);
  return z;
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

// ZUNION / ZINTER / ZDIFF numkeys key [key ...] [options] [WITHSCORES]
void ReplyCommand(CommandContext& ctx, Op op) {
  Db db = ctx.db();
  AlgebraArgs a;
  if (!ParseAlgebra(ctx, db, 1, op, false, &a)) return;
  const Accumulator acc = Compute(a, op);
  ElementsHeader(ctx.out(), acc.size(), a.with_scores);
  for (const auto& [m, s] : InOrder(acc)) ReplyElement(ctx.out(), m, s, a.with_scores);
}

// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE destination numkeys key [key ...] [options]
void StoreCommand(CommandContext& ctx, Op op, std::string_view event) {
  Db db = ctx.db();
  AlgebraArgs a;
  if (!ParseAlgebra(ctx, db, 2, op, true, &a)) return;
  ctx.out().Integer(StoreResult(ctx, db, ctx.arg(1), ToZSet(Compute(a, op)), event));
}

// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
void CmdZUnion(CommandContext& ctx) { ReplyCommand(ctx, Op::kUnion); }
// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
void CmdZInter(CommandContext& ctx) { ReplyCommand(ctx, Op::kInter); }
// ZDIFF numkeys key [key ...] [WITHSCORES]
void CmdZDiff(CommandContext& ctx) { ReplyCommand(ctx, Op::kDiff); }
// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
void CmdZUnionStore(CommandContext& ctx) { StoreCommand(ctx, Op::kUnion, "zunionstore"); }
// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
void CmdZInterStore(CommandContext& ctx) { StoreCommand(ctx, Op::kInter, "zinterstore"); }
// ZDIFFSTORE destination numkeys key [key ...]
void CmdZDiffStore(CommandContext& ctx) { StoreCommand(ctx, Op::kDiff, "zdiffstore"); }

// ZINTERCARD numkeys key [key ...] [LIMIT limit]
void CmdZInterCard(CommandContext& ctx) {
  Db db = ctx.db();
  AlgebraArgs a;
  if (!ParseAlgebra(ctx, db, 1, Op::kInterCard, false, &a)) return;
  uint64_t n = 0;
  ForEachInCommon(a, [&](std::string_view, double) { return ++n != a.limit; });
  ctx.out().Integer(static_cast<int64_t>(n));
}

// Key positions: numkeys at args[at], then the keys (and the destination before numkeys for
// the STORE forms). Invalid forms have none; the handler then fails before it looks any up.
void KeysAfterNumKeys(std::span<const std::string_view> args, size_t at, std::vector<int>* out) {
  int64_t n;
  if (args.size() <= at || !ParseInt64(args[at], &n) || n < 1) return;
  if (static_cast<uint64_t>(n) > args.size() - at - 1) return;
  if (at == 2) out->push_back(1);
  for (int64_t i = 0; i < n; ++i) out->push_back(static_cast<int>(at + 1 + i));
}
void NumKeysAt1(std::span<const std::string_view> args, std::vector<int>* out) {
  KeysAfterNumKeys(args, 1, out);
}
void NumKeysAt2(std::span<const std::string_view> args, std::vector<int>* out) {
  KeysAfterNumKeys(args, 2, out);
}

}  // namespace

// clang-format off
void RegisterAlgebraCommands(CommandTable& t) {
  constexpr uint32_t kReadCats = kCatRead | kCatSortedSet | kCatSlow;
  constexpr uint32_t kWriteCats = kCatWrite | kCatSortedSet | kCatSlow;
  const char* kWeighted = "numkeys key [key ...] [WEIGHTS weight:integer [weight:integer ...]] "
                          "[AGGREGATE SUM|MIN|MAX]";
  t.Add({.name = "zunion", .arity = -3, .flags = kReadOnly, .categories = kReadCats,
         .keys = {0, 0, 0}, .group = "sorted_set", .since = "6.2.0",
         .summary = "Returns the union of multiple sorted sets.",
         .syntax = std::string(kWeighted) + " [WITHSCORES]", .handler = CmdZUnion,
         .key_finder = NumKeysAt1});
  t.Add({.name = "zinter", .arity = -3, .flags = kReadOnly, .categories = kReadCats,
         .keys = {0, 0, 0}, .group = "sorted_set", .since = "6.2.0",
         .summary = "Returns the intersect of multiple sorted sets.",
         .syntax = std::string(kWeighted) + " [WITHSCORES]", .handler = CmdZInter,
         .key_finder = NumKeysAt1});
  t.Add({.name = "zdiff", .arity = -3, .flags = kReadOnly, .categories = kReadCats,
         .keys = {0, 0, 0}, .group = "sorted_set", .since = "6.2.0",
         .summary = "Returns the difference between multiple sorted sets.",
         .syntax = "numkeys key [key ...] [WITHSCORES]", .handler = CmdZDiff,
         .key_finder = NumKeysAt1});
  t.Add({.name = "zunionstore", .arity = -4, .flags = kWrite | kDenyOom,
         .categories = kWriteCats, .keys = {1, 1, 1}, .group = "sorted_set", .since = "2.0.0",
         .summary = "Stores the union of multiple sorted sets in a key.",
         .syntax = "destination " + std::string(kWeighted), .handler = CmdZUnionStore,
         .key_finder = NumKeysAt2});
  t.Add({.name = "zinterstore", .arity = -4, .flags = kWrite | kDenyOom,
         .categories = kWriteCats, .keys = {1, 1, 1}, .group = "sorted_set", .since = "2.0.0",
         .summary = "Stores the intersect of multiple sorted sets in a key.",
         .syntax = "destination " + std::string(kWeighted), .handler = CmdZInterStore,
         .key_finder = NumKeysAt2});
  t.Add({.name = "zdiffstore", .arity = -4, .flags = kWrite | kDenyOom,
         .categories = kWriteCats, .keys = {1, 1, 1}, .group = "sorted_set", .since = "6.2.0",
         .summary = "Stores the difference of multiple sorted sets in a key.",
         .syntax = "destination numkeys key [key ...]", .handler = CmdZDiffStore,
         .key_finder = NumKeysAt2});
  t.Add({.name = "zintercard", .arity = -3, .flags = kReadOnly, .categories = kReadCats,
         .keys = {0, 0, 0}, .group = "sorted_set", .since = "7.0.0",
         .summary = "Returns the number of members of the intersect of multiple sorted sets.",
         .syntax = "numkeys key [key ...] [LIMIT limit]", .handler = CmdZInterCard,
         .key_finder = NumKeysAt1});
}
// clang-format on

}  // namespace runnel::commands::zsets
