// One event-loop thread: a libuv loop, a mailbox other threads post work to (uv_async_t), the
// connections that live on this thread, and its periodic duties (active expiry of its share of
// the shards, idle-client timeouts).
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <atomic>
#include <unordered_map>
#include <vector>

#include "commands/context.h"

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
  // Connections whose output waits for the log to become durable. Once per loop pass, after the
  // input callbacks, the loop writes the log to the kernel itself (everysec/no) and releases
  // what is durable; with always it waits for the writer thread's NotifyDurable.
  void WaitDurable(Connection* c);
  void StopWaitingDurable(Connection* c);
  // From whichever thread advanced the log's durable position: wakes this loop if a connection
  // waits (not needed on the loop's own thread, which looks after its pass).
  void NotifyDurable();

 private:
  static void OnAsync(uv_async_t* handle);
  static void OnDurableAsync(uv_async_t* handle);
  static void OnCheck(uv_check_t* handle);
  void ReleaseDurable();
  static void OnTimer(uv_timer_t* handle);
  void Run();
  void Tick();

  Server* server_;
  int index_;
  uv_loop_t loop_;
  uv_async_t async_;
  uv_async_t durable_async_;
  uv_check_t check_;
  std::vector<Connection*> waiting_durable_;  // each connection at most once
  std::atomic<bool> has_waiting_{false};
  std::thread::id thread_id_;
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
