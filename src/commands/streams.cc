// The stream command family, part one: shared helpers, the entry commands (XADD, XRANGE,
// XREVRANGE, XLEN, XDEL, XTRIM, XSETID) and the family's registration. Reads live in
// streams_read.cc, consumer groups in streams_groups.cc, XINFO in streams_info.cc.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/lookup.h"
#include "commands/streams_common.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "common/util.h"
#include "engine/entry.h"
#include "engine/keyspace.h"
#include "engine/stream.h"

namespace runnel::commands {

namespace streams {

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

std::string NoGroupOrKey(std::string_view key, std::string_view group, std::string_view suffix) {
  std::string msg = "NOGROUP No such key '";
  msg.append(key).append("' or consumer group '").append(group).append("'").append(suffix);
  return msg;
}

std::string NoGroupForKey(std::string_view key, std::string_view group) {
  std::string msg = "NOGROUP No such consumer group '";
  msg.append(group).append("' for key name '").append(key).append("'");
  return msg;
}

Stream* FindStream(CommandContext& ctx, engine::Db& db, std::string_view key, bool read,
                   bool* failed) {
  engine::Entry* e = LookupTyped(ctx, db, key, engine::ValueType::kStream, read, failed);
  return e != nullptr ? static_cast<Stream*>(e->object()) : nullptr;
}

Stream* CreateStream(engine::Db& db, std::string_view key) {
  auto* s = new Stream();
  db.AddObject(key, engine::ValueType::kStream, s);
  return s;
}

bool ParseId(CommandContext& ctx, std::string_view arg, uint64_t missing_seq, StreamId* id) {
  if (engine::ParseStreamId(arg, missing_seq, id)) return true;
  ctx.Error(kErrInvalidId);
  return false;
}

bool ParseRangeBound(CommandContext& ctx, std::string_view arg, bool is_start, StreamId* id) {
  if (arg.size() > 1 && arg[0] == '(') {
    if (!ParseId(ctx, arg.substr(1), is_start ? 0 : UINT64_MAX, id)) return false;
    if (is_start ? id->Increment() : id->Decrement()) return true;
    ctx.Error(is_start ? "ERR invalid start ID for the interval"
                       : "ERR invalid end ID for the interval");
    return false;
  }
  if (arg == "-") {
    *id = StreamId::Min();
    return true;
  }
  if (arg == "+") {
    *id = StreamId::Max();
    return true;
  }
  return ParseId(ctx, arg, is_start ? 0 : UINT64_MAX, id);
}

bool ParseInteger(CommandContext& ctx, std::string_view arg, int64_t* out) {
  if (ParseInt64(arg, out)) return true;
  ctx.Error(kErrNotInteger);
  return false;
}

void ReplyId(resp::ReplyWriter& out, StreamId id) {
  char buf[StreamId::kMaxText];
  out.Bulk(std::string_view(buf, id.Format(buf)));
}

std::string IdString(StreamId id) { return id.ToString(); }

void ReplyEntry(resp::ReplyWriter& out, const EntryView& e) {
  out.ArrayHeader(2);
  ReplyId(out, e.id);
  out.ArrayHeader(static_cast<int64_t>(e.field_count() * 2));
  e.ForEachField([&](std::string_view f, std::string_view v) {
    out.Bulk(f);
    out.Bulk(v);
  });
}

uint64_t CountRange(const Stream& s, StreamId start, StreamId end, bool reverse, uint64_t limit,
                    StreamId* last) {
  engine::StreamIterator it(s, start, end, reverse);
  EntryView e;
  uint64_t n = 0;
  while ((limit == 0 || n < limit) && it.Next(&e)) {
    ++n;
    if (last != nullptr) *last = e.id;
  }
  return n;
}

void ClaimLog::Claimed(StreamId id, int64_t time, uint64_t count) {
  if (!WantEffects(ctx_)) return;
  auto key = std::make_pair(time, count);
  for (auto& [k, ids] : claims_) {
    if (k == key) {
      ids.push_back(IdString(id));
      return;
    }
  }
  claims_.push_back({key, {IdString(id)}});
}

void ClaimLog::GroupMoved(StreamId last_id, int64_t entries_read) {
  set_id_ = {"XGROUP",
             "SETID",
             key_,
             group_,
             IdString(last_id),
             "ENTRIESREAD",
             std::to_string(entries_read)};
}

void ClaimLog::Flush() {
  if (!WantEffects(ctx_)) return;
  if (created_) ctx_.AddEffect({"XGROUP", "CREATECONSUMER", key_, group_, consumer_});
  for (auto& [k, ids] : claims_) {
    std::vector<std::string> argv{"XCLAIM", key_, group_, consumer_, "0"};
    argv.insert(argv.end(), std::make_move_iterator(ids.begin()),
                std::make_move_iterator(ids.end()));
    for (std::string arg : {std::string("TIME"), std::to_string(k.first), std::string("RETRYCOUNT"),
                            std::to_string(k.second), std::string("FORCE"), std::string("JUSTID")})
      argv.push_back(std::move(arg));
    ctx_.AddEffect(std::move(argv));
  }
  if (!dropped_.empty()) {
    std::vector<std::string> argv{"XACK", key_, group_};
    argv.insert(argv.end(), dropped_.begin(), dropped_.end());
    ctx_.AddEffect(std::move(argv));
  }
  if (!set_id_.empty()) ctx_.AddEffect(std::move(set_id_));
  claims_.clear();
  dropped_.clear();
  set_id_.clear();
  created_ = false;
}

}  // namespace streams

namespace {

using namespace streams;
using engine::TrimSpec;

// ---------------------------------------------------------------------------------------------
// Trimming options (XADD, XTRIM)
// ---------------------------------------------------------------------------------------------

// The approximate trim's default LIMIT: a hundred chunks' worth of entries, as Redis's default
// of 100 * stream-node-max-entries.
constexpr uint64_t kDefaultApproxLimit = 100 * engine::kChunkMaxEntries;
// An entry's fields and values together stay under 1 GB, as in Redis (whose limit is its
// listpacks'); chunks count their bytes in 32 bits.
constexpr size_t kMaxEntryBytes = size_t{1} << 30;

struct AddArgs {
  bool nomkstream = false;
  TrimSpec trim;
  bool limit_given = false;
  bool id_given = false;
  bool seq_auto = false;
  StreamId id;
  size_t id_pos = 0;  // XADD: the ID's argument index (argc if none)
};

// MAXLEN|MINID [=|~] threshold, at args[*i]. Replies and returns false on error.
bool ParseThreshold(CommandContext& ctx, size_t* i, TrimSpec::Kind kind, AddArgs* a) {
  if (a->trim.kind != TrimSpec::Kind::kNone) {
    ctx.Error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
    return false;
  }
  a->trim.kind = kind;
  size_t more = ctx.argc() - 1 - *i;
  std::string_view next = ctx.arg(*i + 1);
  if (more >= 2 && (next == "~" || next == "=")) {
    a->trim.approx = next == "~";
    ++*i;
  }
  std::string_view value = ctx.arg(++*i);
  if (kind == TrimSpec::Kind::kMinId) return ParseId(ctx, value, 0, &a->trim.min_id);
  int64_t n;
  if (!ParseInteger(ctx, value, &n)) return false;
  if (n < 0) {
    ctx.Error("ERR The MAXLEN argument must be >= 0.");
    return false;
  }
  a->trim.max_len = static_cast<uint64_t>(n);
  return true;
}

bool ParseLimit(CommandContext& ctx, size_t* i, AddArgs* a) {
  int64_t n;
  if (!ParseInteger(ctx, ctx.arg(++*i), &n)) return false;
  if (n < 0) {
    ctx.Error("ERR The LIMIT argument must be >= 0.");
    return false;
  }
  a->trim.limit = static_cast<uint64_t>(n);
  a->limit_given = true;
  return true;
}

// XADD's ID argument: "*", "<ms>-*" or an explicit ID.
bool ParseAddId(CommandContext& ctx, std::string_view arg, AddArgs* a) {
  a->id_given = arg != "*";
  if (!a->id_given) return true;
  bool seq_given;
  if (engine::ParseStreamId(arg, 0, &a->id, &seq_given, &a->seq_auto)) return true;
  ctx.Error(kErrInvalidId);
  return false;
}

// Parses the options of XADD or XTRIM from args[2]; XADD's stop at its ID.
bool ParseAddOrTrimArgs(CommandContext& ctx, bool xadd, AddArgs* a) {
  size_t i = 2;
  for (; i < ctx.argc(); ++i) {
    std::string_view opt = ctx.arg(i);
    bool more = i + 1 < ctx.argc();
    bool ok = true;
    if (xadd && opt == "*") {
      break;
    } else if (EqualsIgnoreCase(opt, "maxlen") && more) {
      ok = ParseThreshold(ctx, &i, TrimSpec::Kind::kMaxLen, a);
    } else if (EqualsIgnoreCase(opt, "minid") && more) {
      ok = ParseThreshold(ctx, &i, TrimSpec::Kind::kMinId, a);
    } else if (EqualsIgnoreCase(opt, "limit") && more) {
      ok = ParseLimit(ctx, &i, a);
    } else if (xadd && EqualsIgnoreCase(opt, "nomkstream")) {
      a->nomkstream = true;
    } else if (xadd) {
      break;
    } else {
      ctx.Error(kErrSyntax);
      return false;
    }
    if (!ok) return false;
  }
  a->id_pos = i;
  if (xadd && i < ctx.argc() && !ParseAddId(ctx, ctx.arg(i), a)) return false;
  if (a->limit_given && a->trim.kind == TrimSpec::Kind::kNone) {
    ctx.Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return false;
  }
  if (!xadd && a->trim.kind == TrimSpec::Kind::kNone) {
    ctx.Error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return false;
  }
  if (a->limit_given && !a->trim.approx) {
    ctx.Error("ERR syntax error, LIMIT cannot be used without the special ~ option");
    return false;
  }
  if (!a->limit_given && a->trim.approx) a->trim.limit = kDefaultApproxLimit;
  return true;
}

// The log form of an approximate trim that removed entries: an exact MINID trim to the first
// entry that remains, so replay does not depend on how entries were packed.
void AddTrimEffect(CommandContext& ctx, std::string_view key, const Stream& s) {
  if (s.length() == 0) {
    ctx.AddEffect({"XTRIM", std::string(key), "MAXLEN", "=", "0"});
  } else {
    ctx.AddEffect({"XTRIM", std::string(key), "MINID", "=", IdString(s.FirstId())});
  }
}

// ---------------------------------------------------------------------------------------------
// XADD, XTRIM, XDEL, XLEN, XSETID
// ---------------------------------------------------------------------------------------------

std::string_view AddErrorText(engine::AddError e) {
  switch (e) {
    case engine::AddError::kZeroId:
      return "ERR The ID specified in XADD must be greater than 0-0";
    case engine::AddError::kExhausted:
      return "ERR The stream has exhausted the last possible ID, unable to add more items";
    default:
      return "ERR The ID specified in XADD is equal or smaller than the target stream top item";
  }
}

void AddEffects(CommandContext& ctx, const AddArgs& a, StreamId id, const Stream& s,
                uint64_t trimmed) {
  // XADD key <id> field value ...: the options dropped, the ID concrete.
  char buf[StreamId::kMaxText];
  thread_local std::vector<std::string_view> effect;
  effect.assign({"XADD", ctx.arg(1), ctx.Keep(std::string_view(buf, id.Format(buf)))});
  effect.insert(effect.end(), ctx.args().begin() + static_cast<ptrdiff_t>(a.id_pos + 1),
                ctx.args().end());
  ctx.AddEffectArgs(effect);
  if (trimmed > 0) AddTrimEffect(ctx, ctx.arg(1), s);
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
void CmdXAdd(CommandContext& ctx) {
  AddArgs a;
  if (!ParseAddOrTrimArgs(ctx, true, &a)) return;
  size_t field_pos = a.id_pos + 1;
  if (ctx.argc() < field_pos + 2 || (ctx.argc() - field_pos) % 2 == 1)
    return ctx.Error(WrongArgs("xadd"));
  if (a.id_given && !a.seq_auto && a.id.IsZero())
    return ctx.Error(AddErrorText(engine::AddError::kZeroId));
  size_t bytes = 0;
  for (size_t i = field_pos; i < ctx.argc(); ++i) bytes += ctx.arg(i).size();
  if (bytes >= kMaxEntryBytes) return ctx.Error("ERR Elements are too large to be stored");
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  if (s == nullptr && a.nomkstream) return ctx.out().Null();
  Stream empty;
  StreamId id;
  engine::AddError err = (s ? *s : empty).NextId(a.id_given, a.seq_auto, a.id, ctx.now_ms(), &id);
  if (err != engine::AddError::kOk) return ctx.Error(AddErrorText(err));
  if (s == nullptr) s = CreateStream(db, ctx.arg(1));
  s->Append(id, ctx.args().subspan(field_pos));
  uint64_t trimmed = s->Trim(a.trim);
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifyStream, "xadd", ctx.arg(1));
  if (trimmed > 0) ctx.Notify(kNotifyStream, "xtrim", ctx.arg(1));
  if ((!a.id_given || a.seq_auto || a.trim.approx) && WantEffects(ctx))
    AddEffects(ctx, a, id, *s, trimmed);
  ReplyId(ctx.out(), id);
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
void CmdXTrim(CommandContext& ctx) {
  AddArgs a;
  if (!ParseAddOrTrimArgs(ctx, false, &a)) return;
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  uint64_t removed = s == nullptr ? 0 : s->Trim(a.trim);
  if (removed > 0) {
    db.Touched(ctx.arg(1));
    ctx.Notify(kNotifyStream, "xtrim", ctx.arg(1));
    if (a.trim.approx && WantEffects(ctx)) AddTrimEffect(ctx, ctx.arg(1), *s);
  }
  ctx.out().Integer(static_cast<int64_t>(removed));
}

// XDEL key id [id ...]
void CmdXDel(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  if (s == nullptr) return ctx.out().Integer(0);
  std::vector<StreamId> ids(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i)
    if (!ParseId(ctx, ctx.arg(i), 0, &ids[i - 2])) return;
  int64_t deleted = 0;
  for (StreamId id : ids) deleted += s->Delete(id) ? 1 : 0;
  if (deleted > 0) {
    db.Touched(ctx.arg(1));
    ctx.Notify(kNotifyStream, "xdel", ctx.arg(1));
  }
  ctx.out().Integer(deleted);
}

// XLEN key
void CmdXLen(CommandContext& ctx) {
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  ctx.out().Integer(s == nullptr ? 0 : static_cast<int64_t>(s->length()));
}

struct SetIdArgs {
  StreamId id;
  int64_t entries_added = -1;
  bool has_max_deleted = false;
  StreamId max_deleted;
};

bool ParseSetIdArgs(CommandContext& ctx, SetIdArgs* a) {
  if (!ParseId(ctx, ctx.arg(2), 0, &a->id)) return false;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    bool more = i + 1 < ctx.argc();
    if (EqualsIgnoreCase(ctx.arg(i), "entriesadded") && more) {
      if (!ParseInteger(ctx, ctx.arg(++i), &a->entries_added)) return false;
      if (a->entries_added < 0) {
        ctx.Error("ERR entries_added must be positive");
        return false;
      }
    } else if (EqualsIgnoreCase(ctx.arg(i), "maxdeletedid") && more) {
      if (!ParseId(ctx, ctx.arg(++i), 0, &a->max_deleted)) return false;
      a->has_max_deleted = true;
      if (a->id < a->max_deleted) {
        ctx.Error(
            "ERR The ID specified in XSETID is smaller than the provided "
            "max_deleted_entry_id");
        return false;
      }
    } else {
      ctx.Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
void CmdXSetId(CommandContext& ctx) {
  SetIdArgs a;
  if (!ParseSetIdArgs(ctx, &a)) return;
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), false, &failed);
  if (failed) return;
  if (s == nullptr) return ctx.Error(kErrNoSuchKey);
  if (a.entries_added >= 0 && static_cast<uint64_t>(a.entries_added) < s->length())
    return ctx.Error(
        "ERR The entries_added specified in XSETID is smaller than the target "
        "stream length");
  if (s->length() > 0) {
    engine::StreamIterator it(*s, StreamId::Min(), StreamId::Max(), true);
    EntryView last;
    if (it.Next(&last) && a.id < last.id)
      return ctx.Error("ERR The ID specified in XSETID is smaller than the target stream top item");
  }
  s->set_last_id(a.id);
  if (a.entries_added >= 0) s->set_entries_added(static_cast<uint64_t>(a.entries_added));
  if (a.has_max_deleted) s->set_max_deleted_id(a.max_deleted);
  db.Touched(ctx.arg(1));
  ctx.Notify(kNotifyStream, "xsetid", ctx.arg(1));
  ctx.out().Ok();
}

// ---------------------------------------------------------------------------------------------
// XRANGE, XREVRANGE
// ---------------------------------------------------------------------------------------------

void RangeCommand(CommandContext& ctx, bool reverse) {
  StreamId start, end;
  if (!ParseRangeBound(ctx, ctx.arg(reverse ? 3 : 2), true, &start)) return;
  if (!ParseRangeBound(ctx, ctx.arg(reverse ? 2 : 3), false, &end)) return;
  int64_t count = -1;
  for (size_t i = 4; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "count") && i + 1 < ctx.argc()) {
      if (!ParseInteger(ctx, ctx.arg(++i), &count)) return;
      if (count < 0) count = 0;
    } else {
      return ctx.Error(kErrSyntax);
    }
  }
  engine::Db db = ctx.db();
  bool failed;
  Stream* s = FindStream(ctx, db, ctx.arg(1), true, &failed);
  if (failed) return;
  if (s == nullptr) return ctx.out().EmptyArray();
  if (count == 0) return ctx.out().NullArray();
  uint64_t limit = count < 0 ? 0 : static_cast<uint64_t>(count);
  ReplyRange(ctx.out(), *s, start, end, reverse, limit);
}

// XRANGE key start end [COUNT count]
void CmdXRange(CommandContext& ctx) { RangeCommand(ctx, false); }

// XREVRANGE key end start [COUNT count]
void CmdXRevRange(CommandContext& ctx) { RangeCommand(ctx, true); }

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

constexpr KeySpec kOneKey = {1, 1, 1};
constexpr uint32_t kReadCats = kCatRead | kCatStream;
constexpr uint32_t kWriteCats = kCatWrite | kCatStream;

// clang-format off
void AddEntryCommands(CommandTable& t) {
  t.Add({.name = "xadd", .arity = -5, .flags = kWrite | kDenyOom | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "stream",
         .since = "5.0.0", .summary = "Appends a new message to a stream. Creates the key if it "
                                      "doesn't exist.",
         .syntax = "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] id:string "
                   "field value [field value ...]",
         .handler = CmdXAdd});
  t.Add({.name = "xrange", .arity = -4, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "stream",
         .since = "5.0.0", .summary = "Returns the messages from a stream within a range of IDs.",
         .syntax = "key start:string end:string [COUNT count]", .handler = CmdXRange});
  t.Add({.name = "xrevrange", .arity = -4, .flags = kReadOnly,
         .categories = kReadCats | kCatSlow, .keys = kOneKey, .group = "stream",
         .since = "5.0.0", .summary = "Returns the messages from a stream within a range of IDs "
                                      "in reverse order.",
         .syntax = "key end:string start:string [COUNT count]", .handler = CmdXRevRange});
  t.Add({.name = "xlen", .arity = 2, .flags = kReadOnly | kFast,
         .categories = kReadCats | kCatFast, .keys = kOneKey, .group = "stream",
         .since = "5.0.0", .summary = "Return the number of messages in a stream.",
         .syntax = "key", .handler = CmdXLen});
  t.Add({.name = "xdel", .arity = -3, .flags = kWrite | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "stream",
         .since = "5.0.0", .summary = "Returns the number of messages after removing them from a "
                                      "stream.",
         .syntax = "key id:string [id:string ...]", .handler = CmdXDel});
  t.Add({.name = "xtrim", .arity = -4, .flags = kWrite,
         .categories = kWriteCats | kCatSlow, .keys = kOneKey, .group = "stream",
         .since = "5.0.0", .summary = "Deletes messages from the beginning of a stream.",
         .syntax = "key strategy:string [=|~] threshold [LIMIT count]", .handler = CmdXTrim});
  t.Add({.name = "xsetid", .arity = -3, .flags = kWrite | kDenyOom | kFast,
         .categories = kWriteCats | kCatFast, .keys = kOneKey, .group = "stream",
         .since = "5.0.0", .summary = "An internal command for replicating stream values.",
         .syntax = "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
         .handler = CmdXSetId});
}
// clang-format on

}  // namespace

void RegisterStreams(CommandTable& t) {
  AddEntryCommands(t);
  streams::RegisterReadCommands(t);
  streams::RegisterGroupCommands(t);
  streams::RegisterInfoCommands(t);
}

}  // namespace runnel::commands
