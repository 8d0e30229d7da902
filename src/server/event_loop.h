// One event-loop thread: a libuv loop, a mailbox other threads post work to (uv_async_t), the
// connections that live on this thread, its side of Pub/Sub, the end of each loop pass
// (messages published on the thread go to their threads, connections with new output are
// written, the log goes to the kernel, output waiting for it is released), and its periodic
// duties (active expiry of its share of the shards, idle-client timeouts).
//
// Sharing (loop-sharing; Server::BalanceThreads): while the machine's CPUs are busy with other
// processes, the loop can hand itself to another loop's thread, its host, and its own thread
// sleeps. A connection still belongs to its loop for its whole life; only the thread that runs
// the loop changes. The host watches the guest loop's poll set and timers from its own loop,
// runs the guest's passes between its own (uv_run NOWAIT), and at the end of its own pass
// commits the log once for both and releases both loops' output that waited for it.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <atomic>
#include <condition_variable>
#include <unordered_map>
#include <vector>

#include "commands/context.h"
#include "common/config.h"
#include "server/batch_wait_tuner.h"
#include "server/pubsub.h"

namespace runnel::server {

class Connection;
class Server;

class EventLoop {
 public:
  EventLoop(Server* server, int index);
  ~EventLoop();

  void Start();  // spawns the thread
  void Join();
  // Runs fn on this loop's thread, soon. Safe from any thread.
  void Post(std::function<void()> fn);
  // Closes every connection after flushing what it can, then lets the loop end.
  void Stop();

  // Sharing. On the thread that runs this loop: hands the loop to `host`'s thread, unless it is
  // hosted already or stopping. `wanted` is asked again at the last moment (by the host too),
  // so that of requests that cross, the last one wins.
  void ParkOn(EventLoop* host, std::function<bool()> wanted);
  // On this loop's thread: every guest gets its own thread back.
  void ReleaseGuests();

  uv_loop_t* loop() { return &loop_; }
  int index() const { return index_; }
  Server* server() const { return server_; }
  commands::ThreadStats& stats() { return stats_; }

  // Adopts an accepted socket as a new connection on this loop (loop thread only).
  void Adopt(int fd);
  void Forget(Connection* c);  // the connection closed
  size_t connections() const { return connections_.size(); }
  void CloseClient(uint64_t id);
  Connection* Find(uint64_t id);
  // Connections whose output waits for the log to become durable. At the end of each loop pass,
  // after the scheduled flushes, the loop commits the log itself (Wal::Commit) and releases
  // what is durable; the rest is released by NotifyDurable.
  void WaitDurable(Connection* c);
  void StopWaitingDurable(Connection* c);
  // From whichever thread advanced the log's durable position: wakes this loop if a connection
  // waits (not needed on the loop's own thread, which looks after its pass).
  void NotifyDurable();
  // c has new output: it is written at the end of this loop pass, together with whatever else
  // the pass adds (loop thread only). Returns c's slot, for CancelFlush when c closes first.
  size_t ScheduleFlush(Connection* c) {
    to_flush_.push_back(c);
    return to_flush_.size() - 1;
  }
  void CancelFlush(size_t slot) { to_flush_[slot] = nullptr; }
  LocalPubSub& pubsub() { return pubsub_; }
  // A connection queued a write or closed: libuv has to see this loop's poll set before the
  // next wait. Its own thread always does; a host runs a pass of the guest if it happened
  // outside one (releasing output that waited for the log).
  void NeedsPass() { needs_pass_ = true; }
  // A connection read input (its window: the last window it was counted in).
  void NoteInput(uint64_t* window) {
    ++pass_inputs_;
    if (*window != window_) {
      *window = window_;
      ++window_active_;
    }
  }
  // client-output-buffer-limit as of this pass's flushes: read once per pass rather than under
  // the config lock once per write.
  const OutputLimit& output_limit(ClientClass c) const {
    return output_limits_[static_cast<int>(c)];
  }

 private:
  struct Guest;  // a host's watch over one guest loop
  static void OnAsync(uv_async_t* handle);
  static void OnDurableAsync(uv_async_t* handle);
  static void OnCheck(uv_check_t* handle);
  static void OnPrepare(uv_prepare_t* handle);
  void EndOfPass();
  void ReadOutputLimits();
  void ReleaseDurable();
  void WaitForMoreInput();
  static void OnTimer(uv_timer_t* handle);
  void Run();
  void Tick();
  bool Accept(EventLoop* guest);  // any thread: false once the host is stopping
  void AddGuest(EventLoop* guest);
  void RunGuest(Guest* guest);
  void RemoveGuest(Guest* guest);
  void Unpark();
  static void OnGuestReady(uv_poll_t* handle, int status, int events);
  static void OnGuestTimer(uv_timer_t* handle);

  Server* server_;
  int index_;
  uv_loop_t loop_;
  uv_async_t async_;
  uv_async_t durable_async_;
  // The end of a pass: after the I/O callbacks (check), and after the timers, before the loop
  // waits for I/O (prepare).
  uv_check_t check_;
  uv_prepare_t prepare_;
  std::vector<Connection*> to_flush_;  // null: cancelled
  OutputLimit output_limits_[3];       // by ClientClass
  LocalPubSub pubsub_;
  std::vector<Connection*> waiting_durable_;  // each connection at most once
  std::vector<Connection*> releasing_;        // ReleaseDurable's, kept for its capacity
  std::atomic<bool> has_waiting_{false};
  // Input batching: connections with input in the current millisecond (window_, the loop's
  // uv_now) and in the one before (active_), and connections read since the last poll.
  uint64_t window_ = 0;
  int window_active_ = 0;
  int active_ = 0;
  int pass_inputs_ = 0;
  BatchWaitTuner batch_tuner_;
  bool waited_for_disk_ = false;  // this pass committed with an fsync (appendfsync always)
  // The thread running the loop now (its own, or its host's), and its own.
  std::atomic<std::thread::id> thread_id_;
  std::thread::id own_thread_;
  // Sharing, guest side. host_ is set while a host runs this loop; only the thread running the
  // loop reads it. The own thread sleeps while parked_.
  EventLoop* host_ = nullptr;
  EventLoop* park_on_ = nullptr;  // ParkOn asked for this host
  std::function<bool()> park_wanted_;
  std::mutex park_mu_;
  std::condition_variable park_cv_;
  bool parked_ = false;
  bool needs_pass_ = false;
  // Host side: the guests run here (loop thread), and those parked, not yet added.
  std::vector<Guest*> guests_;
  std::mutex guests_mu_;
  std::vector<EventLoop*> arriving_;
  bool accepting_ = true;  // until Stop
  uv_timer_t timer_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::function<void()>> inbox_;
  std::unordered_map<uint64_t, Connection*> connections_;
  commands::ThreadStats stats_;
  std::mt19937_64 rng_;
  bool stopping_ = false;
  int64_t last_timeout_check_ms_ = 0;
};

}  // namespace runnel::server
