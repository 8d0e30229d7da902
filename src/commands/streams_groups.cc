// Consumer-group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP),
// XACK, XPENDING, XCLAIM and XAUTOCLAIM. Writes that depend on the clock (claims) are logged as
// XCLAIM effects with absolute times and counts.
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

constexpr std::string_view kErrKeyRequired =
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to "
    "use the MKSTREAM option to create an empty stream automatically.";

std::string BadGroupArgs(std::string_view sub) {
  return "ERR unknown subcommand or wrong number of arguments for '" + std::string(sub) +
         "'. Try XGROUP HELP.";
}

// ENTRIESREAD's value: an integer >= -1.
bool ParseEntriesRead(CommandContext& ctx, std::string_view arg, int64_t* out) {
  if (!ParseInteger(ctx, arg, out)) return false;
  if (*out < -1) {
    ctx.Error("ERR value for ENTRIESREAD must be positive or -1");
    return false;
  }
  return true;
}

// The stream of an XGROUP subcommand (other than CREATE ... MKSTREAM), which must exist.
Stream* GroupStream(CommandContext& ctx, engine::Db& db, bool* failed) {
  Stream* s = FindStream(ctx, db, ctx.arg(2), false, failed);
  if (!*failed && s == nullptr) {
    ctx.Error(kErrKeyRequired);
    *failed = true;
  }
  return s;
}

// Like GroupStream, and the group named in args[3] must exist too.
ConsumerGroup* ExistingGroup(CommandContext& ctx, engine::Db& db, Stream** stream) {
  bool failed;
  *stream = GroupStream(ctx, db, &failed);
  if (failed) return nullptr;
  ConsumerGroup* g = (*stream)->FindGroup(ctx.arg(3));
  if (g == nullptr) ctx.Error(NoGroupForKey(ctx.arg(2), ctx.arg(3)));
  return g;
}

// ---------------------------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------------------------

// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]
void CmdXGroupCreate(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed, mkstream = false;
  Stream* s = FindStream(ctx, db, ctx.arg(2), false, &failed);
  if (failed) return;
  int64_t entries_read = engine::kUnknownEntriesRead;
  for (size_t i = 5; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "mkstream")) {
      mkstream = true;
    } else if (EqualsIgnoreCase(ctx.arg(i), "entriesread") && i + 1 < ctx.argc()) {
      if (!ParseEntriesRead(ctx, ctx.arg(++i), &entries_read)) return;
    } else {
      return ctx.Error(BadGroupArgs("create"));
    }
  }
  if (s == nullptr && !mkstream) return ctx.Error(kErrKeyRequired);
  StreamId id;
  bool dollar = ctx.arg(4) == "$";
  if (dollar) {
    id = s == nullptr ? StreamId{} : s->last_id();
  } else if (!ParseId(ctx, ctx.arg(4), 0, &id)) {
    return;
  }
  if (s != nullptr && s->FindGroup(ctx.arg(3)) != nullptr)
    return ctx.Error("BUSYGROUP Consumer Group name already exists");
  if (s == nullptr) s = CreateStream(db, ctx.arg(2));
  s->CreateGroup(ctx.arg(3), id, entries_read);
  db.Touched(ctx.arg(2));
  ctx.Notify(kNotifyStream, "xgroup-create", ctx.arg(2));
  if (dollar) {
    ctx.AddEffect({"XGROUP", "CREATE", std::string(ctx.arg(2)), std::string(ctx.arg(3)),
                   IdString(id), "ENTRIESREAD", std::to_string(entries_read), "MKSTREAM"});
  }
  ctx.out().Ok();
}

// XGROUP SETID key group id|$ [ENTRIESREAD entries-read]
void CmdXGroupSetId(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed;
  if (FindStream(ctx, db, ctx.arg(2), false, &failed); failed) return;
  int64_t entries_read = engine::kUnknownEntriesRead;
  if (ctx.argc() == 7 && EqualsIgnoreCase(ctx.arg(5), "entriesread")) {
    if (!ParseEntriesRead(ctx, ctx.arg(6), &entries_read)) return;
  } else if (ctx.argc() != 5) {
    return ctx.Error(BadGroupArgs("setid"));
  }
  Stream* s;
  ConsumerGroup* g = ExistingGroup(ctx, db, &s);
  if (g == nullptr) return;
  StreamId id;
  bool dollar = ctx.arg(4) == "$";
  if (dollar) {
    id = s->last_id();
  } else if (!ParseId(ctx, ctx.arg(4), 0, &id)) {
    return;
  }
  g->last_id = id;
  g->entries_read = entries_read;
  db.Touched(ctx.arg(2));
  ctx.Notify(kNotifyStream, "xgroup-setid", ctx.arg(2));
  if (dollar) {
    ctx.AddEffect({"XGROUP", "SETID", std::string(ctx.arg(2)), std::string(ctx.arg(3)),
                   IdString(id), "ENTRIESREAD", std::to_string(entries_read)});
  }
  ctx.out().Ok();
}

// XGROUP DESTROY key group
void CmdXGroupDestroy(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = GroupStream(ctx, db, &failed);
  if (failed) return;
  bool destroyed = s->DestroyGroup(ctx.arg(3));
  if (destroyed) {
    db.Touched(ctx.arg(2));  // blocked readers of the group get NOGROUP
    ctx.Notify(kNotifyStream, "xgroup-destroy", ctx.arg(2));
  }
  ctx.out().Integer(destroyed ? 1 : 0);
}

// XGROUP CREATECONSUMER key group consumer
void CmdXGroupCreateConsumer(CommandContext& ctx) {
  engine::Db db = ctx.db();
  Stream* s;
  ConsumerGroup* g = ExistingGroup(ctx, db, &s);
  if (g == nullptr) return;
  bool created = g->CreateConsumer(ctx.arg(4), ctx.now_ms()) != nullptr;
  if (created) {
    db.Touched(ctx.arg(2));
    ctx.Notify(kNotifyStream, "xgroup-createconsumer", ctx.arg(2));
  }
  ctx.out().Integer(created ? 1 : 0);
}

// XGROUP DELCONSUMER key group consumer
void CmdXGroupDelConsumer(CommandContext& ctx) {
  engine::Db db = ctx.db();
  Stream* s;
  ConsumerGroup* g = ExistingGroup(ctx, db, &s);
  if (g == nullptr) return;
  int64_t pending = g->DeleteConsumer(ctx.arg(4));
  if (pending >= 0) {
    db.Touched(ctx.arg(2));
    ctx.Notify(kNotifyStream, "xgroup-delconsumer", ctx.arg(2));
  }
  ctx.out().Integer(pending < 0 ? 0 : pending);
}

void ReplyHelp(CommandContext& ctx, const std::vector<std::string_view>& lines) {
  ctx.out().ArrayHeader(static_cast<int64_t>(lines.size()));
  for (std::string_view line : lines) ctx.out().Simple(line);
}

// XGROUP HELP
void CmdXGroupHelp(CommandContext& ctx) {
  ReplyHelp(ctx, {
                     "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                     "CREATE <key> <groupname> <id|$> [option]",
                     "    Create a new consumer group. Options are:",
                     "    * MKSTREAM",
                     "      Create the empty stream if it does not exist.",
                     "    * ENTRIESREAD entries_read",
                     "      Set the group's entries_read counter (internal use).",
                     "CREATECONSUMER <key> <groupname> <consumer>",
                     "    Create a new consumer in the specified group.",
                     "DELCONSUMER <key> <groupname> <consumer>",
                     "    Remove the specified consumer.",
                     "DESTROY <key> <groupname>",
                     "    Remove the specified group.",
                     "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                     "    Set the current group ID and entries_read counter.",
                     "HELP",
                     "    Prints this help.",
                 });
}

// ---------------------------------------------------------------------------------------------
// XACK, XPENDING
// ---------------------------------------------------------------------------------------------

// XACK key group id [id ...]
void CmdXAck(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  ConsumerGroup* g = s == nullptr ? nullptr : s->FindGroup(ctx.arg(2));
  if (g == nullptr) return ctx.out().Integer(0);
  std::vector<StreamId> ids(ctx.argc() - 3);
  for (size_t i = 3; i < ctx.argc(); ++i)
    if (!ParseId(ctx, ctx.arg(i), 0, &ids[i - 3])) return;
  int64_t acked = 0;
  for (StreamId id : ids) acked += g->Ack(id) ? 1 : 0;
  if (acked > 0) db.Touched(ctx.arg(1));
  ctx.out().Integer(acked);
}

struct PendingArgs {
  bool summary = true;
  int64_t min_idle = 0;
  StreamId start, end;
  uint64_t count = 0;
  std::string_view consumer;
  bool by_consumer = false;
};

bool ParsePendingArgs(CommandContext& ctx, PendingArgs* a) {
  size_t argc = ctx.argc();
  if (argc == 3) return true;
  if (argc < 6 || argc > 9) {
    ctx.Error(kErrSyntax);
    return false;
  }
  a->summary = false;
  size_t i = 3;
  if (EqualsIgnoreCase(ctx.arg(3), "idle")) {
    if (!ParseInteger(ctx, ctx.arg(4), &a->min_idle)) return false;
    if (argc < 8) {
      ctx.Error(kErrSyntax);
      return false;
    }
    i += 2;
  }
  int64_t count;
  if (!ParseRangeBound(ctx, ctx.arg(i), true, &a->start) ||
      !ParseRangeBound(ctx, ctx.arg(i + 1), false, &a->end) ||
      !ParseInteger(ctx, ctx.arg(i + 2), &count))
    return false;
  a->count = count < 0 ? 0 : static_cast<uint64_t>(count);
  a->by_consumer = argc > i + 3;
  if (a->by_consumer) a->consumer = ctx.arg(i + 3);
  return true;
}

void ReplyPendingSummary(CommandContext& ctx, const ConsumerGroup& g) {
  resp::ReplyWriter& out = ctx.out();
  out.ArrayHeader(4);
  out.Integer(static_cast<int64_t>(g.pel().size()));
  if (g.pel().empty()) {
    out.Null();
    out.Null();
    out.NullArray();
    return;
  }
  ReplyId(out, g.pel().First()->id);
  ReplyId(out, g.pel().Last()->id);
  int64_t busy = 0;
  for (const auto& [name, c] : g.consumers()) busy += c->pending.empty() ? 0 : 1;
  out.ArrayHeader(busy);
  for (const auto& [name, c] : g.consumers()) {
    if (c->pending.empty()) continue;
    out.ArrayHeader(2);
    out.Bulk(name);
    out.BulkInt(static_cast<int64_t>(c->pending.size()));
  }
}

void ReplyPendingRange(CommandContext& ctx, ConsumerGroup& g, const PendingArgs& a) {
  std::vector<const PendingEntry*> found;
  auto keep = [&](const PendingEntry* p) {
    if (p->id > a.end) return false;
    if (a.min_idle == 0 || ctx.now_ms() - p->delivery_time >= a.min_idle) found.push_back(p);
    return found.size() < a.count;
  };
  Consumer* c = a.by_consumer ? g.FindConsumer(a.consumer) : nullptr;
  if (a.count > 0 && c != nullptr) {
    for (auto cur = c->pending.LowerBound(a.start); cur.Valid() && keep(g.FindPending(*cur));
         cur.Next()) {
    }
  } else if (a.count > 0 && !a.by_consumer) {
    for (auto cur = g.pel().LowerBound(a.start); cur.Valid() && keep(&*cur); cur.Next()) {
    }
  }
  ctx.out().ArrayHeader(static_cast<int64_t>(found.size()));
  for (const PendingEntry* p : found) {
    ctx.out().ArrayHeader(4);
    ReplyId(ctx.out(), p->id);
    ctx.out().Bulk(g.ConsumerAt(p->consumer)->name);
    ctx.out().Integer(ctx.now_ms() - p->delivery_time);
    ctx.out().Integer(p->delivery_count);
  }
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
void CmdXPending(CommandContext& ctx) {
  PendingArgs a;
  if (!ParsePendingArgs(ctx, &a)) return;
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ConsumerGroup* g = s == nullptr ? nullptr : s->FindGroup(ctx.arg(2));
  if (g == nullptr) return ctx.Error(NoGroupOrKey(ctx.arg(1), ctx.arg(2)));
  if (a.summary) return ReplyPendingSummary(ctx, *g);
  ReplyPendingRange(ctx, *g, a);
}

// clang-format off
void AddGroupContainer(CommandTable& t) {
  constexpr KeySpec kGroupKey{2, 2, 1};
  constexpr uint32_t kCats = kCatWrite | kCatStream | kCatSlow;
  auto& xgroup = t.Add({.name = "xgroup", .arity = -2, .flags = 0, .categories = kCatSlow,
                        .keys = {0, 0, 0}, .group = "stream", .since = "5.0.0",
                        .summary = "A container for consumer groups commands."});
  t.AddSub(xgroup, {.name = "create", .arity = -5, .flags = kWrite | kDenyOom, .categories = kCats,
                    .keys = kGroupKey, .since = "5.0.0", .summary = "Creates a consumer group.",
                    .syntax = "key group id:string [MKSTREAM] [ENTRIESREAD entries-read]",
                    .handler = CmdXGroupCreate});
  t.AddSub(xgroup, {.name = "setid", .arity = -5, .flags = kWrite, .categories = kCats,
                    .keys = kGroupKey, .since = "5.0.0",
                    .summary = "Sets the last-delivered ID of a consumer group.",
                    .syntax = "key group id:string [ENTRIESREAD entries-read]",
                    .handler = CmdXGroupSetId});
  t.AddSub(xgroup, {.name = "destroy", .arity = 4, .flags = kWrite, .categories = kCats,
                    .keys = kGroupKey, .since = "5.0.0", .summary = "Destroys a consumer group.",
                    .syntax = "key group", .handler = CmdXGroupDestroy});
  t.AddSub(xgroup, {.name = "createconsumer", .arity = 5, .flags = kWrite | kDenyOom,
                    .categories = kCats, .keys = kGroupKey, .since = "6.2.0",
                    .summary = "Creates a consumer in a consumer group.",
                    .syntax = "key group consumer", .handler = CmdXGroupCreateConsumer});
  t.AddSub(xgroup, {.name = "delconsumer", .arity = 5, .flags = kWrite, .categories = kCats,
                    .keys = kGroupKey, .since = "5.0.0",
                    .summary = "Deletes a consumer from a consumer group.",
                    .syntax = "key group consumer", .handler = CmdXGroupDelConsumer});
  t.AddSub(xgroup, {.name = "help", .arity = 2, .flags = kLoading | kStale,
                    .categories = kCatStream | kCatSlow, .keys = {0, 0, 0}, .since = "5.0.0",
                    .summary = "Returns helpful text about the different subcommands.",
                    .syntax = "", .handler = CmdXGroupHelp});
}

void AddPendingCommands(CommandTable& t) {
  t.Add({.name = "xack", .arity = -4, .flags = kWrite | kFast,
         .categories = kCatWrite | kCatStream | kCatFast, .keys = {1, 1, 1}, .group = "stream",
         .since = "5.0.0",
         .summary = "Returns the number of messages that were successfully acknowledged by the "
                    "consumer group member of a stream.",
         .syntax = "key group id:string [id:string ...]", .handler = CmdXAck});
  t.Add({.name = "xpending", .arity = -3, .flags = kReadOnly,
         .categories = kCatRead | kCatStream | kCatSlow, .keys = {1, 1, 1}, .group = "stream",
         .since = "5.0.0",
         .summary = "Returns the information and entries from a stream consumer group's pending "
                    "entries list.",
         .syntax = "key group [[IDLE min-idle-time] start:string end:string count [consumer]]",
         .handler = CmdXPending});
}
// clang-format on

}  // namespace

void RegisterClaimCommands(CommandTable& t);

void RegisterGroupCommands(CommandTable& t) {
  AddGroupContainer(t);
  AddPendingCommands(t);
  RegisterClaimCommands(t);
}

}  // namespace runnel::commands::streams
