// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//
// While a client is in MULTI the dispatcher queues its commands (after the checks that can fail
// early: unknown command, arity). EXEC locks every shard the queued commands touch, in ascending
// order, runs them all, and logs them as one record, so other clients and recovery see all of
// the transaction or none of it. WATCH registers the client in each key's shard; a write to the
// key (or its expiry) makes the transaction fail with a null reply.
#include <algorithm>
#include <set>

#include "commands/blocking.h"
#include "commands/context.h"
#include "commands/dispatch.h"
#include "commands/errors.h"
#include "commands/table.h"
#include "commands/transactions.h"
#include "commands/wal_log.h"
#include "common/util.h"
#include "engine/keyspace.h"

namespace runnel::commands {

void Unwatch(engine::Keyspace& ks, Session& s) {
  if (!s.watch) return;
  for (auto& [db, key, expire_at] : s.watch->keys) {
    engine::Shard& shard = ks.shard(engine::Keyspace::ShardOf(key));
    std::lock_guard lock(shard.mutex());
    auto it = shard.watchers.find(std::make_pair(db, key));
    if (it == shard.watchers.end()) continue;
    auto& list = it->second;
    list.erase(std::remove(list.begin(), list.end(), s.watch), list.end());
    if (list.empty()) shard.watchers.erase(it);
  }
  s.watch.reset();
}

void DiscardTransaction(engine::Keyspace& ks, Session& s) {
  s.in_multi = false;
  s.multi_aborted = false;
  s.queued.clear();
  Unwatch(ks, s);
}

namespace {

const CommandSpec* Resolve(const std::vector<std::string>& cmd) {
  const CommandSpec* spec = Commands().Find(cmd[0]);
  if (spec != nullptr && !spec->subcommands.empty() && cmd.size() > 1)
    spec = Commands().FindSub(*spec, cmd[1]);
  return spec;
}

// The shards every queued command touches, ascending; all of them if one walks the keyspace.
std::vector<int> TransactionShards(const std::vector<std::vector<std::string>>& queued) {
  std::set<int> shards;
  std::vector<int> positions;
  for (const auto& cmd : queued) {
    const CommandSpec* spec = Resolve(cmd);
    if (spec == nullptr) continue;
    if (spec->is(kSelfLocking)) {
      std::vector<int> all(engine::Keyspace::kShards);
      for (int i = 0; i < engine::Keyspace::kShards; ++i) all[i] = i;
      return all;
    }
    std::vector<std::string_view> argv(cmd.begin(), cmd.end());
    spec->KeyPositions(argv, &positions);
    for (int p : positions) shards.insert(engine::Keyspace::ShardOf(argv[p]));
  }
  return std::vector<int>(shards.begin(), shards.end());
}

bool WatchFailed(CommandContext& ctx) {
  Session& s = ctx.session();
  if (!s.watch) return false;
  if (s.watch->dirty.load()) return true;
  for (auto& [db, key, expire_at] : s.watch->keys)
    if (expire_at != 0 && expire_at <= ctx.now_ms()) return true;
  return false;
}

// MULTI
void CmdMulti(CommandContext& ctx) {
  if (ctx.session().in_multi) {
    ctx.Error("ERR MULTI calls can not be nested");
    return;
  }
  ctx.session().in_multi = true;
  ctx.out().Ok();
}

// DISCARD
void CmdDiscard(CommandContext& ctx) {
  if (!ctx.session().in_multi) {
    ctx.Error("ERR DISCARD without MULTI");
    return;
  }
  DiscardTransaction(ctx.keyspace(), ctx.session());
  ctx.out().Ok();
}

// Runs the queued commands with their shards locked; returns the LSN of their record.
uint64_t RunQueued(CommandContext& ctx, std::vector<std::vector<std::string>>& queued) {
  engine::Keyspace& ks = ctx.keyspace();
  std::vector<int> shards = TransactionShards(queued);
  for (int s : shards) ks.shard(s).mutex().lock();
  int start_db = ctx.session().db.load();
  int current_db = start_db;
  thread_local persist::CommandsBuilder effects;
  effects.Clear();
  ctx.out().ArrayHeader(static_cast<int64_t>(queued.size()));
  for (auto& cmd : queued) {
    std::vector<std::string_view> argv(cmd.begin(), cmd.end());
    CommandContext sub(argv, &ctx.out(), &ctx.session(), &ks, &ctx.server(), &ctx.stats());
    sub.set_in_exec(true);
    sub.set_now_ms(ctx.now_ms());
    Execute(sub);
    if (sub.blocked()) ctx.out().NullArray();  // blocking commands do not block in MULTI
    CollectEffects(sub, &current_db, &effects);
    for (auto& r : sub.changes().ready) ctx.changes().ready.push_back(std::move(r));
    if (KeyspaceEvents() != 0) [[unlikely]] ctx.AdoptEvents(sub);
  }
  uint64_t lsn = AppendCommands(ks, start_db, ctx.now_ms(), effects, shards);
  uint64_t required = 0;
  for (int s : shards) required = std::max(required, ks.shard(s).last_lsn);
  for (auto it = shards.rbegin(); it != shards.rend(); ++it) ks.shard(*it).mutex().unlock();
  return std::max(lsn, required);
}

// EXEC
void CmdExec(CommandContext& ctx) {
  Session& s = ctx.session();
  if (!s.in_multi) {
    ctx.Error("ERR EXEC without MULTI");
    return;
  }
  std::vector<std::vector<std::string>> queued = std::move(s.queued);
  bool aborted = s.multi_aborted;
  bool watch_failed = WatchFailed(ctx);
  DiscardTransaction(ctx.keyspace(), s);
  if (aborted) {
    ctx.Error("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  if (watch_failed) {
    ctx.out().NullArray();
    return;
  }
  ctx.set_required_lsn(RunQueued(ctx, queued));
}

// WATCH key [key ...]
void CmdWatch(CommandContext& ctx) {
  Session& s = ctx.session();
  if (s.in_multi) {
    ctx.Error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  if (!s.watch) s.watch = std::make_shared<engine::Watch>();
  engine::Db db = ctx.db();
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string key(ctx.arg(i));
    bool seen = false;
    for (auto& [wdb, wkey, at] : s.watch->keys) seen = seen || (wdb == db.index() && wkey == key);
    if (seen) continue;
    engine::Entry* e = db.Find(key, false);
    s.watch->keys.emplace_back(db.index(), key, e != nullptr ? db.ExpireAt(e) : 0);
    engine::Shard& shard = ctx.keyspace().shard(engine::Keyspace::ShardOf(key));
    shard.watchers[std::make_pair(db.index(), key)].push_back(s.watch);  // its lock is held
  }
  ctx.out().Ok();
}

// UNWATCH
void CmdUnwatch(CommandContext& ctx) {
  Unwatch(ctx.keyspace(), ctx.session());
  ctx.out().Ok();
}

}  // namespace

void RegisterTransactions(CommandTable& t) {
  const uint32_t kFlags = kNoScript | kLoading | kStale | kFast | kAllowBusy;
  t.Add({.name = "multi", .arity = 1, .flags = kFlags,
         .categories = kCatFast | kCatTransaction, .group = "transactions", .since = "1.2.0",
         .summary = "Starts a transaction.", .syntax = "", .handler = CmdMulti});
  t.Add({.name = "exec", .arity = 1, .flags = kNoScript | kLoading | kStale | kSkipSlowlog |
                                               kSelfLocking,
         .categories = kCatSlow | kCatTransaction, .group = "transactions", .since = "1.2.0",
         .summary = "Executes all commands in a transaction.", .syntax = "",
         .handler = CmdExec});
  t.Add({.name = "discard", .arity = 1, .flags = kFlags,
         .categories = kCatFast | kCatTransaction, .group = "transactions", .since = "2.0.0",
         .summary = "Discards a transaction.", .syntax = "", .handler = CmdDiscard});
  t.Add({.name = "watch", .arity = -2, .flags = kFlags, .categories = kCatFast | kCatTransaction,
         .keys = {1, -1, 1}, .group = "transactions", .since = "2.2.0",
         .summary = "Monitors changes to keys to determine the execution of a transaction.",
         .syntax = "key [key ...]", .handler = CmdWatch});
  t.Add({.name = "unwatch", .arity = 1, .flags = kFlags,
         .categories = kCatFast | kCatTransaction, .group = "transactions", .since = "2.2.0",
         .summary = "Forgets about watched keys of a transaction.", .syntax = "",
         .handler = CmdUnwatch});
}

}  // namespace runnel::commands
