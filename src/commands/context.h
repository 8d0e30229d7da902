// What a command handler sees: its arguments, the reply writer, the connection's session state,
// the keyspace, and a narrow interface to the server (client list, shutdown, stats). Handlers
// never touch sockets or event loops directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/keyspace_events.h"
#include "engine/keyspace.h"
#include "resp/reply.h"

namespace runnel::commands {

struct CommandSpec;
class BlockedClient;

enum class ReplyMode { kOn, kOff, kSkip };

// Per-connection state that commands read and change. Owned by the server's connection; fields
// other threads read (CLIENT LIST) are atomics or guarded by `mu`.
struct Session {
  uint64_t id = 0;
  int resp = 2;
  std::atomic<int> db{0};
  bool authenticated = false;
  ReplyMode reply_mode = ReplyMode::kOn;
  bool no_evict = false;
  bool no_touch = false;
  bool close_after_reply = false;
  std::atomic<bool> kill_requested{false};
  std::atomic<bool> blocked{false};  // waiting in a blocking command
  int64_t created_ms = 0;
  std::atomic<int64_t> last_interaction_ms{0};
  std::atomic<const CommandSpec*> last_command{nullptr};
  std::atomic<size_t> query_buffer{0};
  std::atomic<size_t> output_buffer{0};
  std::atomic<uint64_t> commands{0};
  int thread = 0;
  std::string addr;   // peer "ip:port"
  std::string laddr;  // local "ip:port"
  int fd = -1;

  // Pub/Sub subscriptions by kind (0 channels, 1 patterns, 2 shard channels); the counts are
  // for other threads (CLIENT LIST).
  std::set<std::string> subscriptions[3];
  std::atomic<int> subscription_count[3] = {0, 0, 0};
  int subscribed() const {
    return static_cast<int>(subscriptions[0].size() + subscriptions[1].size() +
                            subscriptions[2].size());
  }

  // MULTI/EXEC (the owning thread only).
  bool in_multi = false;
  bool multi_aborted = false;  // a command was refused while queueing: EXEC fails
  std::vector<std::vector<std::string>> queued;
  std::shared_ptr<engine::Watch> watch;  // null when nothing is watched

  mutable std::mutex mu;  // guards the strings below
  std::string name;
  std::string lib_name;
  std::string lib_ver;
};

// Counters of one command on one thread (INFO commandstats); relaxed atomics so INFO can read.
struct CommandStats {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> usec{0};
  std::atomic<uint64_t> rejected_calls{0};
  std::atomic<uint64_t> failed_calls{0};
};

struct ThreadStats {
  explicit ThreadStats(int commands) : per_command(commands) {}
  std::vector<CommandStats> per_command;
  std::atomic<uint64_t> commands_processed{0};
  std::atomic<uint64_t> expired_keys{0};
  std::atomic<uint64_t> keyspace_hits{0};
  std::atomic<uint64_t> keyspace_misses{0};
  std::atomic<uint64_t> total_error_replies{0};
  std::atomic<bool> batch_waiting{true};  // the loop's BatchWaitTuner::decision(), for INFO
  std::atomic<bool> hosted{false};        // another loop's thread runs this loop (loop-sharing)
  std::mutex errors_mu;
  std::vector<std::pair<std::string, uint64_t>> errors;  // error prefix -> count
  void CountError(std::string_view prefix);
};

// The server as commands see it.
class ServerApi {
 public:
  virtual ~ServerApi() = default;
  // Calls fn for every connected client's session (under the registry lock).
  virtual void ForEachSession(const std::function<void(const Session&)>& fn) = 0;
  // Asks the client's thread to close it; returns false if no such client.
  virtual bool KillClient(uint64_t id) = 0;
  // save: 1 take a checkpoint first, 0 don't, -1 as configured (if there are save points).
  virtual void RequestShutdown(int save) = 0;
  virtual int ConnectedClients() = 0;
  virtual int BlockedClients() = 0;
  virtual uint64_t TotalConnections() = 0;
  virtual uint64_t RejectedConnections() = 0;
  virtual int64_t StartTimeMs() = 0;
  virtual int Port() = 0;
  virtual int Threads() = 0;
  // Hands the reply of a served blocked client to its event loop (any thread).
  // `lsn`: the log position the reply depends on (see CommandContext::required_lsn).
  virtual void DeliverUnblocked(int thread, uint64_t client_id,
                                std::shared_ptr<BlockedClient> waiter, std::string reply,
                                uint64_t lsn) = 0;
  // CLIENT UNBLOCK: 1 if the client was blocked and is now being unblocked, else 0.
  virtual int UnblockClient(uint64_t id, bool with_error) = 0;
  // Persistence: a checkpoint now (SAVE), or in the background (BGSAVE, BGREWRITEAOF).
  virtual bool Save(std::string* error) = 0;
  virtual bool BackgroundSave() = 0;
  virtual bool SaveInProgress() = 0;
  // After FLUSHALL (`in_transaction`: inside EXEC), whatever persistence owes it.
  virtual void FlushedAll(bool in_transaction) = 0;
  virtual int64_t LastSaveTime() = 0;
  // DEBUG RELOAD: checkpoint and load it back.
  virtual bool Reload(std::string* error) = 0;
  // CONFIG SET appendonly: turns the log on or off; false (with *error) if that failed.
  virtual bool SetAppendOnly(bool on, std::string* error) = 0;
  virtual std::string PersistenceInfo() = 0;
  // DEBUG WAL-FAULT (tests): what is "write", "fsync", "all"; err 0 clears.
  virtual void InjectWalFault(const std::string& what, int err) = 0;
  // Pub/Sub across threads; kind: 0 channel, 1 pattern, 2 shard channel. Subscribe and
  // Unsubscribe return false if nothing changed.
  virtual bool Subscribe(const Session& s, int kind, const std::string& name) = 0;
  virtual bool Unsubscribe(const Session& s, int kind, const std::string& name) = 0;
  virtual int Publish(int kind, std::string_view channel, std::string_view message) = 0;
  virtual std::vector<std::string> PubSubChannels(int kind, std::string_view pattern) = 0;
  virtual int PubSubSubscribers(int kind, const std::string& name) = 0;
  virtual int PubSubPatterns() = 0;
  // Stats of every event-loop thread, for INFO.
  virtual std::vector<ThreadStats*> AllStats() = 0;
  virtual void ResetStats() = 0;
};

// Formats one CLIENT LIST / CLIENT INFO line for a session.
std::string ClientInfoLine(const Session& s, int64_t now_ms);

class CommandContext {
 public:
  CommandContext(std::span<const std::string_view> args, resp::ReplyWriter* out, Session* session,
                 engine::Keyspace* keyspace, ServerApi* server, ThreadStats* stats)
      : args_(args), out_(out), session_(session), keyspace_(keyspace), server_(server),
        stats_(stats) {}
  // Effects hold slices into the context itself (Keep): it never moves.
  CommandContext(const CommandContext&) = delete;
  CommandContext& operator=(const CommandContext&) = delete;

  std::span<const std::string_view> args() const { return args_; }
  std::string_view arg(size_t i) const { return args_[i]; }
  size_t argc() const { return args_.size(); }
  resp::ReplyWriter& out() { return *out_; }
  Session& session() { return *session_; }
  engine::Keyspace& keyspace() { return *keyspace_; }
  ServerApi& server() { return *server_; }
  ThreadStats& stats() { return *stats_; }
  const CommandSpec* spec() const { return spec_; }
  void set_spec(const CommandSpec* spec) { spec_ = spec; }
  int64_t now_ms() const { return now_ms_; }
  void set_now_ms(int64_t ms) { now_ms_ = ms; }
  // The session's current database, for this command.
  engine::Db db() { return db(session_->db.load(std::memory_order_relaxed)); }
  engine::Db db(int index) {
    engine::Db db(keyspace_, index, now_ms_, !session_->no_touch, &changes_);
    db.set_stable_range(request_lo_, request_hi_);
    if (seed_key_ != nullptr) db.SeedShard(seed_key_, seed_len_, seed_shard_);
    return db;
  }
  // The bytes of the request in the connection's read buffer, which hold still while the command
  // runs (the Db uses this to cache key shards safely).
  void set_request_bytes(const char* lo, const char* hi) {
    request_lo_ = lo;
    request_hi_ = hi;
  }
  // The dispatcher hashed the key to lock its shard; Db views reuse the answer.
  void SeedShard(std::string_view key, int shard) {
    if (key.data() < request_lo_ || key.data() >= request_hi_) return;
    seed_key_ = key.data();
    seed_len_ = key.size();
    seed_shard_ = shard;
  }
  engine::Changes& changes() { return changes_; }

  // --- The write-ahead log ---
  // A write command is logged as its own arguments unless the handler gives its deterministic
  // effect instead, as one or more commands that replay to the same data: XADD k * ... becomes
  // XADD k <id> ..., EXPIRE becomes PEXPIREAT, INCRBYFLOAT a SET of the result. Each effect runs
  // in the command's database. A handler that changed nothing (no Db::Touched) logs nothing.
  void AddEffect(std::vector<std::string> argv);
  // The same from slices that live as long as the command: its own arguments, literals, or
  // copies made with Keep(). Costs no allocation per argument (XADD * logs its ID this way).
  void AddEffectArgs(std::span<const std::string_view> argv);
  std::string_view Keep(std::string_view s);
  size_t effect_count() const { return effect_ends_.size(); }
  std::span<const std::string_view> effect(size_t i) const {
    size_t begin = i == 0 ? 0 : effect_ends_[i - 1];
    return std::span<const std::string_view>(effect_args_).subspan(begin,
                                                                   effect_ends_[i] - begin);
  }

  // --- Keyspace notifications (notify-keyspace-events) ---
  // Announces that `event` ("set", "lpush", "del", ...) of class `type` (kNotifyString,
  // kNotifyGeneric, ...) happened to `key` in the command's database, or in database `db`.
  // When the class is off this is one relaxed load and a branch. Events are published in the
  // order announced, after the command has released its shard locks (after the whole
  // transaction inside EXEC); keys the engine found expired or created are announced in between,
  // where they happened. Replay announces nothing.
  void Notify(uint32_t type, std::string_view event, std::string_view key) {
    if ((KeyspaceEvents() & type) != 0) [[unlikely]]
      QueueEvent(type, event, key, session_->db.load(std::memory_order_relaxed));
  }
  void Notify(uint32_t type, std::string_view event, std::string_view key, int db) {
    if ((KeyspaceEvents() & type) != 0) [[unlikely]] QueueEvent(type, event, key, db);
  }
  struct KeyspaceEvent {
    int db;
    std::string event;
    std::string key;
  };
  // The events so far, those of expired and created keys included; the list is left empty.
  std::vector<KeyspaceEvent> TakeEvents();
  // EXEC: the events of a command it ran go out with the transaction's, in order.
  void AdoptEvents(CommandContext& sub);

  // --- Blocking ---
  // Called by a blocking command that found nothing to serve: no reply is written; the client
  // waits until one of `keys` (in the current database) is written, then `retry_args` run again
  // as if sent by the client (use them to pin what must not change, e.g. XREAD's `$` replaced
  // by the stream's last ID). timeout_ms 0 waits forever.
  void Block(std::vector<std::string> keys, int64_t timeout_ms,
             std::vector<std::string> retry_args) {
    block_ = BlockRequest{std::move(keys), timeout_ms, std::move(retry_args)};
    blocked_ = true;
  }
  // True while re-running a blocked command after one of its keys was written. A command that
  // finds nothing again simply calls Block() again (the client stays blocked with its original
  // deadline); one that finds its key deleted or its group gone replies with the error Redis
  // gives then.
  bool is_retry() const { return retry_; }
  // Run by EXEC: the transaction holds the locks, logs one record and serves woken clients.
  void set_in_exec(bool v) { in_exec_ = v; }
  bool in_exec() const { return in_exec_; }
  // Recovery: the command is a logged effect run again at its original time `time_ms`; no
  // checks, no logging, no blocking.
  void set_replay(int64_t time_ms) {
    replay_ = true;
    replay_time_ms_ = time_ms;
  }
  bool replaying() const { return replay_; }
  int64_t replay_time_ms() const { return replay_time_ms_; }
  // With appendfsync always: the log position that must be durable before this command's reply
  // may be sent (its own record, or the last write of the shards it read).
  uint64_t required_lsn() const { return required_lsn_; }
  void set_required_lsn(uint64_t lsn) { required_lsn_ = lsn; }
  void set_retry(bool retry) { retry_ = retry; }
  struct BlockRequest {
    std::vector<std::string> keys;
    int64_t timeout_ms = 0;
    std::vector<std::string> retry_args;
  };
  bool blocked() const { return blocked_; }
  BlockRequest& block_request() { return block_; }
  // After Execute: the registered waiter if the command blocked (not on retries).
  const std::shared_ptr<BlockedClient>& blocked_client() const { return blocked_client_; }
  void set_blocked_client(std::shared_ptr<BlockedClient> w) { blocked_client_ = std::move(w); }

  // Sends an error reply ("ERR ...", "WRONGTYPE ...") and counts it for INFO errorstats.
  void Error(std::string_view msg);
  bool failed() const { return failed_; }
  void set_args(std::span<const std::string_view> args) { args_ = args; }

 private:
  void QueueEvent(uint32_t type, std::string_view event, std::string_view key, int db);
  // Turns the keys the engine reported expired or created since the last call into events.
  void CollectEngineEvents();

  std::span<const std::string_view> args_;
  resp::ReplyWriter* out_;
  Session* session_;
  engine::Keyspace* keyspace_;
  ServerApi* server_;
  ThreadStats* stats_;
  const CommandSpec* spec_ = nullptr;
  int64_t now_ms_ = 0;
  bool failed_ = false;
  const char* seed_key_ = nullptr;
  size_t seed_len_ = 0;
  int seed_shard_ = 0;
  const char* request_lo_ = nullptr;
  const char* request_hi_ = nullptr;
  bool retry_ = false;
  bool in_exec_ = false;
  bool replay_ = false;
  int64_t replay_time_ms_ = 0;
  uint64_t required_lsn_ = 0;
  bool blocked_ = false;
  BlockRequest block_;
  std::shared_ptr<BlockedClient> blocked_client_;
  engine::Changes changes_;
  // Every effect's arguments back to back, and where each effect ends.
  std::vector<std::string_view> effect_args_;
  std::vector<size_t> effect_ends_;
  // Storage behind slices that are not the command's own: whole effects given as strings (an
  // element's strings never move, even when this vector grows) and small Keep() copies.
  std::vector<std::vector<std::string>> owned_effects_;
  char kept_[64];
  size_t kept_used_ = 0;
  std::vector<KeyspaceEvent> events_;
  size_t expired_announced_ = 0;  // of changes_.expired
};

}  // namespace runnel::commands
