// One client connection: owned by one event loop for its whole life. Bytes are read into a
// growable buffer, parsed in place, each complete command runs to completion, and the replies
// and Pub/Sub messages collected in the output buffer go out with writev at the end of the loop
// pass (EventLoop::ScheduleFlush).
#pragma once

#include <uv.h>

#include <memory>

#include "commands/blocking.h"
#include "commands/context.h"
#include "resp/out_buffer.h"
#include "resp/parser.h"
#include "resp/reply.h"
#include "server/pubsub.h"

namespace runnel::server {

class EventLoop;

class Connection {
 public:
  Connection(EventLoop* loop, uint64_t id);
  ~Connection();
  // Takes the socket; returns false if libuv refuses it: the caller then closes fd, and the
  // connection has already disposed of itself.
  bool Open(int fd);
  void Close();  // idempotent; the object deletes itself when libuv is done
  // Shutdown: sends what can be sent at once (replies of commands that already ran), then
  // closes.
  void FlushAndClose();
  commands::Session& session() { return session_; }
  bool closing() const { return closing_; }

  // A blocked command of this client was served on some thread: `reply` is its answer.
  void DeliverUnblocked(const std::shared_ptr<commands::BlockedClient>& w, std::string reply,
                        uint64_t lsn);
  // The log became durable up to `lsn`: send held replies that were waiting for it.
  void OnDurable(uint64_t lsn);
  // The log position this connection's pending output waits for (0: none), and whether it is
  // on its loop's waiting list.
  uint64_t hold_lsn() const { return hold_lsn_; }
  bool waiting_durable() const { return waiting_durable_; }
  void set_waiting_durable(bool v) { waiting_durable_ = v; }
  // Pub/Sub messages [first, last) of `batch` for this subscriber. Only appends; the output goes
  // out at the end of the loop pass.
  void DeliverMessages(const DeliveryBatch& batch, size_t first, size_t last);
  // The end of the loop pass: writes what was added since ScheduleFlush.
  void FlushScheduled() {
    flush_scheduled_ = false;
    Flush();
  }
  // CLIENT UNBLOCK: ends the wait with a timeout reply, or an UNBLOCKED error.
  void UnblockByCommand(bool with_error);

 private:
  static void OnAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnClose(uv_handle_t* h);
  static void OnBlockTimeout(uv_timer_t* t);

  void ProcessInput();
  // Runs one parsed command; [lo, hi) are its bytes in the read buffer.
  void RunCommand(std::span<const std::string_view> args, const char* lo, const char* hi);
  void ScheduleFlush();
  void Flush();
  bool OverOutputLimit();
  void Park(std::shared_ptr<commands::BlockedClient> w);
  void HoldFor(uint64_t lsn);
  // Leaves the blocked state and carries on with any pipelined commands.
  void Unpark();

  EventLoop* loop_;
  uv_tcp_t tcp_;
  uv_write_t write_req_;
  bool write_in_flight_ = false;
  bool flush_scheduled_ = false;
  uint64_t input_window_ = UINT64_MAX;  // EventLoop::NoteInput's
  size_t flush_slot_ = 0;  // in the loop's list, while scheduled
  size_t in_flight_bytes_ = 0;
  bool closing_ = false;
  bool open_ = false;
  int open_handles_ = 0;  // libuv handles still to close before the object can go

  std::shared_ptr<commands::BlockedClient> blocked_;
  // appendfsync always: output is held until the log is durable up to here (0 = not held).
  uint64_t hold_lsn_ = 0;
  bool waiting_durable_ = false;
  uv_timer_t block_timer_;

  std::unique_ptr<char[]> rbuf_;
  size_t rcap_ = 0;
  size_t rlen_ = 0;  // bytes in rbuf_
  size_t rpos_ = 0;  // bytes already consumed
  resp::Parser parser_;

  resp::OutBuffer out_;
  resp::OutBuffer discard_;  // replies suppressed by CLIENT REPLY OFF/SKIP
  resp::ReplyWriter writer_;
  commands::Session session_;
  int64_t soft_limit_since_ms_ = 0;
  int64_t read_time_ms_ = 0;  // when the current batch of input arrived
  bool big_output_ = false;
};

}  // namespace runnel::server
