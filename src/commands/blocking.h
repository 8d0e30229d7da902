// Clients blocked on keys (XREAD BLOCK, XREADGROUP BLOCK, and later BLPOP & co.): one mechanism.
//
// A blocking command that finds nothing calls CommandContext::Block(). While its shard locks are
// still held, the dispatcher registers a BlockedClient in each key's wait list (so no write can
// slip in between "nothing there" and "waiting"). A write to such a key puts it on the writing
// command's ready list; after that command releases its locks, ServeReadyKeys() re-runs the
// waiters' commands in the order they blocked, on the writer's thread, and hands each reply to
// the waiter's own event loop. Timeouts, CLIENT UNBLOCK and disconnects cancel a waiter.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "commands/context.h"

namespace runnel::commands {

class BlockedClient : public engine::Waiter {
 public:
  enum State { kWaiting, kRunning, kRunningDirty, kDone };

  uint64_t client_id = 0;
  int thread = 0;  // the event loop that owns the connection
  int db = 0;
  int resp = 2;
  int64_t deadline_ms = 0;  // 0 = none
  std::vector<std::string> keys;
  std::vector<std::string> retry_args;
  std::atomic<int> state{kWaiting};
};

// Registers the request the handler made with Block(); call with the command's locks held.
std::shared_ptr<BlockedClient> RegisterBlocked(CommandContext& ctx);
// Re-runs the commands of clients blocked on keys that `ctx`'s command wrote. No locks held.
void ServeReadyKeys(CommandContext& ctx);
// Takes a waiting client out of every wait list; false if it was already served (its reply is
// on its way) or cancelled.
bool CancelBlocked(engine::Keyspace& ks, const std::shared_ptr<BlockedClient>& w);

}  // namespace runnel::commands
