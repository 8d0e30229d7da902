#include "commands/blocking.h"

#include <algorithm>
#include <thread>

#include "commands/dispatch.h"
#include "engine/keyspace.h"

namespace runnel::commands {

namespace {

void RemoveFromWaitList(engine::Keyspace& ks, int db, const std::string& key,
                        const BlockedClient* w) {
  engine::Shard& shard = ks.shard(engine::Keyspace::ShardOf(key));
  std::lock_guard lock(shard.mutex());
  auto it = shard.waiters.find(std::make_pair(db, key));
  if (it == shard.waiters.end()) return;
  auto& list = it->second;
  list.erase(std::remove_if(list.begin(), list.end(), [&](auto& p) { return p.get() == w; }),
             list.end());
  if (list.empty()) shard.waiters.erase(it);
}

void Unregister(engine::Keyspace& ks, const BlockedClient& w) {
  for (const std::string& key : w.keys) RemoveFromWaitList(ks, w.db, key, &w);
}

// Runs a waiter's command once more. Returns true if it was served (or failed for good) and
// its reply is in `out`; false if it found nothing again and keeps waiting.
bool Retry(CommandContext& writer, BlockedClient& w, resp::OutBuffer* out,
           engine::Changes* downstream, uint64_t* lsn) {
  Session session;
  session.id = w.client_id;
  session.resp = w.resp;
  session.db.store(w.db);
  session.authenticated = true;
  session.thread = w.thread;
  resp::ReplyWriter writer_out(out, w.resp);
  std::vector<std::string_view> args(w.retry_args.begin(), w.retry_args.end());
  CommandContext ctx(args, &writer_out, &session, &writer.keyspace(), &writer.server(),
                     &writer.stats());
  ctx.set_retry(true);
  Execute(ctx);
  // Writes the retry made (XREADGROUP moving entries into a PEL) may wake others in turn.
  for (auto& r : ctx.changes().ready) downstream->ready.push_back(std::move(r));
  *lsn = ctx.required_lsn();
  return !ctx.blocked();
}

}  // namespace

std::shared_ptr<BlockedClient> RegisterBlocked(CommandContext& ctx) {
  auto w = std::make_shared<BlockedClient>();
  CommandContext::BlockRequest& req = ctx.block_request();
  w->client_id = ctx.session().id;
  w->thread = ctx.session().thread;
  w->db = ctx.session().db.load();
  w->resp = ctx.session().resp;
  w->deadline_ms = req.timeout_ms > 0 ? ctx.now_ms() + req.timeout_ms : 0;
  w->keys = std::move(req.keys);
  std::sort(w->keys.begin(), w->keys.end());
  w->keys.erase(std::unique(w->keys.begin(), w->keys.end()), w->keys.end());
  w->retry_args = std::move(req.retry_args);
  for (const std::string& key : w->keys) {
    engine::Shard& shard = ctx.keyspace().shard(engine::Keyspace::ShardOf(key));
    shard.waiters[std::make_pair(w->db, key)].push_back(w);  // the caller holds the lock
  }
  return w;
}

void ServeReadyKeys(CommandContext& ctx) {
  engine::Changes pending;
  pending.ready = std::move(ctx.changes().ready);
  ctx.changes().ready.clear();
  for (size_t i = 0; i < pending.ready.size(); ++i) {
    auto [db, key] = pending.ready[i];
    std::deque<std::shared_ptr<engine::Waiter>> waiters;
    {
      engine::Shard& shard = ctx.keyspace().shard(engine::Keyspace::ShardOf(key));
      std::lock_guard lock(shard.mutex());
      auto it = shard.waiters.find(std::make_pair(db, key));
      if (it == shard.waiters.end()) continue;
      waiters = it->second;
    }
    for (auto& base : waiters) {
      auto w = std::static_pointer_cast<BlockedClient>(base);
      int expected = BlockedClient::kWaiting;
      if (!w->state.compare_exchange_strong(expected, BlockedClient::kRunning)) {
        // Someone else is re-running it: make them look again after they finish.
        expected = BlockedClient::kRunning;
        w->state.compare_exchange_strong(expected, BlockedClient::kRunningDirty);
        continue;
      }
      resp::OutBuffer out;
      uint64_t lsn = 0;
      while (true) {
        if (Retry(ctx, *w, &out, &pending, &lsn)) {
          w->state.store(BlockedClient::kDone);
          Unregister(ctx.keyspace(), *w);
          ctx.server().DeliverUnblocked(w->thread, w->client_id, w, out.ToString(), lsn);
          break;
        }
        out.Clear();
        expected = BlockedClient::kRunning;
        if (w->state.compare_exchange_strong(expected, BlockedClient::kWaiting)) break;
        w->state.store(BlockedClient::kRunning);  // it was marked dirty: try once more
      }
    }
  }
}

bool CancelBlocked(engine::Keyspace& ks, const std::shared_ptr<BlockedClient>& w) {
  while (true) {
    int expected = BlockedClient::kWaiting;
    if (w->state.compare_exchange_strong(expected, BlockedClient::kDone)) {
      Unregister(ks, *w);
      return true;
    }
    if (expected == BlockedClient::kDone) return false;
    std::this_thread::yield();  // another thread is re-running it; that takes microseconds
  }
}

}  // namespace runnel::commands
