// One client connection: owned by one event loop for its whole life. Bytes are read into a
// growable buffer, parsed in place, each complete command runs to completion, and the replies
// collected in the output buffer go out with writev after the batch.
#pragma once

#include <uv.h>

#include <memory>

#include "commands/context.h"
#include "resp/out_buffer.h"
#include "resp/parser.h"
#include "resp/reply.h"

namespace runnel::server {

class EventLoop;

class Connection {
 public:
  Connection(EventLoop* loop, uint64_t id);
  ~Connection();
  // Takes the socket; returns false (and the caller closes fd) if libuv refuses it.
  bool Open(int fd);
  void Close();  // idempotent; the object deletes itself when libuv is done
  commands::Session& session() { return session_; }
  bool closing() const { return closing_; }

 private:
  static void OnAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnClose(uv_handle_t* h);

  void ProcessInput();
  void RunCommand(std::span<const std::string_view> args);
  void Flush();
  bool OverOutputLimit();

  EventLoop* loop_;
  uv_tcp_t tcp_;
  uv_write_t write_req_;
  bool write_in_flight_ = false;
  size_t in_flight_bytes_ = 0;
  bool closing_ = false;
  bool open_ = false;

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
};

}  // namespace runnel::server
