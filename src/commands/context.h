// What a command handler sees: its arguments, the reply writer, the connection's session state,
// the keyspace, and a narrow interface to the server (client list, shutdown, stats). Handlers
// never touch sockets or event loops directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/keyspace.h"
#include "resp/reply.h"

namespace runnel::commands {

struct CommandSpec;

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
  virtual void RequestShutdown() = 0;
  virtual int ConnectedClients() = 0;
  virtual int BlockedClients() = 0;
  virtual uint64_t TotalConnections() = 0;
  virtual uint64_t RejectedConnections() = 0;
  virtual int64_t StartTimeMs() = 0;
  virtual int Port() = 0;
  virtual int Threads() = 0;
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
  engine::Db db(int index) { return engine::Db(keyspace_, index, now_ms_, !session_->no_touch); }

  // Sends an error reply ("ERR ...", "WRONGTYPE ...") and counts it for INFO errorstats.
  void Error(std::string_view msg);
  bool failed() const { return failed_; }
  void set_args(std::span<const std::string_view> args) { args_ = args; }

 private:
  std::span<const std::string_view> args_;
  resp::ReplyWriter* out_;
  Session* session_;
  engine::Keyspace* keyspace_;
  ServerApi* server_;
  ThreadStats* stats_;
  const CommandSpec* spec_ = nullptr;
  int64_t now_ms_ = 0;
  bool failed_ = false;
};

}  // namespace runnel::commands
