// The sorted-set command family, part two: ranges. ZRANGE with BYSCORE, BYLEX, REV, LIMIT and
// WITHSCORES, ZRANGESTORE, the older ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX and
// ZREVRANGEBYLEX (each one ZRANGE with some options fixed), ZCOUNT, ZLEXCOUNT and the range
// removals ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX. Arguments are parsed in the
// order Redis parses them, so the same bad command gets the same error.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/table.h"
#include "commands/zsets_common.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "engine/zset.h"

namespace runnel::commands::zsets {

namespace {

using engine::Db;

enum class RangeType { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

struct RangeRequest {
  RangeType type = RangeType::kAuto;
  bool reverse = false;
  bool with_scores = false;
  int64_t offset = 0;
  int64_t limit = -1;           // -1: no LIMIT (or a negative count: everything)
  int64_t start = 0, stop = 0;  // by rank
  engine::ScoreRange scores;
  engine::LexRange lex;
};

// Redis's rank arithmetic: negative ranks count from the end; false when the range is empty.
bool ClampRanks(int64_t start, int64_t stop, int64_t len, int64_t* out_start, int64_t* out_stop) {
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return false;
  *out_start = start;
  *out_stop = std::min(stop, len - 1);
  return true;
}

// The options after min and max (from args[at]); `type` and `dir` are fixed by the older
// commands and kAuto for ZRANGE/ZRANGESTORE.
bool ParseRangeOptions(CommandContext& ctx, size_t at, bool store, RangeType type, Direction dir,
                       RangeRequest* req) {
  for (size_t i = at; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    const size_t left = ctx.argc() - i - 1;
    if (!store && EqualsIgnoreCase(a, "withscores")) {
      req->with_scores = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      if (!ParseInt64(ctx.arg(i + 1), &req->offset) || !ParseInt64(ctx.arg(i + 2), &req->limit))
        return ctx.Error(kErrNotInteger), false;
      i += 2;
    } else if (dir == Direction::kAuto && EqualsIgnoreCase(a, "rev")) {
      dir = Direction::kReverse;
    } else if (type == RangeType::kAuto && EqualsIgnoreCase(a, "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && EqualsIgnoreCase(a, "byscore")) {
      type = RangeType::kScore;
    } else {
      return ctx.Error(kErrSyntax), false;
    }
  }
  req->type = type == RangeType::kAuto ? RangeType::kRank : type;
  req->reverse = dir == Direction::kReverse;
  if (req->limit != -1 && req->type == RangeType::kRank) {
    return ctx.Error(
               "ERR syntax error, LIMIT is only supported in combination with either "
               "BYSCORE or BYLEX"),
           false;
  }
  if (req->with_scores && req->type == RangeType::kLex)
    return ctx.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX"), false;
  return true;
}

// Parses min and max at args[at], args[at + 1] (max first for reversed score and lex ranges).
bool ParseRangeBounds(CommandContext& ctx, size_t at, RangeRequest* req) {
  std::string_view min = ctx.arg(at), max = ctx.arg(at + 1);
  if (req->reverse && req->type != RangeType::kRank) std::swap(min, max);
  switch (req->type) {
    case RangeType::kScore:
      if (!ParseScoreRange(min, max, &req->scores)) return ctx.Error(kErrMinMaxFloat), false;
      return true;
    case RangeType::kLex:
      if (!ParseLexRange(min, max, &req->lex)) return ctx.Error(kErrMinMaxLex), false;
      return true;
    default:
      if (!ParseInt64(min, &req->start) || !ParseInt64(max, &req->stop))
        return ctx.Error(kErrNotInteger), false;
      return true;
  }
}

// How many elements the request selects from `z`.
uint64_t SelectedCount(const ZSet& z, const RangeRequest& req) {
  if (req.type == RangeType::kRank) {
    int64_t start, stop;
    if (!ClampRanks(req.start, req.stop, static_cast<int64_t>(z.size()), &start, &stop)) return 0;
    return static_cast<uint64_t>(stop - start + 1);
  }
  if (req.offset < 0) return 0;
  const uint64_t total =
      req.type == RangeType::kScore ? z.CountByScore(req.scores) : z.CountByLex(req.lex);
  const uint64_t offset = static_cast<uint64_t>(req.offset);
  if (offset >= total) return 0;
  const uint64_t left = total - offset;
  return req.limit < 0 ? left : std::min(left, static_cast<uint64_t>(req.limit));
}

// Walks the `n` selected elements of `z` in reply order.
void WalkSelected(const ZSet& z, const RangeRequest& req, uint64_t n, engine::ElementVisitor fn) {
  switch (req.type) {
    case RangeType::kRank: {
      int64_t start, stop;
      if (!ClampRanks(req.start, req.stop, static_cast<int64_t>(z.size()), &start, &stop)) return;
      return z.RangeByRank(static_cast<uint64_t>(start), static_cast<uint64_t>(stop), req.reverse,
                           fn);
    }
    case RangeType::kScore:
      return z.RangeByScore(req.scores, req.reverse, static_cast<uint64_t>(req.offset), n, fn);
    default:
      return z.RangeByLex(req.lex, req.reverse, static_cast<uint64_t>(req.offset), n, fn);
  }
}

// ZRANGE and every variant: `first` is the source key's position (after ZRANGESTORE's
// destination).
void RangeCommand(CommandContext& ctx, size_t first, bool store, RangeType type, Direction dir) {
  RangeRequest req;
  if (!ParseRangeOptions(ctx, first + 3, store, type, dir, &req)) return;
  if (!ParseRangeBounds(ctx, first + 1, &req)) return;
  Db db = ctx.db();
  bool failed;
  const ZSet* z = FindZSet(ctx, db, ctx.arg(first), true, &failed);
  if (failed) return;
  const uint64_t n = z == nullptr ? 0 : SelectedCount(*z, req);
  if (!store) {
    ElementsHeader(ctx.out(), n, req.with_scores);
    if (n == 0) return;
    WalkSelected(*z, req, n, [&](std::string_view m, double s) {
      ReplyElement(ctx.out(), m, s, req.with_scores);
      return true;
    });
    return;
  }
  const engine::ZSetLimits limits = Limits();
  auto result = ZSet::Create(n, 0, limits);
  if (n > 0) {
    WalkSelected(*z, req, n, [&](std::string_view m, double s) {
      result->Add(m, s, 0, limits);
      return true;
    });
  }
  ctx.out().Integer(StoreResult(ctx, db, ctx.arg(1), std::move(result), "zrangestore"));
}

// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
void CmdZRange(CommandContext& ctx) {
  RangeCommand(ctx, 1, false, RangeType::kAuto, Direction::kAuto);
}
// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
void CmdZRangeStore(CommandContext& ctx) {
  RangeCommand(ctx, 2, true, RangeType::kAuto, Direction::kAuto);
}
// ZREVRANGE key start stop [WITHSCORES]
void CmdZRevRange(CommandContext& ctx) {
  RangeCommand(ctx, 1, false, RangeType::kRank, Direction::kReverse);
}
// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
void CmdZRangeByScore(CommandContext& ctx) {
  RangeCommand(ctx, 1, false, RangeType::kScore, Direction::kForward);
}
// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
void CmdZRevRangeByScore(CommandContext& ctx) {
  RangeCommand(ctx, 1, false, RangeType::kScore, Direction::kReverse);
}
// ZRANGEBYLEX key min max [LIMIT offset count]
void CmdZRangeByLex(CommandContext& ctx) {
  RangeCommand(ctx, 1, false, RangeType::kLex, Direction::kForward);
}
// ZREVRANGEBYLEX key max min [LIMIT offset count]
void CmdZRevRangeByLex(CommandContext& ctx) {
  RangeCommand(ctx, 1, false, RangeType::kLex, Direction::kReverse);
}

// ---------------------------------------------------------------------------------------------
// ZCOUNT, ZLEXCOUNT
// ---------------------------------------------------------------------------------------------

// ZCOUNT key min max
void CmdZCount(CommandContext& ctx) {
  engine::ScoreRange r;
  if (!ParseScoreRange(ctx.arg(2), ctx.arg(3), &r)) return ctx.Error(kErrMinMaxFloat);
  Db db = ctx.db();
  bool failed;
  const ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().Integer(z == nullptr ? 0 : static_cast<int64_t>(z->CountByScore(r)));
}

// ZLEXCOUNT key min max
void CmdZLexCount(CommandContext& ctx) {
  engine::LexRange r;
  if (!ParseLexRange(ctx.arg(2), ctx.arg(3), &r)) return ctx.Error(kErrMinMaxLex);
  Db db = ctx.db();
  bool failed;
  const ZSet* z = FindZSet(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().Integer(z == nullptr ? 0 : static_cast<int64_t>(z->CountByLex(r)));
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX
// ---------------------------------------------------------------------------------------------

// Runs `remove` on the set at args[1] and replies how many elements went.
template <class Remove>
void RemoveRange(CommandContext& ctx, std::string_view event, Remove remove) {
  Db db = ctx.db();
  bool failed;
  ZSet* z = FindZSet(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  const uint64_t removed = z == nullptr ? 0 : remove(z);
  if (removed > 0) Removed(ctx, db, ctx.arg(1), z, event);
  ctx.out().Integer(static_cast<int64_t>(removed));
}

// ZREMRANGEBYRANK key start stop
void CmdZRemRangeByRank(CommandContext& ctx) {
  int64_t start, stop;
  if (!ParseInt64(ctx.arg(2), &start) || !ParseInt64(ctx.arg(3), &stop))
    return ctx.Error(kErrNotInteger);
  RemoveRange(ctx, "zremrangebyrank", [&](ZSet* z) -> uint64_t {
    int64_t from, to;
    if (!ClampRanks(start, stop, static_cast<int64_t>(z->size()), &from, &to)) return 0;
    return z->RemoveRangeByRank(static_cast<uint64_t>(from), static_cast<uint64_t>(to));
  });
}

// ZREMRANGEBYSCORE key min max
void CmdZRemRangeByScore(CommandContext& ctx) {
  engine::ScoreRange r;
  if (!ParseScoreRange(ctx.arg(2), ctx.arg(3), &r)) return ctx.Error(kErrMinMaxFloat);
  RemoveRange(ctx, "zremrangebyscore", [&](ZSet* z) { return z->RemoveRangeByScore(r); });
}

// ZREMRANGEBYLEX key min max
void CmdZRemRangeByLex(CommandContext& ctx) {
  engine::LexRange r;
  if (!ParseLexRange(ctx.arg(2), ctx.arg(3), &r)) return ctx.Error(kErrMinMaxLex);
  RemoveRange(ctx, "zremrangebylex", [&](ZSet* z) { return z->RemoveRangeByLex(r); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

// clang-format off
void RegisterRangeCommands(CommandTable& t) {
  constexpr uint32_t kReadCats = kCatRead | kCatSortedSet | kCatSlow;
  constexpr uint32_t kWriteCats = kCatWrite | kCatSortedSet | kCatSlow;
  constexpr KeySpec kOneKey = {1, 1, 1};
  t.Add({.name = "zrange", .arity = -4, .flags = kReadOnly, .categories = kReadCats,
         .keys = kOneKey, .group = "sorted_set", .since = "1.2.0",
         .summary = "Returns members in a sorted set within a range of indexes.",
         .syntax = "key start:string stop:string [BYSCORE|BYLEX] [REV] [LIMIT offset count] "
                   "[WITHSCORES]",
         .handler = CmdZRange});
  t.Add({.name = "zrangestore", .arity = -5, .flags = kWrite | kDenyOom,
         .categories = kWriteCats, .keys = {1, 2, 1}, .group = "sorted_set", .since = "6.2.0",
         .summary = "Stores a range of members from sorted set in a key.",
         .syntax = "dst:key src:key min:string max:string [BYSCORE|BYLEX] [REV] "
                   "[LIMIT offset count]",
         .handler = CmdZRangeStore});
  t.Add({.name = "zrevrange", .arity = -4, .flags = kReadOnly, .categories = kReadCats,
         .keys = kOneKey, .group = "sorted_set", .since = "1.2.0",
         .summary = "Returns members in a sorted set within a range of indexes in reverse order.",
         .syntax = "key start stop [WITHSCORES]", .handler = CmdZRevRange});
  t.Add({.name = "zrangebyscore", .arity = -4, .flags = kReadOnly, .categories = kReadCats,
         .keys = kOneKey, .group = "sorted_set", .since = "1.0.5",
         .summary = "Returns members in a sorted set within a range of scores.",
         .syntax = "key min:double max:double [WITHSCORES] [LIMIT offset count]",
         .handler = CmdZRangeByScore});
  t.Add({.name = "zrevrangebyscore", .arity = -4, .flags = kReadOnly, .categories = kReadCats,
         .keys = kOneKey, .group = "sorted_set", .since = "2.2.0",
         .summary = "Returns members in a sorted set within a range of scores in reverse order.",
         .syntax = "key max:double min:double [WITHSCORES] [LIMIT offset count]",
         .handler = CmdZRevRangeByScore});
  t.Add({.name = "zrangebylex", .arity = -4, .flags = kReadOnly, .categories = kReadCats,
         .keys = kOneKey, .group = "sorted_set", .since = "2.8.9",
         .summary = "Returns members in a sorted set within a lexicographical range.",
         .syntax = "key min max [LIMIT offset count]", .handler = CmdZRangeByLex});
  t.Add({.name = "zrevrangebylex", .arity = -4, .flags = kReadOnly, .categories = kReadCats,
         .keys = kOneKey, .group = "sorted_set", .since = "2.8.9",
         .summary = "Returns members in a sorted set within a lexicographical range in reverse "
                    "order.",
         .syntax = "key max min [LIMIT offset count]", .handler = CmdZRevRangeByLex});
  t.Add({.name = "zcount", .arity = 4, .flags = kReadOnly | kFast,
         .categories = kCatRead | kCatSortedSet | kCatFast, .keys = kOneKey,
         .group = "sorted_set", .since = "2.0.0",
         .summary = "Returns the count of members in a sorted set that have scores within a "
                    "range.",
         .syntax = "key min:double max:double", .handler = CmdZCount});
  t.Add({.name = "zlexcount", .arity = 4, .flags = kReadOnly | kFast,
         .categories = kCatRead | kCatSortedSet | kCatFast, .keys = kOneKey,
         .group = "sorted_set", .since = "2.8.9",
         .summary = "Returns the number of members in a sorted set within a lexicographical "
                    "range.",
         .syntax = "key min max", .handler = CmdZLexCount});
  t.Add({.name = "zremrangebyrank", .arity = 4, .flags = kWrite, .categories = kWriteCats,
         .keys = kOneKey, .group = "sorted_set", .since = "2.0.0",
         .summary = "Removes members in a sorted set within a range of indexes. Deletes the "
                    "sorted set if all members were removed.",
         .syntax = "key start stop", .handler = CmdZRemRangeByRank});
  t.Add({.name = "zremrangebyscore", .arity = 4, .flags = kWrite, .categories = kWriteCats,
         .keys = kOneKey, .group = "sorted_set", .since = "1.2.0",
         .summary = "Removes members in a sorted set within a range of scores. Deletes the "
                    "sorted set if all members were removed.",
         .syntax = "key min:double max:double", .handler = CmdZRemRangeByScore});
  t.Add({.name = "zremrangebylex", .arity = 4, .flags = kWrite, .categories = kWriteCats,
         .keys = kOneKey, .group = "sorted_set", .since = "2.8.9",
         .summary = "Removes members in a sorted set within a lexicographical range. Deletes the "
                    "sorted set if all members were removed.",
         .syntax = "key min max", .handler = CmdZRemRangeByLex});
}
// clang-format on

}  // namespace runnel::commands::zsets
