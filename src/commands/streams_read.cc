// XREAD and XREADGROUP: reading new entries from several streams, reading through a consumer
// group (delivering into its PEL, or re-reading a consumer's pending history), and blocking
// until an entry arrives. Blocking itself belongs to the dispatcher: a read that finds nothing
// calls CommandContext::Block with arguments to re-run, and is re-run (is_retry) when a key is
// written.
#include <algorithm>
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

constexpr std::string_view kErrUnbalanced =
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
constexpr std::string_view kErrDollarInGroup =
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of "
    "this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would "
    "just return an empty result set.";
constexpr std::string_view kErrGreaterInRead =
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
    "<consumer> option.";
constexpr std::string_view kErrKeyGone = "UNBLOCKED the stream key no longer exists";
constexpr std::string_view kErrGroupGone =
    "NOGROUP the consumer group this client was blocked on no longer exists";

// The key positions of XREAD / XREADGROUP: the first half of the arguments after STREAMS. The
// handlers check that they parsed the same keys, so a command only touches locked shards.
void ReadKeyFinder(std::span<const std::string_view> args, std::vector<int>* out) {
  size_t streams = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (EqualsIgnoreCase(a, "block") || EqualsIgnoreCase(a, "count")) {
      ++i;
    } else if (EqualsIgnoreCase(a, "group")) {
      i += 2;
    } else if (EqualsIgnoreCase(a, "noack")) {
      continue;
    } else {
      if (EqualsIgnoreCase(a, "streams")) streams = i;
      break;
    }
  }
  size_t rest = streams == 0 ? 0 : args.size() - streams - 1;
  if (rest == 0 || rest % 2 != 0) return;
  for (size_t k = 0; k < rest / 2; ++k) out->push_back(static_cast<int>(streams + 1 + k));
}

struct ReadArgs {
  bool has_group = false;
  std::string_view group;
  std::string_view consumer;
  uint64_t count = 0;  // 0: no limit
  bool block = false;
  int64_t timeout_ms = 0;
  bool noack = false;
  size_t streams_pos = 0;  // index of the first key
  size_t nkeys = 0;
};

bool ParseTimeout(CommandContext& ctx, std::string_view arg, ReadArgs* a) {
  if (!ParseInt64(arg, &a->timeout_ms)) {
    ctx.Error("ERR timeout is not an integer or out of range");
    return false;
  }
  if (a->timeout_ms < 0) {
    ctx.Error("ERR timeout is negative");
    return false;
  }
  a->block = true;
  return true;
}

// One option at args[*i]; false after replying an error.
bool ParseReadOption(CommandContext& ctx, bool group_mode, size_t* i, ReadArgs* a) {
  std::string_view opt = ctx.arg(*i);
  size_t more = ctx.argc() - 1 - *i;
  int64_t n;
  if (EqualsIgnoreCase(opt, "block") && more > 0) return ParseTimeout(ctx, ctx.arg(++*i), a);
  if (EqualsIgnoreCase(opt, "count") && more > 0) {
    if (!ParseInteger(ctx, ctx.arg(++*i), &n)) return false;
    a->count = n < 0 ? 0 : static_cast<uint64_t>(n);
    return true;
  }
  if (EqualsIgnoreCase(opt, "group") && more >= 2) {
    if (!group_mode) {
      ctx.Error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      return false;
    }
    a->has_group = true;
    a->group = ctx.arg(*i + 1);
    a->consumer = ctx.arg(*i + 2);
    *i += 2;
    return true;
  }
  if (EqualsIgnoreCase(opt, "noack")) {
    if (!group_mode) {
      ctx.Error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      return false;
    }
    a->noack = true;
    return true;
  }
  ctx.Error(kErrSyntax);
  return false;
}

bool ParseReadArgs(CommandContext& ctx, bool group_mode, ReadArgs* a) {
  for (size_t i = 1; i < ctx.argc() && a->streams_pos == 0; ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "streams") && i + 1 < ctx.argc()) {
      if ((ctx.argc() - i - 1) % 2 != 0) {
        ctx.Error(kErrUnbalanced);
        return false;
      }
      a->streams_pos = i + 1;
      a->nkeys = (ctx.argc() - i - 1) / 2;
    } else if (!ParseReadOption(ctx, group_mode, &i, a)) {
      return false;
    }
  }
  if (a->streams_pos == 0) {
    ctx.Error(kErrSyntax);
    return false;
  }
  if (group_mode && !a->has_group) {
    ctx.Error("ERR Missing GROUP option for XREADGROUP");
    return false;
  }
  std::vector<int> keys;
  ReadKeyFinder(ctx.args(), &keys);
  if (keys.size() != a->nkeys || keys.front() != static_cast<int>(a->streams_pos)) {
    ctx.Error(kErrSyntax);  // not the keys the dispatcher locked
    return false;
  }
  return true;
}

// The reply's outer header (a map of key to entries in RESP3, an array of [key, entries] pairs
// in RESP2) and one key's header.
void ReplyKeysHeader(resp::ReplyWriter& out, size_t n) {
  out.protocol() >= 3 ? out.MapHeader(static_cast<int64_t>(n))
                      : out.ArrayHeader(static_cast<int64_t>(n));
}

void ReplyKeyHeader(resp::ReplyWriter& out, std::string_view key) {
  if (out.protocol() < 3) out.ArrayHeader(2);
  out.Bulk(key);
}

// Blocks with this command's arguments, `$` and `+` replaced by the IDs they stood for.
void BlockRead(CommandContext& ctx, const ReadArgs& a, const std::vector<std::string>& ids) {
  std::vector<std::string> keys, retry;
  for (size_t i = 0; i < ctx.argc(); ++i) retry.emplace_back(ctx.arg(i));
  for (size_t k = 0; k < a.nkeys; ++k) {
    keys.emplace_back(ctx.arg(a.streams_pos + k));
    if (!ids[k].empty()) retry[a.streams_pos + a.nkeys + k] = ids[k];
  }
  ctx.Block(std::move(keys), a.timeout_ms, std::move(retry));
}

// ---------------------------------------------------------------------------------------------
// XREAD
// ---------------------------------------------------------------------------------------------

// The ID after which XREAD reads `s` (null if missing). `$` is the last ID; `+` reads the last
// entry. *pinned gets the ID to block on in place of `$` / `+`.
bool ResolveReadId(CommandContext& ctx, std::string_view arg, const Stream* s, StreamId* after,
                   std::string* pinned) {
  StreamId last = s == nullptr ? StreamId{} : s->last_id();
  if (arg == "$" || (arg == "+" && (s == nullptr || s->length() == 0))) {
    *after = last;
    *pinned = IdString(last);
    return true;
  }
  if (arg == "+") {
    engine::StreamIterator it(*s, StreamId::Min(), StreamId::Max(), true);
    EntryView e;
    it.Next(&e);
    *after = e.id;
    after->Decrement();
    return true;
  }
  if (arg == ">") {
    ctx.Error(kErrGreaterInRead);
    return false;
  }
  return ParseId(ctx, arg, 0, after);
}

// A stream for a read; on a retry a key that is no longer a stream is skipped, not an error.
bool LookupForRead(CommandContext& ctx, engine::Db& db, std::string_view key, Stream** s) {
  if (ctx.is_retry()) {
    engine::Entry* e = db.Find(key);
    bool stream = e != nullptr && e->type == engine::ValueType::kStream;
    *s = stream ? static_cast<Stream*>(e->object()) : nullptr;
    return true;
  }
  bool failed;
  *s = FindStream(ctx, db, key, true, &failed);
  return !failed;
}

// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
void CmdXRead(CommandContext& ctx) {
  ReadArgs a;
  if (!ParseReadArgs(ctx, false, &a)) return;
  engine::Db db = ctx.db();
  std::vector<Stream*> streams(a.nkeys);
  std::vector<StreamId> after(a.nkeys);
  std::vector<std::string> pinned(a.nkeys);
  for (size_t k = 0; k < a.nkeys; ++k) {
    if (!LookupForRead(ctx, db, ctx.arg(a.streams_pos + k), &streams[k])) return;
    std::string_view id_arg = ctx.arg(a.streams_pos + a.nkeys + k);
    if (!ResolveReadId(ctx, id_arg, streams[k], &after[k], &pinned[k])) return;
  }
  std::vector<std::pair<size_t, uint64_t>> served;  // (key, entries), counted first
  for (size_t k = 0; k < a.nkeys; ++k) {
    if (streams[k] == nullptr || !after[k].Increment()) continue;
    uint64_t n = CountRange(*streams[k], after[k], StreamId::Max(), false, a.count);
    if (n > 0) served.emplace_back(k, n);
  }
  if (served.empty()) {
    if (a.block) return BlockRead(ctx, a, pinned);
    return ctx.out().NullArray();
  }
  ReplyKeysHeader(ctx.out(), served.size());
  for (auto [k, n] : served) {
    ReplyKeyHeader(ctx.out(), ctx.arg(a.streams_pos + k));
    ReplyRange(ctx.out(), *streams[k], after[k], StreamId::Max(), false, n,
               [](const EntryView&) {});
  }
}

// ---------------------------------------------------------------------------------------------
// XREADGROUP
// ---------------------------------------------------------------------------------------------

struct GroupRead {
  Stream* stream = nullptr;
  ConsumerGroup* group = nullptr;
  bool fresh = false;  // ">": entries never delivered to the group
  StreamId after;      // history: the consumer's pending entries after this ID
  StreamId start;      // the first ID to serve
  uint64_t n = 0;      // entries (or history IDs) to serve
  bool served = false;
};

// Validates one key of XREADGROUP: a stream, with the group, and an ID it accepts.
bool ResolveGroupRead(CommandContext& ctx, engine::Db& db, const ReadArgs& a, size_t k,
                      GroupRead* r) {
  std::string_view key = ctx.arg(a.streams_pos + k);
  engine::Entry* e = db.Find(key);
  auto& counter = e != nullptr ? ctx.stats().keyspace_hits : ctx.stats().keyspace_misses;
  counter.fetch_add(1, std::memory_order_relaxed);
  if (e == nullptr) ctx.Notify(kNotifyKeyMiss, "keymiss", key);
  bool stream = e != nullptr && e->type == engine::ValueType::kStream;
  if (ctx.is_retry() && !stream) {
    ctx.Error(kErrKeyGone);
    return false;
  }
  if (e != nullptr && !stream) {
    ctx.Error(kErrWrongType);
    return false;
  }
  r->stream = stream ? static_cast<Stream*>(e->object()) : nullptr;
  r->group = r->stream == nullptr ? nullptr : r->stream->FindGroup(a.group);
  if (r->group == nullptr) {
    ctx.Error(ctx.is_retry() ? std::string(kErrGroupGone)
                             : NoGroupOrKey(key, a.group, " in XREADGROUP with GROUP option"));
    return false;
  }
  std::string_view id_arg = ctx.arg(a.streams_pos + a.nkeys + k);
  if (id_arg == "$") {
    ctx.Error(kErrDollarInGroup);
    return false;
  }
  r->fresh = id_arg == ">";
  return r->fresh || ParseId(ctx, id_arg, 0, &r->after);
}

// Where the group will be for each key once the keys before it are served: a key named twice
// reads on from where its first mention stopped, as Redis serves keys one after the other.
using PlannedIds = std::vector<std::pair<std::string_view, StreamId>>;

// Counts what one key will serve: entries after the group's last ID, or the consumer's pending
// entries after the given ID. History is always served (maybe empty); new entries only if any.
void PlanGroupRead(const ReadArgs& a, std::string_view key, PlannedIds* planned, GroupRead* r) {
  r->start = r->fresh ? r->group->last_id : r->after;
  auto seen =
      std::find_if(planned->begin(), planned->end(), [&](const auto& p) { return p.first == key; });
  if (r->fresh && seen != planned->end()) r->start = seen->second;
  bool more = r->start.Increment();
  r->served = !r->fresh;
  if (!more) return;
  if (r->fresh) {
    StreamId last;
    r->n = CountRange(*r->stream, r->start, StreamId::Max(), false, a.count, &last);
    r->served = r->n > 0;
    if (r->served) planned->emplace_back(key, last);
    return;
  }
  engine::Consumer* c = r->group->FindConsumer(a.consumer);
  if (c == nullptr) return;
  for (auto cur = c->pending.LowerBound(r->start); cur.Valid(); cur.Next()) {
    if (a.count != 0 && r->n >= a.count) break;
    ++r->n;
  }
}

// Replies the planned new entries and delivers them to the consumer: into the PEL (unless
// NOACK), moving the group on.
void ReplyFresh(CommandContext& ctx, const ReadArgs& a, GroupRead& r, engine::Consumer* c,
                ClaimLog& log) {
  ReplyRange(ctx.out(), *r.stream, r.start, StreamId::Max(), false, r.n, [&](const EntryView& e) {
    if (!a.noack) {
      r.group->Deliver(e.id, c, ctx.now_ms());
      log.Claimed(e.id, ctx.now_ms(), 1);
    }
    r.stream->AdvanceGroup(r.group, e.id);
  });
  log.GroupMoved(r.group->last_id, r.group->entries_read);
}

// Replies the consumer's planned pending entries, counting a new delivery of each; deleted ones
// come back as IDs with no fields and are left as they are. True if any count changed.
bool ReplyHistory(CommandContext& ctx, GroupRead& r, engine::Consumer* c, ClaimLog& log) {
  resp::ReplyWriter& out = ctx.out();
  out.ArrayHeader(static_cast<int64_t>(r.n));
  bool changed = false;
  auto cur = c->pending.LowerBound(r.start);
  for (uint64_t i = 0; i < r.n; ++i, cur.Next()) {
    EntryView e;
    if (!r.stream->Get(*cur, &e)) {
      out.ArrayHeader(2);
      ReplyId(out, *cur);
      out.NullArray();
      continue;
    }
    ReplyEntry(out, e);
    uint64_t count = uint64_t{r.group->FindPending(*cur)->delivery_count} + 1;
    r.group->Touch(*cur, ctx.now_ms(), count);
    log.Claimed(*cur, ctx.now_ms(), count);
    changed = true;
  }
  return changed;
}

// The consumer named in the command, created if missing (a write that is logged).
engine::Consumer* ConsumerFor(CommandContext& ctx, std::string_view key, const ReadArgs& a,
                              ConsumerGroup* g, ClaimLog& log) {
  engine::Consumer* c = g->FindConsumer(a.consumer);
  if (c == nullptr) {
    c = g->CreateConsumer(a.consumer, ctx.now_ms());
    log.ConsumerCreated();
    ctx.Notify(kNotifyStream, "xgroup-createconsumer", key);
  }
  c->seen_time = ctx.now_ms();
  return c;
}

// Serves one planned key. As in Redis, the consumer is created (and its seen-time set) only
// when a key is served.
void ServeGroupRead(CommandContext& ctx, engine::Db& db, const ReadArgs& a, size_t k,
                    GroupRead& r) {
  std::string_view key = ctx.arg(a.streams_pos + k);
  ClaimLog log(ctx, key, a.group, a.consumer);
  bool created = r.group->FindConsumer(a.consumer) == nullptr;
  engine::Consumer* c = ConsumerFor(ctx, key, a, r.group, log);
  ReplyKeyHeader(ctx.out(), key);
  bool changed = r.fresh;
  if (r.fresh) {
    ReplyFresh(ctx, a, r, c, log);
  } else {
    changed = ReplyHistory(ctx, r, c, log);
  }
  if (r.n > 0) c->active_time = ctx.now_ms();
  if (changed || created) {
    db.Touched(key);
    log.Flush();
  }
}

// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK]
//   STREAMS key [key ...] id [id ...]
void CmdXReadGroup(CommandContext& ctx) {
  ReadArgs a;
  if (!ParseReadArgs(ctx, true, &a)) return;
  engine::Db db = ctx.db();
  std::vector<GroupRead> reads(a.nkeys);
  size_t served = 0;
  for (size_t k = 0; k < a.nkeys; ++k)
    if (!ResolveGroupRead(ctx, db, a, k, &reads[k])) return;
  PlannedIds planned;
  for (size_t k = 0; k < a.nkeys; ++k) {
    PlanGroupRead(a, ctx.arg(a.streams_pos + k), &planned, &reads[k]);
    served += reads[k].served ? 1 : 0;
  }
  if (served == 0) {
    if (a.block) return BlockRead(ctx, a, std::vector<std::string>(a.nkeys));
    return ctx.out().NullArray();
  }
  ReplyKeysHeader(ctx.out(), served);
  for (size_t k = 0; k < a.nkeys; ++k)
    if (reads[k].served) ServeGroupRead(ctx, db, a, k, reads[k]);
}

}  // namespace

// clang-format off
void RegisterReadCommands(CommandTable& t) {
  t.Add({.name = "xread", .arity = -4, .flags = kReadOnly | kBlocking,
         .categories = kCatRead | kCatStream | kCatSlow | kCatBlocking, .keys = {0, 0, 0},
         .group = "stream", .since = "5.0.0",
         .summary = "Returns messages from multiple streams with IDs greater than the ones "
                    "requested. Blocks until a message is available otherwise.",
         .syntax = "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id:string "
                   "[id:string ...]",
         .handler = CmdXRead, .key_finder = ReadKeyFinder});
  t.Add({.name = "xreadgroup", .arity = -7, .flags = kWrite | kBlocking,
         .categories = kCatWrite | kCatStream | kCatSlow | kCatBlocking, .keys = {0, 0, 0},
         .group = "stream", .since = "5.0.0",
         .summary = "Returns new or historical messages from a stream for a consumer in a "
                    "group. Blocks until a message is available otherwise.",
         .syntax = "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS "
                   "key [key ...] id:string [id:string ...]",
         .handler = CmdXReadGroup, .key_finder = ReadKeyFinder});
}
// clang-format on

}  // namespace runnel::commands::streams
