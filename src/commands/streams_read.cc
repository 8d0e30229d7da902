// XREAD and XREADGROUP: reading new entries from several streams, reading through a consumer
// group (delivering into its PEL, or re-reading a consumer's pending history), and blocking
// until an entry arrives. Blocking itself belongs to the dispatcher: a read that finds nothing
// calls CommandContext::Block with arguments to re-run, and is re-run (is_retry) when a key is
// written.
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
  if (group_mode && a->group.empty()) {
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

// What one key of a read returns: entries (or, for a consumer's history, IDs whose entries
// were deleted, with `deleted` set).
struct ReadItem {
  EntryView entry;
  bool deleted = false;
};
struct KeyResult {
  size_t key = 0;  // argument index
  std::vector<ReadItem> items;
};

void ReplyResults(CommandContext& ctx, const std::vector<KeyResult>& results) {
  resp::ReplyWriter& out = ctx.out();
  const bool map = out.protocol() >= 3;
  map ? out.MapHeader(static_cast<int64_t>(results.size()))
      : out.ArrayHeader(static_cast<int64_t>(results.size()));
  for (const KeyResult& r : results) {
    if (!map) out.ArrayHeader(2);
    out.Bulk(ctx.arg(r.key));
    out.ArrayHeader(static_cast<int64_t>(r.items.size()));
    for (const ReadItem& item : r.items) {
      if (!item.deleted) {
        ReplyEntry(out, item.entry);
        continue;
      }
      out.ArrayHeader(2);
      ReplyId(out, item.entry.id);
      out.NullArray();
    }
  }
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
  std::vector<KeyResult> results;
  for (size_t k = 0; k < a.nkeys; ++k) {
    StreamId start = after[k];
    if (streams[k] == nullptr || !start.Increment()) continue;
    KeyResult r{a.streams_pos + k, {}};
    for (const EntryView& e : CollectRange(*streams[k], start, StreamId::Max(), false, a.count))
      r.items.push_back({e, false});
    if (!r.items.empty()) results.push_back(std::move(r));
  }
  if (!results.empty()) return ReplyResults(ctx, results);
  if (a.block) return BlockRead(ctx, a, pinned);
  ctx.out().NullArray();
}

// ---------------------------------------------------------------------------------------------
// XREADGROUP
// ---------------------------------------------------------------------------------------------

struct GroupRead {
  Stream* stream = nullptr;
  ConsumerGroup* group = nullptr;
  bool fresh = false;  // ">": entries never delivered to the group
  StreamId after;      // history: the consumer's pending entries after this ID
};

// Validates one key of XREADGROUP: a stream, with the group, and an ID it accepts.
bool ResolveGroupRead(CommandContext& ctx, engine::Db& db, const ReadArgs& a, size_t k,
                      GroupRead* r) {
  std::string_view key = ctx.arg(a.streams_pos + k);
  engine::Entry* e = db.Find(key);
  ctx.stats().keyspace_hits.fetch_add(e != nullptr ? 1 : 0, std::memory_order_relaxed);
  ctx.stats().keyspace_misses.fetch_add(e == nullptr ? 1 : 0, std::memory_order_relaxed);
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

// Effects that replay a delivery: the entry claimed by the consumer with its time and count.
void AddClaimEffect(CommandContext& ctx, std::string_view key, std::string_view group,
                    std::string_view consumer, StreamId id, int64_t time, uint64_t count) {
  ctx.AddEffect({"XCLAIM", std::string(key), std::string(group), std::string(consumer), "0",
                 IdString(id), "TIME", std::to_string(time), "RETRYCOUNT", std::to_string(count),
                 "FORCE", "JUSTID"});
}

// Entries after the group's last ID, at most COUNT.
std::vector<EntryView> FreshEntries(const ReadArgs& a, const GroupRead& r) {
  StreamId start = r.group->last_id;
  if (!start.Increment()) return {};
  return CollectRange(*r.stream, start, StreamId::Max(), false, a.count);
}

// Delivers fresh entries to the consumer: into the PEL (unless NOACK), moving the group on.
void Deliver(CommandContext& ctx, const ReadArgs& a, std::string_view key, GroupRead& r,
             engine::Consumer* c, const std::vector<EntryView>& entries, KeyResult* out) {
  for (const EntryView& e : entries) {
    if (!a.noack) r.group->Deliver(e.id, c, ctx.now_ms());
    r.stream->AdvanceGroup(r.group, e.id);
    if (!a.noack) AddClaimEffect(ctx, key, a.group, a.consumer, e.id, ctx.now_ms(), 1);
    out->items.push_back({e, false});
  }
  ctx.AddEffect({"XGROUP", "SETID", std::string(key), std::string(a.group),
                 IdString(r.group->last_id), "ENTRIESREAD", std::to_string(r.group->entries_read)});
}

// Re-delivers the consumer's own pending entries after r.after; deleted ones come back as IDs
// with no fields and are left as they are.
bool ReadHistory(CommandContext& ctx, const ReadArgs& a, std::string_view key, GroupRead& r,
                 engine::Consumer* c, KeyResult* out) {
  StreamId start = r.after;
  if (!start.Increment()) return false;
  bool changed = false;
  for (auto cur = c->pending.LowerBound(start); cur.Valid(); cur.Next()) {
    if (a.count != 0 && out->items.size() >= a.count) break;
    ReadItem item;
    item.deleted = !r.stream->Get(*cur, &item.entry);
    item.entry.id = *cur;
    if (!item.deleted) {
      uint64_t count = uint64_t{r.group->FindPending(*cur)->delivery_count} + 1;
      r.group->Touch(*cur, ctx.now_ms(), count);
      AddClaimEffect(ctx, key, a.group, a.consumer, *cur, ctx.now_ms(), count);
      changed = true;
    }
    out->items.push_back(item);
  }
  return changed;
}

// The consumer named in the command, created if missing (a write that is logged).
engine::Consumer* ConsumerFor(CommandContext& ctx, const ReadArgs& a, std::string_view key,
                              ConsumerGroup* g, bool* created) {
  engine::Consumer* c = g->FindConsumer(a.consumer);
  *created = c == nullptr;
  if (c == nullptr) {
    c = g->CreateConsumer(a.consumer, ctx.now_ms());
    ctx.AddEffect({"XGROUP", "CREATECONSUMER", std::string(key), std::string(a.group),
                   std::string(a.consumer)});
  }
  c->seen_time = ctx.now_ms();
  return c;
}

// Serves one key; adds its result if it has one (history always has one, maybe empty). As in
// Redis, the consumer is created (and its seen-time set) only when the key is served.
void ServeGroupRead(CommandContext& ctx, engine::Db& db, const ReadArgs& a, size_t k,
                    GroupRead& r, std::vector<KeyResult>* results) {
  std::string_view key = ctx.arg(a.streams_pos + k);
  std::vector<EntryView> fresh;
  if (r.fresh && (fresh = FreshEntries(a, r)).empty()) return;
  bool created;
  engine::Consumer* c = ConsumerFor(ctx, a, key, r.group, &created);
  KeyResult result{a.streams_pos + k, {}};
  bool changed = !fresh.empty();
  if (r.fresh) {
    Deliver(ctx, a, key, r, c, fresh, &result);
  } else {
    changed = ReadHistory(ctx, a, key, r, c, &result);
  }
  if (!result.items.empty()) c->active_time = ctx.now_ms();
  if (changed || created) db.Touched(key);
  results->push_back(std::move(result));
}

// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK]
//   STREAMS key [key ...] id [id ...]
void CmdXReadGroup(CommandContext& ctx) {
  ReadArgs a;
  if (!ParseReadArgs(ctx, true, &a)) return;
  engine::Db db = ctx.db();
  std::vector<GroupRead> reads(a.nkeys);
  for (size_t k = 0; k < a.nkeys; ++k)
    if (!ResolveGroupRead(ctx, db, a, k, &reads[k])) return;
  std::vector<KeyResult> results;
  for (size_t k = 0; k < a.nkeys; ++k) ServeGroupRead(ctx, db, a, k, reads[k], &results);
  if (!results.empty()) return ReplyResults(ctx, results);
  if (a.block) return BlockRead(ctx, a, std::vector<std::string>(a.nkeys));
  ctx.out().NullArray();
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
