// XINFO: STREAM [FULL [COUNT n]], GROUPS, CONSUMERS and HELP. Replies are maps in RESP3 and
// flat name/value arrays in RESP2, with the fields Redis 7.2 reports.
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

constexpr int64_t kDefaultFullCount = 10;

// The stream an XINFO subcommand describes (args[2]); replies "no such key" or WRONGTYPE.
Stream* InfoStream(CommandContext& ctx, engine::Db& db) {
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(2), true, &failed);
  if (!failed && s == nullptr) ctx.Error(kErrNoSuchKey);
  return s;
}

void Field(resp::ReplyWriter& out, std::string_view name, int64_t v) {
  out.Bulk(name);
  out.Integer(v);
}

void Field(resp::ReplyWriter& out, std::string_view name, StreamId id) {
  out.Bulk(name);
  ReplyId(out, id);
}

// The fields XINFO STREAM has in both forms: the counters before the entries.
void ReplyStreamHead(resp::ReplyWriter& out, const Stream& s) {
  Field(out, "length", static_cast<int64_t>(s.length()));
  Field(out, "radix-tree-keys", static_cast<int64_t>(s.chunk_count()));
  Field(out, "radix-tree-nodes", static_cast<int64_t>(s.chunk_count() + 1));
  Field(out, "last-generated-id", s.last_id());
  Field(out, "max-deleted-entry-id", s.max_deleted_id());
  Field(out, "entries-added", static_cast<int64_t>(s.entries_added()));
  Field(out, "recorded-first-entry-id", s.FirstId());
}

void ReplyEdgeEntry(resp::ReplyWriter& out, const Stream& s, bool last) {
  engine::StreamIterator it(s, StreamId::Min(), StreamId::Max(), last);
  EntryView e;
  if (it.Next(&e)) {
    ReplyEntry(out, e);
  } else {
    out.Null();
  }
}

// entries-read and lag, each null when unknown.
void ReplyGroupCounters(resp::ReplyWriter& out, const Stream& s, const ConsumerGroup& g) {
  out.Bulk("entries-read");
  if (g.entries_read == engine::kUnknownEntriesRead) {
    out.Null();
  } else {
    out.Integer(g.entries_read);
  }
  out.Bulk("lag");
  int64_t lag;
  if (s.Lag(g, &lag)) {
    out.Integer(lag);
  } else {
    out.Null();
  }
}

void ReplyFullConsumer(CommandContext& ctx, const ConsumerGroup& g, const Consumer& c,
                       uint64_t count) {
  resp::ReplyWriter& out = ctx.out();
  out.MapHeader(5);
  out.Bulk("name");
  out.Bulk(c.name);
  Field(out, "seen-time", c.seen_time);
  Field(out, "active-time", c.active_time);
  Field(out, "pel-count", static_cast<int64_t>(c.pending.size()));
  out.Bulk("pending");
  uint64_t n = count == 0 ? c.pending.size() : std::min<uint64_t>(count, c.pending.size());
  out.ArrayHeader(static_cast<int64_t>(n));
  auto cur = c.pending.begin();
  for (uint64_t i = 0; i < n; ++i, cur.Next()) {
    const engine::PendingEntry* p = g.FindPending(*cur);
    out.ArrayHeader(3);
    ReplyId(out, p->id);
    out.Integer(p->delivery_time);
    out.Integer(p->delivery_count);
  }
}

void ReplyFullGroup(CommandContext& ctx, const Stream& s, const std::string& name,
                    const ConsumerGroup& g, uint64_t count) {
  resp::ReplyWriter& out = ctx.out();
  out.MapHeader(7);
  out.Bulk("name");
  out.Bulk(name);
  Field(out, "last-delivered-id", g.last_id);
  ReplyGroupCounters(out, s, g);
  Field(out, "pel-count", static_cast<int64_t>(g.pel().size()));
  out.Bulk("pending");
  uint64_t n = count == 0 ? g.pel().size() : std::min<uint64_t>(count, g.pel().size());
  out.ArrayHeader(static_cast<int64_t>(n));
  auto cur = g.pel().begin();
  for (uint64_t i = 0; i < n; ++i, cur.Next()) {
    out.ArrayHeader(4);
    ReplyId(out, cur->id);
    out.Bulk(g.ConsumerAt(cur->consumer)->name);
    out.Integer(cur->delivery_time);
    out.Integer(cur->delivery_count);
  }
  out.Bulk("consumers");
  out.ArrayHeader(static_cast<int64_t>(g.consumers().size()));
  for (const auto& [cname, c] : g.consumers()) ReplyFullConsumer(ctx, g, *c, count);
}

void ReplyStreamFull(CommandContext& ctx, const Stream& s, uint64_t count) {
  resp::ReplyWriter& out = ctx.out();
  out.MapHeader(9);
  ReplyStreamHead(out, s);
  out.Bulk("entries");
  ReplyRange(out, s, StreamId::Min(), StreamId::Max(), false, count);
  out.Bulk("groups");
  out.ArrayHeader(static_cast<int64_t>(s.groups().size()));
  for (const auto& [name, g] : s.groups()) ReplyFullGroup(ctx, s, name, *g, count);
}

// XINFO STREAM key [FULL [COUNT count]]
void CmdXInfoStream(CommandContext& ctx) {
  engine::Db db = ctx.db();
  Stream* s = InfoStream(ctx, db);
  if (s == nullptr) return;
  size_t argc = ctx.argc();
  bool full = argc > 3;
  if (full && (!EqualsIgnoreCase(ctx.arg(3), "full") || (argc != 4 && argc != 6) ||
               (argc == 6 && !EqualsIgnoreCase(ctx.arg(4), "count")))) {
    return ctx.Error(
        "ERR unknown subcommand or wrong number of arguments for 'stream'. Try "
        "XINFO HELP.");
  }
  int64_t count = kDefaultFullCount;
  if (argc == 6 && !ParseInteger(ctx, ctx.arg(5), &count)) return;
  if (full) return ReplyStreamFull(ctx, *s, count < 0 ? 0 : static_cast<uint64_t>(count));
  resp::ReplyWriter& out = ctx.out();
  out.MapHeader(10);
  ReplyStreamHead(out, *s);
  Field(out, "groups", static_cast<int64_t>(s->groups().size()));
  out.Bulk("first-entry");
  ReplyEdgeEntry(out, *s, false);
  out.Bulk("last-entry");
  ReplyEdgeEntry(out, *s, true);
}

// XINFO GROUPS key
void CmdXInfoGroups(CommandContext& ctx) {
  engine::Db db = ctx.db();
  Stream* s = InfoStream(ctx, db);
  if (s == nullptr) return;
  resp::ReplyWriter& out = ctx.out();
  out.ArrayHeader(static_cast<int64_t>(s->groups().size()));
  for (const auto& [name, g] : s->groups()) {
    out.MapHeader(6);
    out.Bulk("name");
    out.Bulk(name);
    Field(out, "consumers", static_cast<int64_t>(g->consumers().size()));
    Field(out, "pending", static_cast<int64_t>(g->pel().size()));
    Field(out, "last-delivered-id", g->last_id);
    ReplyGroupCounters(out, *s, *g);
  }
}

// XINFO CONSUMERS key group
void CmdXInfoConsumers(CommandContext& ctx) {
  engine::Db db = ctx.db();
  Stream* s = InfoStream(ctx, db);
  if (s == nullptr) return;
  ConsumerGroup* g = s->FindGroup(ctx.arg(3));
  if (g == nullptr) return ctx.Error(NoGroupForKey(ctx.arg(2), ctx.arg(3)));
  resp::ReplyWriter& out = ctx.out();
  out.ArrayHeader(static_cast<int64_t>(g->consumers().size()));
  for (const auto& [name, c] : g->consumers()) {
    out.MapHeader(4);
    out.Bulk("name");
    out.Bulk(name);
    Field(out, "pending", static_cast<int64_t>(c->pending.size()));
    Field(out, "idle", std::max<int64_t>(0, ctx.now_ms() - c->seen_time));
    Field(out, "inactive",
          c->active_time < 0 ? -1 : std::max<int64_t>(0, ctx.now_ms() - c->active_time));
  }
}

// XINFO HELP
void CmdXInfoHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CONSUMERS <key> <groupname>",
      "    Show consumers of <groupname>.",
      "GROUPS <key>",
      "    Show the stream consumer groups.",
      "STREAM <key> [FULL [COUNT <count>]",
      "    Show information about the stream.",
      "HELP",
      "    Prints this help.",
  };
  ctx.out().ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.out().Simple(line);
}

}  // namespace

// clang-format off
void RegisterInfoCommands(CommandTable& t) {
  constexpr KeySpec kInfoKey{2, 2, 1};
  constexpr uint32_t kCats = kCatRead | kCatStream | kCatSlow;
  auto& xinfo = t.Add({.name = "xinfo", .arity = -2, .flags = 0, .categories = kCatSlow,
                       .keys = {0, 0, 0}, .group = "stream", .since = "5.0.0",
                       .summary = "A container for stream introspection commands."});
  t.AddSub(xinfo, {.name = "stream", .arity = -3, .flags = kReadOnly, .categories = kCats,
                   .keys = kInfoKey, .since = "5.0.0", .summary = "Returns information about a stream.",
                   .syntax = "key [FULL [COUNT count]]", .handler = CmdXInfoStream});
  t.AddSub(xinfo, {.name = "groups", .arity = 3, .flags = kReadOnly, .categories = kCats,
                   .keys = kInfoKey, .since = "5.0.0",
                   .summary = "Returns a list of the consumer groups of a stream.",
                   .syntax = "key", .handler = CmdXInfoGroups});
  t.AddSub(xinfo, {.name = "consumers", .arity = 4, .flags = kReadOnly, .categories = kCats,
                   .keys = kInfoKey, .since = "5.0.0",
                   .summary = "Returns a list of the consumers in a consumer group.",
                   .syntax = "key group", .handler = CmdXInfoConsumers});
  t.AddSub(xinfo, {.name = "help", .arity = 2, .flags = kLoading | kStale,
                   .categories = kCatStream | kCatSlow, .keys = {0, 0, 0}, .since = "5.0.0",
                   .summary = "Returns helpful text about the different subcommands.",
                   .syntax = "", .handler = CmdXInfoHelp});
}
// clang-format on

}  // namespace runnel::commands::streams
