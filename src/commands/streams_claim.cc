// XCLAIM and XAUTOCLAIM: moving pending entries between consumers of a group. A claimed entry
// is logged as an XCLAIM with the absolute delivery time and the final delivery count, and a
// pending entry dropped because its stream entry was deleted as an XACK, so replay does not
// depend on the clock.
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/streams_common.h"
#include "commands/table.h"
#include "common/util.h"
#include "engine/stream.h"

namespace runnel::commands::streams {

namespace {

using engine::Consumer;
using engine::PendingEntry;

// XAUTOCLAIM examines at most this many PEL entries per entry of COUNT.
constexpr int64_t kAttemptsFactor = 10;
// COUNT above this is refused as Redis refuses it (its bound keeps count * sizeof(ID) in range).
constexpr int64_t kMaxAutoClaimCount = INT64_MAX / 16;
// COUNT above this would make Redis fail to allocate its list of deleted IDs; runnel refuses it
// with Redis's out-of-memory error instead of depending on the machine.
constexpr int64_t kAutoClaimMemoryLimit = int64_t{1} << 30;

// The state one claiming command builds up: the consumer (created on first claim), what
// changed, and the log of it.
struct Claimer {
  Claimer(CommandContext& ctx, engine::Db& db, Stream* s, ConsumerGroup* g)
      : ctx(ctx), db(db), stream(s), group(g), log(ctx, ctx.arg(1), ctx.arg(2), ctx.arg(3)) {}
  CommandContext& ctx;
  engine::Db& db;
  Stream* stream;
  ConsumerGroup* group;
  ClaimLog log;
  Consumer* consumer = nullptr;
  bool changed = false;

  Consumer* Get() {
    if (consumer != nullptr) return consumer;
    consumer = group->FindConsumer(ctx.arg(3));
    if (consumer == nullptr) {
      consumer = group->CreateConsumer(ctx.arg(3), ctx.now_ms());
      log.ConsumerCreated();
      ctx.Notify(kNotifyStream, "xgroup-createconsumer", ctx.arg(1));
    }
    return consumer;
  }
  void Claim(StreamId id, int64_t time, uint64_t count) {
    group->Assign(id, Get(), time, count);
    consumer->active_time = ctx.now_ms();
    log.Claimed(id, time, count);
    changed = true;
  }
  // The entry is gone from the stream: drop it from the PEL.
  void Drop(StreamId id) {
    group->Ack(id);
    log.Dropped(id);
    changed = true;
  }
  void Finish() {
    if (Consumer* c = group->FindConsumer(ctx.arg(3))) c->seen_time = ctx.now_ms();
    if (!changed) return;
    db.Touched(ctx.arg(1));
    log.Flush();
  }
};

// The stream and group of a claiming command; replies WRONGTYPE or NOGROUP and returns false.
bool FindClaimTarget(CommandContext& ctx, engine::Db& db, Stream** s, ConsumerGroup** g) {
  bool failed;
  *s = FindStream(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return false;
  *g = *s == nullptr ? nullptr : (*s)->FindGroup(ctx.arg(2));
  if (*g == nullptr) ctx.Error(NoGroupOrKey(ctx.arg(1), ctx.arg(2)));
  return *g != nullptr;
}

bool ParseMinIdle(CommandContext& ctx, std::string_view command, int64_t* out) {
  if (!ParseInt64(ctx.arg(4), out)) {
    ctx.Error("ERR Invalid min-idle-time argument for " + std::string(command));
    return false;
  }
  if (*out < 0) *out = 0;
  return true;
}

void ReplyClaimed(CommandContext& ctx, const Stream& s, const std::vector<StreamId>& ids,
                  bool justid) {
  ctx.out().ArrayHeader(static_cast<int64_t>(ids.size()));
  for (StreamId id : ids) {
    EntryView e;
    if (justid || !s.Get(id, &e)) {
      ReplyId(ctx.out(), id);
    } else {
      ReplyEntry(ctx.out(), e);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// XCLAIM
// ---------------------------------------------------------------------------------------------

struct ClaimArgs {
  int64_t min_idle = 0;
  std::vector<StreamId> ids;
  int64_t time = -1;  // -1: not given
  int64_t retry_count = -1;
  bool force = false;
  bool justid = false;
  bool has_last_id = false;
  StreamId last_id;
};

bool ParseClaimNumber(CommandContext& ctx, std::string_view opt, std::string_view arg,
                      int64_t* out) {
  if (ParseInt64(arg, out)) return true;
  ctx.Error("ERR Invalid " + std::string(opt) + " option argument for XCLAIM");
  return false;
}

bool ParseClaimOption(CommandContext& ctx, size_t* i, ClaimArgs* a) {
  std::string_view opt = ctx.arg(*i);
  bool more = *i + 1 < ctx.argc();
  int64_t v;
  if (EqualsIgnoreCase(opt, "force")) {
    a->force = true;
  } else if (EqualsIgnoreCase(opt, "justid")) {
    a->justid = true;
  } else if (EqualsIgnoreCase(opt, "idle") && more) {
    if (!ParseClaimNumber(ctx, "IDLE", ctx.arg(++*i), &v)) return false;
    a->time = v < 0 || v > ctx.now_ms() ? -1 : ctx.now_ms() - v;  // -1 becomes now below
  } else if (EqualsIgnoreCase(opt, "time") && more) {
    if (!ParseClaimNumber(ctx, "TIME", ctx.arg(++*i), &a->time)) return false;
  } else if (EqualsIgnoreCase(opt, "retrycount") && more) {
    if (!ParseClaimNumber(ctx, "RETRYCOUNT", ctx.arg(++*i), &a->retry_count)) return false;
  } else if (EqualsIgnoreCase(opt, "lastid") && more) {
    if (!ParseId(ctx, ctx.arg(++*i), 0, &a->last_id)) return false;
    a->has_last_id = true;
  } else {
    ctx.Error("ERR Unrecognized XCLAIM option '" + std::string(opt) + "'");
    return false;
  }
  return true;
}

bool ParseClaimArgs(CommandContext& ctx, ClaimArgs* a) {
  if (!ParseMinIdle(ctx, "XCLAIM", &a->min_idle)) return false;
  size_t i = 5;
  StreamId id;
  for (; i < ctx.argc() && engine::ParseStreamId(ctx.arg(i), 0, &id); ++i) a->ids.push_back(id);
  for (; i < ctx.argc(); ++i)
    if (!ParseClaimOption(ctx, &i, a)) return false;
  // A time from the future (or before the epoch) is taken as now, as Redis does: clients
  // compute it from their own clocks.
  if (a->time < 0 || a->time > ctx.now_ms()) a->time = ctx.now_ms();
  return true;
}

// Claims one ID for XCLAIM; returns true if it goes in the reply.
bool ClaimOne(Claimer& cl, const ClaimArgs& a, StreamId id) {
  const PendingEntry* p = cl.group->FindPending(id);
  bool exists = cl.stream->Contains(id);
  uint64_t count = 1;
  if (p == nullptr) {
    if (!a.force || !exists) return false;
  } else if (!exists) {
    cl.Drop(id);
    return false;
  } else if (a.min_idle > 0 && cl.ctx.now_ms() - p->delivery_time < a.min_idle) {
    return false;
  } else {
    count = p->delivery_count;
  }
  if (a.retry_count >= 0) {
    count = static_cast<uint64_t>(a.retry_count);
  } else if (!a.justid) {
    ++count;
  }
  cl.Claim(id, a.time, count);
  return true;
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds]
//   [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
void CmdXClaim(CommandContext& ctx) {
  engine::Db db = ctx.db();
  Stream* s;
  ConsumerGroup* g;
  if (!FindClaimTarget(ctx, db, &s, &g)) return;
  ClaimArgs a;
  if (!ParseClaimArgs(ctx, &a)) return;
  Claimer cl(ctx, db, s, g);
  bool moved = a.has_last_id && a.last_id > g->last_id;
  if (moved) {
    g->last_id = a.last_id;
    cl.changed = true;
  }
  std::vector<StreamId> claimed;
  for (StreamId id : a.ids)
    if (ClaimOne(cl, a, id)) claimed.push_back(id);
  if (moved) cl.log.GroupMoved(g->last_id, g->entries_read);
  cl.Finish();
  ReplyClaimed(ctx, *s, claimed, a.justid);
}

// ---------------------------------------------------------------------------------------------
// XAUTOCLAIM
// ---------------------------------------------------------------------------------------------

struct AutoClaimArgs {
  int64_t min_idle = 0;
  StreamId start;
  int64_t count = 100;
  bool justid = false;
};

bool ParseAutoClaimArgs(CommandContext& ctx, AutoClaimArgs* a) {
  if (!ParseMinIdle(ctx, "XAUTOCLAIM", &a->min_idle)) return false;
  if (!ParseRangeBound(ctx, ctx.arg(5), true, &a->start)) return false;
  for (size_t i = 6; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "count") && i + 1 < ctx.argc()) {
      if (!ParseInt64(ctx.arg(++i), &a->count) || a->count < 1 || a->count > kMaxAutoClaimCount) {
        ctx.Error("ERR COUNT must be > 0");
        return false;
      }
    } else if (EqualsIgnoreCase(ctx.arg(i), "justid")) {
      a->justid = true;
    } else {
      ctx.Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

// Scans the group PEL from a.start; fills the claimed and deleted IDs and returns the cursor
// for the next call (0-0 when the scan reached the end).
StreamId AutoClaimScan(Claimer& cl, const AutoClaimArgs& a, std::vector<StreamId>* claimed,
                       std::vector<StreamId>* deleted) {
  int64_t count = a.count;
  int64_t attempts = count * kAttemptsFactor;
  StreamId pos = a.start;
  bool at_end = false;
  while (attempts-- > 0 && count > 0) {
    auto cur = cl.group->pel().LowerBound(pos);
    if (!cur.Valid()) break;
    const PendingEntry p = *cur;
    pos = p.id;
    at_end = !pos.Increment();
    if (!cl.stream->Contains(p.id)) {
      cl.Drop(p.id);
      deleted->push_back(p.id);
      --count;
    } else if (cl.ctx.now_ms() - p.delivery_time >= a.min_idle) {
      cl.Claim(p.id, cl.ctx.now_ms(), uint64_t{p.delivery_count} + (a.justid ? 0 : 1));
      claimed->push_back(p.id);
      --count;
    }
    if (at_end) break;
  }
  auto next = cl.group->pel().LowerBound(pos);
  return at_end || !next.Valid() ? StreamId{} : next->id;
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
void CmdXAutoClaim(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  AutoClaimArgs a;
  if (!ParseAutoClaimArgs(ctx, &a)) return;
  ConsumerGroup* g = s == nullptr ? nullptr : s->FindGroup(ctx.arg(2));
  if (g == nullptr) return ctx.Error(NoGroupOrKey(ctx.arg(1), ctx.arg(2)));
  if (a.count > kAutoClaimMemoryLimit)
    return ctx.Error(
        "ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
  Claimer cl(ctx, db, s, g);
  std::vector<StreamId> claimed, deleted;
  StreamId cursor = AutoClaimScan(cl, a, &claimed, &deleted);
  cl.Finish();
  ctx.out().ArrayHeader(3);
  ReplyId(ctx.out(), cursor);
  ReplyClaimed(ctx, *s, claimed, a.justid);
  ctx.out().ArrayHeader(static_cast<int64_t>(deleted.size()));
  for (StreamId id : deleted) ReplyId(ctx.out(), id);
}

}  // namespace

// clang-format off
void RegisterClaimCommands(CommandTable& t) {
  constexpr uint32_t kCats = kCatWrite | kCatStream | kCatFast;
  t.Add({.name = "xclaim", .arity = -6, .flags = kWrite | kFast, .categories = kCats,
         .keys = {1, 1, 1}, .group = "stream", .since = "5.0.0",
         .summary = "Changes, or acquires, ownership of a message in a consumer group, as if the "
                    "message was delivered a consumer group member.",
         .syntax = "key group consumer min-idle-time id:string [id:string ...] [IDLE ms] "
                   "[TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] "
                   "[LASTID lastid]",
         .handler = CmdXClaim});
  t.Add({.name = "xautoclaim", .arity = -6, .flags = kWrite | kFast, .categories = kCats,
         .keys = {1, 1, 1}, .group = "stream", .since = "6.2.0",
         .summary = "Changes, or acquires, ownership of messages in a consumer group, as if the "
                    "messages were delivered to as consumer group member.",
         .syntax = "key group consumer min-idle-time start:string [COUNT count] [JUSTID]",
         .handler = CmdXAutoClaim});
}
// clang-format on

}  // namespace runnel::commands::streams
