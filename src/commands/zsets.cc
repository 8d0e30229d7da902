// The sorted-set command family, part one: shared helpers (zsets_common.h), the single-member
// commands (ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK), ZRANDMEMBER, ZSCAN
// and the family's registration. Ranges live in zsets_range.cc, pops in zsets_pop.cc, unions,
// intersections and differences in zsets_algebra.cc.
#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/lookup.h"
#include "commands/random_reply.h"
#include "commands/scan_options.h"
#include "commands/sets_common.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "commands/zsets_common.h"
#include "common/config.h"
#include "common/glob.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "engine/random.h"
#include "engine/zset.h"

namespace runnel::commands {

namespace zsets {

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

engine::ZSetLimits Limits() {
  const Config& c = GlobalConfig();
  return {static_cast<uint64_t>(c.zset_max_listpack_entries.load(std::memory_order_relaxed)),
          static_cast<uint64_t>(c.zset_max_listpack_value.load(std::memory_order_relaxed))};
}

engine::Entry* FindZSetEntry(CommandContext& ctx, engine::Db& db, std::string_view key, bool read,
                             bool* failed) {
  return LookupTyped(ctx, db, key, engine::ValueType::kZSet, read, failed);
}

ZSet* CreateZSet(engine::Db& db, std::string_view key, size_t size_hint, size_t max_member_len,
                 const engine::ZSetLimits& limits) {
  ZSet* z = ZSet::Create(size_hint, max_member_len, limits).release();
  db.AddObject(key, engine::ValueType::kZSet, z);
  return z;
}

void Removed(CommandContext& ctx, engine::Db& db, std::string_view key, const ZSet* z,
             std::string_view event) {
  ctx.Notify(kNotifyZset, event, key);
  if (z->size() == 0) {
    db.Delete(key);
    ctx.Notify(kNotifyGeneric, "del", key);
  }
  db.Touched(key);
}

int64_t StoreResult(CommandContext& ctx, engine::Db& db, std::string_view dst,
                    std::unique_ptr<ZSet> result, std::string_view event) {
  const int64_t n = static_cast<int64_t>(result->size());
  const bool existed = db.Delete(dst);
  if (n == 0 && !existed) return 0;
  ZSet* stored = nullptr;
  if (n > 0) {
    result->ShrinkIfFits(Limits());
    stored = result.release();
    db.AddObject(dst, engine::ValueType::kZSet, stored);
    ctx.Notify(kNotifyZset, event, dst);
  } else {
    ctx.Notify(kNotifyGeneric, "del", dst);
  }
  db.Touched(dst);
  if (WantEffects(ctx) && KeysSpanShards(ctx)) {
    ctx.AddEffect({"DEL", std::string(dst)});
    if (stored != nullptr) {
      std::vector<std::pair<std::string, double>> elements;
      elements.reserve(stored->size());
      stored->ForEach([&](std::string_view m, double s) {
        elements.emplace_back(m, s);
        return true;
      });
      AddZAddEffects(ctx, dst, elements);
    }
  }
  return n;
}

namespace {

// One end of a score range: strtod over the text (up to an embedded NUL, leading spaces and
// overflow allowed), as Redis's zslParseRange reads it.
bool ParseScoreBound(std::string_view s, double* v, bool* exclusive) {
  *exclusive = !s.empty() && s[0] == '(';
  if (*exclusive) s.remove_prefix(1);
  CString c(s);
  char* stop;
  *v = std::strtod(c.c_str(), &stop);
  return *stop == '\0' && !std::isnan(*v);
}

bool ParseLexBound(std::string_view s, engine::LexBound* b) {
  using Kind = engine::LexBound::Kind;
  if (s == "+" || s == "-") {
    b->kind = s == "+" ? Kind::kPositiveInf : Kind::kNegativeInf;
    b->exclusive = true;
    return true;
  }
  if (s.empty() || (s[0] != '(' && s[0] != '[')) return false;
  b->kind = Kind::kMember;
  b->exclusive = s[0] == '(';
  b->member = s.substr(1);
  return true;
}

}  // namespace

bool ParseScoreRange(std::string_view min, std::string_view max, engine::ScoreRange* r) {
  return ParseScoreBound(min, &r->min, &r->min_exclusive) &&
         ParseScoreBound(max, &r->max, &r->max_exclusive);
}

bool ParseLexRange(std::string_view min, std::string_view max, engine::LexRange* r) {
  return ParseLexBound(min, &r->min) && ParseLexBound(max, &r->max);
}

bool ParseNumKeys(CommandContext& ctx, size_t at, std::string_view error, size_t* first_key,
                  size_t* nkeys) {
  int64_t n;
  if (!ParseInt64(ctx.arg(at), &n) || n < 1) {
    ctx.Error(error);
    return false;
  }
  if (static_cast<uint64_t>(n) > ctx.argc() - at - 1) {
    ctx.Error(kErrSyntax);
    return false;
  }
  *first_key = at + 1;
  *nkeys = static_cast<size_t>(n);
  return true;
}


std::string ScoreText(double score) {
  char buf[48];
  return std::string(buf, resp::FormatDouble(score, buf, sizeof(buf)));
}

void AddZAddEffects(CommandContext& ctx, std::string_view key,
                    const std::vector<std::pair<std::string, double>>& elements) {
  for (size_t i = 0; i < elements.size(); i += sets::kEffectBatch) {
    std::vector<std::string> argv{"ZADD", std::string(key)};
    const size_t end = std::min(elements.size(), i + sets::kEffectBatch);
    for (size_t j = i; j < end; ++j) {
      argv.push_back(ScoreText(elements[j].second));
      argv.push_back(elements[j].first);
    }
    ctx.AddEffect(std::move(argv));
  }
}

void AddZRemEffects(CommandContext& ctx, std::string_view key,
                    const std::vector<std::string>& members) {
  sets::AddMemberEffects(ctx, "ZREM", key, members);
}

}  // namespace zsets

namespace {

using namespace zsets;
using engine::Db;

constexpr std::string_view kErrNaN = "ERR resulting score is not a number (NaN)";
constexpr std::string_view kErrInvalidCursor = "ERR invalid cursor";

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY
// ---------------------------------------------------------------------------------------------

struct AddArgs {
  int flags = 0;
  bool ch = false;
  size_t first = 2;  // of the first score
  size_t pairs = 0;
};

// The options before the first score, and the checks Redis makes on them in its order.
bool ParseAddArgs(CommandContext& ctx, AddArgs* a) {
  for (; a->first < ctx.argc(); ++a->first) {
    std::string_view opt = ctx.arg(a->first);
    if (EqualsIgnoreCase(opt, "nx")) {
      a->flags |= engine::kZAddNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      a->flags |= engine::kZAddXx;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      a->flags |= engine::kZAddGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      a->flags |= engine::kZAddLt;
    } else if (EqualsIgnoreCase(opt, "incr")) {
      a->flags |= engine::kZAddIncr;
    } else if (EqualsIgnoreCase(opt, "ch")) {
      a->ch = true;
    } else {
      break;
    }
  }
  const size_t left = ctx.argc() - a->first;
  if (left == 0 || left % 2 != 0) return ctx.Error(kErrSyntax), false;
  a->pairs = left / 2;
  const int f = a->flags;
  if ((f & engine::kZAddNx) && (f & engine::kZAddXx))
    return ctx.Error("ERR XX and NX options at the same time are not compatible"), false;
  const int exclusive = engine::kZAddNx | engine::kZAddGt | engine::kZAddLt;
  if (std::popcount(static_cast<unsigned>(f & exclusive)) > 1)
    return ctx.Error("ERR GT, LT, and/or NX options at the same time are not compatible"), false;
  if ((f & engine::kZAddIncr) && a->pairs > 1)
    return ctx.Error("ERR INCR option supports a single increment-element pair"), false;
  return true;
}

// Applies the pairs; replies and logs as ZADD (or, with INCR, ZINCRBY) does.
void ApplyAdd(CommandContext& ctx, const AddArgs& a, const double* scores) {
  Db db = ctx.db();
  std::string_view key = ctx.arg(1);
  bool failed;
  ZSet* z = FindZSet(ctx, db, key, false, &failed);
  if (failed) return;
  const bool incr = (a.flags & engine::kZAddIncr) != 0;
  if (z == nullptr && (a.flags & engine::kZAddXx))
    return incr ? ctx.out().Null() : ctx.out().Integer(0);
  const engine::ZSetLimits limits = Limits();
  if (z == nullptr) {
    size_t longest = 0;
    for (size_t i = 0; i < a.pairs; ++i)
      longest = std::max(longest, ctx.arg(a.first + 2 * i + 1).size());
    z = CreateZSet(db, key, a.pairs, longest, limits);
  } else {
    z->PrepareFor(a.pairs, limits);
  }
  int64_t added = 0, updated = 0;
  ZSet::AddResult r{ZSet::AddResult::kSkipped, 0};
  for (size_t i = 0; i < a.pairs; ++i) {
    r = z->Add(ctx.arg(a.first + 2 * i + 1), scores[i], a.flags, limits);
    if (r.kind == ZSet::AddResult::kNaN) {
      ctx.Error(kErrNaN);
      break;
    }
    added += r.kind == ZSet::AddResult::kAdded ? 1 : 0;
    updated += r.kind == ZSet::AddResult::kUpdated ? 1 : 0;
  }
  if (added + updated > 0) {
    db.Touched(key);
    ctx.Notify(kNotifyZset, incr ? "zincr" : "zadd", key);
    if (incr && WantEffects(ctx))
      ctx.AddEffect(
          {"ZADD", std::string(key), ScoreText(r.score), std::string(ctx.arg(a.first + 1))});
  }
  if (z->size() == 0) db.Delete(key);  // nothing was added to a new key
  if (r.kind == ZSet::AddResult::kNaN) return;
  if (!incr) return ctx.out().Integer(a.ch ? added + updated : added);
  if (r.kind == ZSet::AddResult::kSkipped) return ctx.out().Null();
  ctx.out().Double(r.score);
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
void CmdZAdd(CommandContext& ctx) {
  AddArgs a;
  if (!ParseAddArgs(ctx, &a)) return;
  // Every score is parsed before anything changes; the common short ZADD needs no allocation.
  double small[16];
  std::unique_ptr<double[]> big;
  double* scores = small;
  if (a.pairs > std::size(small)) {
    big = std::make_unique<double[]>(a.pairs);
    scores = big.get();
  }
  for (size_t i = 0; i < a.pairs; ++i)
    if (!ParseDouble(ctx.arg(a.first + 2 * i), &scores[i])) return ctx.Error(kErrNotFloat);
  ApplyAdd(ctx, a, scores);
}

// ZINCRBY key increment member
void CmdZIncrBy(CommandContext& ctx) {
  AddArgs a{engine::kZAddIncr, false, 2, 1};
  double score;
  if (!ParseDouble(ctx.arg(2), &score)) return ctx.Error(kErrNotFloat);
  ApplyAdd(ctx, a, &score);
}

// ---------------------------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK
// ---------------------------------------------------------------------------------------------

// ZREM key member [member ...]
void CmdZRem(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  int64_t removed = 0;
  for (size_t i = 2; z != nullptr && i < ctx.argc() && z->size() > 0; ++i)
    removed += z->Remove(ctx.arg(i)) ? 1 : 0;
  if (removed > 0) Removed(ctx, db, ctx.arg(1), z, "zrem");
  ctx.out().Integer(removed);
}

// ZCARD key
void CmdZCard(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().Integer(z == nullptr ? 0 : static_cast<int64_t>(z->size()));
}

// ZSCORE key member
void CmdZScore(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  double s;
  if (z == nullptr || !z->Score(ctx.arg(2), &s)) return ctx.out().Null();
  ctx.out().Double(s);
}

// ZMSCORE key member [member ...]
void CmdZMScore(CommandContext& ctx) {
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().ArrayHeader(static_cast<int64_t>(ctx.argc() - 2));
  for (size_t i = 2; i < ctx.argc(); ++i) {
    double s;
    if (z != nullptr && z->Score(ctx.arg(i), &s)) {
      ctx.out().Double(s);
    } else {
      ctx.out().Null();
    }
  }
}

// ZRANK / ZREVRANK key member [WITHSCORE]
void Rank(CommandContext& ctx, bool reverse) {
  if (ctx.argc() > 4) return ctx.Error(WrongArgs(ctx.spec()->name));
  const bool with_score = ctx.argc() == 4;
  if (with_score && !EqualsIgnoreCase(ctx.arg(3), "withscore")) return ctx.Error(kErrSyntax);
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  uint64_t rank;
  double score;
  if (z == nullptr || !z->Rank(ctx.arg(2), reverse, &rank, &score))
    return with_score ? ctx.out().NullArray() : ctx.out().Null();
  if (with_score) ctx.out().ArrayHeader(2);
  ctx.out().Integer(static_cast<int64_t>(rank));
  if (with_score) ctx.out().Double(score);
}

void CmdZRank(CommandContext& ctx) { Rank(ctx, false); }
void CmdZRevRank(CommandContext& ctx) { Rank(ctx, true); }

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER
// ---------------------------------------------------------------------------------------------

// `n` elements drawn with repeats (a negative count, or 1).
void ReplyWithRepeats(CommandContext& ctx, const ZSet& z, uint64_t n, bool with_scores) {
  ElementsHeader(ctx.out(), n, with_scores);
  RepeatsLimit limit(ctx);
  z.Sample(n, ThreadRng(), [&](std::string_view m, double s) {
    ReplyElement(ctx.out(), m, s, with_scores);
    return limit.Sent();
  });
}

// `count` distinct elements, fewer than the set has, in random order.
void ReplyDistinct(CommandContext& ctx, const ZSet& z, uint64_t count, bool with_scores) {
  std::vector<std::pair<std::string, double>> picked;
  if (count * 3 > z.size() || z.encoding() == ZSet::Encoding::kListpack) {
    // A large share, or a small set: shuffle the front of a copy of all elements.
    z.ForEach([&](std::string_view m, double s) {
      picked.emplace_back(m, s);
      return true;
    });
    engine::PartialShuffle(&picked, count, ThreadRng());
    picked.resize(count);
  } else {
    std::unordered_set<std::string> seen;
    while (picked.size() < count) {
      z.Sample(1, ThreadRng(), [&](std::string_view m, double s) {
        if (seen.emplace(m).second) picked.emplace_back(m, s);
        return true;
      });
    }
  }
  ElementsHeader(ctx.out(), count, with_scores);
  for (const auto& [m, s] : picked) ReplyElement(ctx.out(), m, s, with_scores);
}

// ZRANDMEMBER key count [WITHSCORES]
void RandMemberWithCount(CommandContext& ctx) {
  int64_t count;
  if (!ParseInt64(ctx.arg(2), &count)) return ctx.Error(kErrNotInteger);
  if (count == INT64_MIN) return ctx.Error(kErrCountRange);
  const bool with_scores = ctx.argc() == 4;
  if (ctx.argc() > 4 || (with_scores && !EqualsIgnoreCase(ctx.arg(3), "withscores")))
    return ctx.Error(kErrSyntax);
  // The reply's length doubles with scores in RESP2: keep it representable.
  if (with_scores && (count < -INT64_MAX / 2 || count > INT64_MAX / 2))
    return ctx.Error("ERR value is out of range");
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  if (z == nullptr || count == 0) return ctx.out().EmptyArray();
  if (count < 0 || count == 1)
    return ReplyWithRepeats(ctx, *z, count < 0 ? -static_cast<uint64_t>(count) : 1, with_scores);
  if (static_cast<uint64_t>(count) >= z->size()) {
    // The whole set, highest first (the order Redis answers in).
    ElementsHeader(ctx.out(), z->size(), with_scores);
    z->RangeByRank(0, z->size() - 1, true, [&](std::string_view m, double s) {
      ReplyElement(ctx.out(), m, s, with_scores);
      return true;
    });
    return;
  }
  ReplyDistinct(ctx, *z, static_cast<uint64_t>(count), with_scores);
}

// ZRANDMEMBER key [count [WITHSCORES]]
void CmdZRandMember(CommandContext& ctx) {
  if (ctx.argc() >= 3) return RandMemberWithCount(ctx);
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  if (z == nullptr) return ctx.out().Null();
  z->Sample(1, ThreadRng(), [&](std::string_view m, double) {
    ctx.out().Bulk(m);
    return false;
  });
}

// ---------------------------------------------------------------------------------------------
// ZSCAN
// ---------------------------------------------------------------------------------------------

// ZSCAN key cursor [MATCH pattern] [COUNT count]
void CmdZScan(CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseScanCursor(ctx.arg(2), &cursor)) return ctx.Error(kErrInvalidCursor);
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  std::vector<std::pair<std::string, double>> found;
  uint64_t next = 0;
  if (z != nullptr) {
    ScanOptions opts;
    if (!ParseScanOptions(ctx, 3, false, &opts)) return;
    next = z->Scan(cursor, static_cast<uint64_t>(opts.count), [&](std::string_view m, double s) {
      if (opts.pattern.empty() || GlobMatch(opts.pattern, m)) found.emplace_back(m, s);
      return true;
    });
  }
  ctx.out().ArrayHeader(2);
  ctx.out().Bulk(std::to_string(next));
  ctx.out().ArrayHeader(static_cast<int64_t>(found.size() * 2));
  for (const auto& [m, s] : found) {
    ctx.out().Bulk(m);
    ctx.out().Bulk(ScoreText(s));
  }
}

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

constexpr KeySpec kOneKey = {1, 1, 1};
constexpr uint32_t kReadCats = kCatRead | kCatSortedSet;
constexpr uint32_t kWriteCats = kCatWrite | kCatSortedSet;

// clang-format off
void AddMemberCommands(CommandTable& t) {
  t.Add({.name = "zadd", .arity = -4, .flags = kWrite | kDenyOom | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "sorted_set",
         .since = "1.2.0", .summary = "Adds one or more members to a sorted set, or updates their "
                                      "scores. Creates the key if it doesn't exist.",
         .syntax = "key [NX|XX] [GT|LT] [CH] [INCR] score:double member [score:double member ...]",
         .handler = CmdZAdd});
  t.Add({.name = "zincrby", .arity = 4, .flags = kWrite | kDenyOom | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "sorted_set",
         .since = "1.2.0", .summary = "Increments the score of a member in a sorted set.",
         .syntax = "key increment member", .handler = CmdZIncrBy});
  t.Add({.name = "zrem", .arity = -3, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "sorted_set",
         .since = "1.2.0", .summary = "Removes one or more members from a sorted set. Deletes "
                                      "the sorted set if all members were removed.",
         .syntax = "key member [member ...]", .handler = CmdZRem});
  t.Add({.name = "zcard", .arity = 2, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "sorted_set",
         .since = "1.2.0", .summary = "Returns the number of members in a sorted set.",
         .syntax = "key", .handler = CmdZCard});
  t.Add({.name = "zscore", .arity = 3, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "sorted_set",
         .since = "1.2.0", .summary = "Returns the score of a member in a sorted set.",
         .syntax = "key member", .handler = CmdZScore});
  t.Add({.name = "zmscore", .arity = -3, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "sorted_set",
         .since = "6.2.0", .summary = "Returns the score of one or more members in a sorted set.",
         .syntax = "key member [member ...]", .handler = CmdZMScore});
  t.Add({.name = "zrank", .arity = -3, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "sorted_set",
         .since = "2.0.0", .summary = "Returns the index of a member in a sorted set ordered by "
                                      "ascending scores.",
         .syntax = "key member [WITHSCORE]", .handler = CmdZRank});
  t.Add({.name = "zrevrank", .arity = -3, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "sorted_set",
         .since = "2.0.0", .summary = "Returns the index of a member in a sorted set ordered by "
                                      "descending scores.",
         .syntax = "key member [WITHSCORE]", .handler = CmdZRevRank});
}

void AddRandomCommands(CommandTable& t) {
  t.Add({.name = "zrandmember", .arity = -2, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "sorted_set",
         .since = "6.2.0", .summary = "Returns one or more random members from a sorted set.",
         .syntax = "key [count [WITHSCORES]]", .handler = CmdZRandMember});
  t.Add({.name = "zscan", .arity = -3, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "sorted_set",
         .since = "2.8.0", .summary = "Iterates over members and scores of a sorted set.",
         .syntax = "key cursor [MATCH pattern] [COUNT count]", .handler = CmdZScan});
}
// clang-format on

}  // namespace

void RegisterZSets(CommandTable& t) {
  AddMemberCommands(t);
  AddRandomCommands(t);
  zsets::RegisterRangeCommands(t);
  zsets::RegisterPopCommands(t);
  zsets::RegisterAlgebraCommands(t);
}

}  // namespace runnel::commands
