// The server: keyspace, event-loop threads, the listener that spreads accepted sockets over the
// loops, signal handling and shutdown, and the ServerApi commands use to see clients and stats.
#pragma once

#include <uv.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "commands/context.h"
#include "engine/keyspace.h"
#include "server/loop_sharing.h"
#include "server/persistence.h"
#include "server/pubsub.h"

namespace runnel::server {

class EventLoop;

class Server : public commands::ServerApi {
 public:
  Server();
  ~Server() override;

  // Binds, starts the loops and runs until shutdown. Returns the process exit code.
  int Run();

  engine::Keyspace& keyspace() { return *keyspace_; }

  // Connection registry (any thread).
  void Register(commands::Session* s);
  void Unregister(commands::Session* s);
  uint64_t NextClientId() { return next_client_id_.fetch_add(1); }
  // An accepted socket never became a connection.
  void AdoptFailed() { connected_.fetch_sub(1); }

  // commands::ServerApi
  void ForEachSession(const std::function<void(const commands::Session&)>& fn) override;
  bool KillClient(uint64_t id) override;
  void RequestShutdown(int save) override;
  int ConnectedClients() override;
  int BlockedClients() override { return blocked_.load(); }
  void BlockedChanged(int delta) { blocked_.fetch_add(delta); }
  void DeliverUnblocked(int thread, uint64_t client_id,
                        std::shared_ptr<commands::BlockedClient> waiter, std::string reply,
                        uint64_t lsn) override;
  bool Save(std::string* error) override;
  bool BackgroundSave() override;
  void FlushedAll(bool in_transaction) override;
  bool SaveInProgress() override;
  int64_t LastSaveTime() override;
  bool Reload(std::string* error) override;
  bool SetAppendOnly(bool on, std::string* error) override;
  std::string PersistenceInfo() override;
  void InjectWalFault(const std::string& what, int err) override { Persistence::SetFault(what, err); }
  bool Subscribe(const commands::Session& s, int kind, const std::string& name) override;
  bool Unsubscribe(const commands::Session& s, int kind, const std::string& name) override;
  int Publish(int kind, std::string_view channel, std::string_view message) override {
    return pubsub_.Publish(static_cast<Channel>(kind), channel, message);
  }
  std::vector<std::string> PubSubChannels(int kind, std::string_view pattern) override {
    return pubsub_.Channels(static_cast<Channel>(kind), pattern);
  }
  int PubSubSubscribers(int kind, const std::string& name) override {
    return pubsub_.Subscribers(static_cast<Channel>(kind), name);
  }
  int PubSubPatterns() override { return pubsub_.Patterns(); }
  PubSub& pubsub() { return pubsub_; }
  // Hands messages published on another thread to `thread`, in one mailbox post.
  void Deliver(int thread, DeliveryBatch batch);
  int UnblockClient(uint64_t id, bool with_error) override;
  uint64_t TotalConnections() override { return total_connections_.load(); }
  uint64_t RejectedConnections() override { return rejected_connections_.load(); }
  int64_t StartTimeMs() override { return start_ms_; }
  int Port() override { return port_; }
  int Threads() override { return static_cast<int>(loops_.size()); }
  std::vector<commands::ThreadStats*> AllStats() override;
  void ResetStats() override;

 private:
  bool Listen();
  static void OnListenReadable(uv_poll_t* handle, int status, int events);
  static void OnSignal(uv_signal_t* handle, int signum);
  static void OnShutdownAsync(uv_async_t* handle);
  static void OnTimer(uv_timer_t* handle);
  void AcceptAll(int listen_fd);
  // loop-sharing: whether the loops should share loop 0's thread now, and if that changed,
  // asks them (EventLoop::ParkOn, ReleaseGuests). Every timer tick.
  void BalanceThreads();
  void BeginShutdown();
  // Loads the data on a thread of its own while clients get -LOADING; stops the server if the
  // data cannot be loaded.
  void StartRecovery();

  std::unique_ptr<engine::Keyspace> keyspace_;
  std::unique_ptr<Persistence> persistence_;
  PubSub pubsub_{this};
  std::thread recovery_;
  std::atomic<int> shutdown_save_{-1};
  std::atomic<bool> recovery_failed_{false};
  std::mutex notify_mu_;  // the log's durability callback vs. loops shutting down
  bool loops_alive_ = true;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  uv_loop_t loop_;
  std::vector<std::unique_ptr<uv_poll_t>> listeners_;
  std::vector<int> listen_fds_;
  uv_signal_t sigint_, sigterm_;
  uv_async_t shutdown_async_;
  uv_timer_t timer_;
  size_t next_loop_ = 0;
  SharingPolicy sharing_{static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))};
  bool shared_ = false;                   // what was last asked of the loops
  std::atomic<bool> share_wanted_{false};  // the same, for the loops to ask again
  int port_ = 0;
  int64_t start_ms_ = 0;
  bool shutting_down_ = false;

  std::mutex registry_mu_;
  std::unordered_map<uint64_t, commands::Session*> sessions_;
  std::atomic<uint64_t> next_client_id_{1};
  std::atomic<uint64_t> total_connections_{0};
  std::atomic<uint64_t> rejected_connections_{0};
  std::atomic<int> connected_{0};
  std::atomic<int> blocked_{0};
};

}  // namespace runnel::server
