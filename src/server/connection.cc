#include "server/connection.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>

#include <cstring>

#include "commands/dispatch.h"
#include "commands/wal_log.h"
#include "persist/wal.h"
#include "commands/table.h"
#include "commands/pubsub.h"
#include "commands/transactions.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "server/event_loop.h"
#include "server/server.h"

namespace runnel::server {

namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr int kMaxIov = 64;

std::string AddressString(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

Connection::Connection(EventLoop* loop, uint64_t id) : loop_(loop), writer_(&out_, 2) {
  session_.id = id;
  session_.thread = loop->index();
  session_.created_ms = NowMs();
  session_.last_interaction_ms = session_.created_ms;
  session_.authenticated = GlobalConfig().RequirePass().empty();
}

Connection::~Connection() = default;

bool Connection::Open(int fd) {
  if (uv_tcp_init(loop_->loop(), &tcp_) != 0) {
    delete this;
    return false;
  }
  tcp_.data = this;
  if (uv_tcp_open(&tcp_, fd) != 0) {
    // The handle was initialised, so libuv frees it (and then us); the fd stays the caller's.
    closing_ = true;
    open_handles_ = 1;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Connection::OnClose);
    return false;
  }
  open_ = true;
  open_handles_ = 2;
  uv_timer_init(loop_->loop(), &block_timer_);
  block_timer_.data = this;
  uv_tcp_nodelay(&tcp_, 1);
  int64_t keepalive = GlobalConfig().tcp_keepalive.load();
  if (keepalive > 0) uv_tcp_keepalive(&tcp_, 1, static_cast<unsigned>(keepalive));
  sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    session_.addr = AddressString(ss);
  len = sizeof ss;
  if (uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    session_.laddr = AddressString(ss);
  session_.fd = fd;
  loop_->server()->Register(&session_);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::OnAlloc, &Connection::OnRead);
  return true;
}

void Connection::Close() {
  if (closing_) return;
  closing_ = true;
  loop_->server()->Unregister(&session_);
  loop_->Forget(this);
  if (!open_) {
    delete this;
    return;
  }
  loop_->StopWaitingDurable(this);
  if (flush_scheduled_) {
    loop_->CancelFlush(flush_slot_);
    flush_scheduled_ = false;
  }
  commands::DiscardTransaction(loop_->server()->keyspace(), session_);
  commands::UnsubscribeAll(*loop_->server(), session_, nullptr);
  if (blocked_) {
    commands::CancelBlocked(loop_->server()->keyspace(), blocked_);
    loop_->server()->BlockedChanged(-1);
    blocked_.reset();
  }
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Connection::OnClose);
  uv_close(reinterpret_cast<uv_handle_t*>(&block_timer_), &Connection::OnClose);
  loop_->NeedsPass();
}

void Connection::FlushAndClose() {
  if (!closing_ && !write_in_flight_) Flush();
  Close();
}

void Connection::OnClose(uv_handle_t* h) {
  auto* c = static_cast<Connection*>(h->data);
  if (--c->open_handles_ == 0) delete c;
}

void Connection::OnAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(h->data);
  size_t want = kReadChunk;
  size_t needed = c->parser_.bytes_needed();
  if (needed > c->rlen_ - c->rpos_) want = std::max(want, needed - (c->rlen_ - c->rpos_));
  if (c->rcap_ - c->rlen_ < want) {
    size_t cap = std::max(c->rcap_ * 2, c->rlen_ + want);
    auto fresh = std::make_unique<char[]>(cap);
    if (c->rlen_ > 0) std::memcpy(fresh.get(), c->rbuf_.get(), c->rlen_);
    c->rbuf_ = std::move(fresh);
    c->rcap_ = cap;
  }
  *buf = uv_buf_init(c->rbuf_.get() + c->rlen_, static_cast<unsigned>(c->rcap_ - c->rlen_));
}

void Connection::OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto* c = static_cast<Connection*>(s->data);
  if (nread < 0) {
    c->Close();
    return;
  }
  if (nread == 0 || c->closing_) return;
  c->rlen_ += static_cast<size_t>(nread);
  c->loop_->NoteInput(&c->input_window_);
  // One clock read per batch of pipelined commands: they all run at the time they arrived.
  c->read_time_ms_ = NowMs();
  c->session_.last_interaction_ms.store(c->read_time_ms_, std::memory_order_relaxed);
  c->ProcessInput();
  c->ScheduleFlush();
}

void Connection::ProcessInput() {
  Config& config = GlobalConfig();
  resp::ParserLimits limits;
  limits.max_bulk_len = config.proto_max_bulk_len.load(std::memory_order_relaxed);
  limits.unauthenticated = !session_.authenticated;
  parser_.set_limits(limits);
  while (!closing_ && !blocked_ && !session_.close_after_reply && rpos_ < rlen_) {
    size_t consumed = 0;
    resp::ParseStatus st = parser_.Parse(rbuf_.get() + rpos_, rlen_ - rpos_, &consumed);
    if (st == resp::ParseStatus::kIncomplete) break;
    if (st == resp::ParseStatus::kError) {
      std::string msg = "ERR Protocol error: " + std::string(parser_.error());
      writer_.Error(msg);
      LogVerbose("Protocol error ({}) from client: id={} addr={}", parser_.error(), session_.id,
                 session_.addr);
      session_.close_after_reply = true;
      rpos_ = rlen_;
      break;
    }
    const char* request = rbuf_.get() + rpos_;
    rpos_ += consumed;
    if (parser_.args().empty()) continue;
    RunCommand(parser_.args(), request, request + consumed);
    if (!limits.unauthenticated != session_.authenticated) {
      limits.unauthenticated = !session_.authenticated;
      parser_.set_limits(limits);
    }
  }
  // Keep the unconsumed bytes at the front; a partial command's progress is relative to them.
  if (rpos_ == rlen_) {
    rpos_ = rlen_ = 0;
    if (rcap_ > 4 * kReadChunk) {
      rbuf_.reset();
      rcap_ = 0;
    }
  } else if (rpos_ > 0) {
    std::memmove(rbuf_.get(), rbuf_.get() + rpos_, rlen_ - rpos_);
    rlen_ -= rpos_;
    rpos_ = 0;
  }
  size_t pending = rlen_ - rpos_;
  session_.query_buffer.store(pending, std::memory_order_relaxed);
  if (static_cast<int64_t>(pending) > config.client_query_buffer_limit.load()) {
    LogWarning("Closing client that reached max query buffer length: id={} addr={} qbuf={}",
               session_.id, session_.addr, pending);
    Close();
  }
}

void Connection::RunCommand(std::span<const std::string_view> args, const char* lo,
                            const char* hi) {
  commands::ReplyMode mode_before = session_.reply_mode;
  if (mode_before != commands::ReplyMode::kOn) writer_.set_buffer(&discard_);
  writer_.set_protocol(session_.resp);
  commands::CommandContext ctx(args, &writer_, &session_, &loop_->server()->keyspace(),
                               loop_->server(), &loop_->stats());
  ctx.set_request_bytes(lo, hi);
  ctx.set_now_ms(read_time_ms_);
  commands::Execute(ctx);
  // Only this thread writes the counter (CLIENT LIST reads it): no locked instruction needed.
  session_.commands.store(session_.commands.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
  HoldFor(ctx.required_lsn());
  if (ctx.blocked_client()) Park(ctx.blocked_client());
  if (mode_before != commands::ReplyMode::kOn) {
    writer_.set_buffer(&out_);
    if (mode_before == commands::ReplyMode::kOff &&
        session_.reply_mode == commands::ReplyMode::kOn) {
      out_.Splice(discard_);  // CLIENT REPLY ON answers
    } else {
      discard_.Clear();
      if (mode_before == commands::ReplyMode::kSkip &&
          session_.reply_mode == commands::ReplyMode::kSkip)
        session_.reply_mode = commands::ReplyMode::kOn;
    }
  }
  writer_.set_protocol(session_.resp);
}

// ---------------------------------------------------------------------------------------------
// Blocking
// ---------------------------------------------------------------------------------------------

void Connection::Park(std::shared_ptr<commands::BlockedClient> w) {
  blocked_ = std::move(w);
  session_.blocked.store(true);
  loop_->server()->BlockedChanged(1);
  if (blocked_->deadline_ms > 0) {
    int64_t wait = std::max<int64_t>(0, blocked_->deadline_ms - NowMs());
    uv_timer_start(&block_timer_, &Connection::OnBlockTimeout, static_cast<uint64_t>(wait), 0);
  }
}

void Connection::Unpark() {
  uv_timer_stop(&block_timer_);
  blocked_.reset();
  session_.blocked.store(false);
  loop_->server()->BlockedChanged(-1);
  read_time_ms_ = NowMs();  // pipelined commands after the blocked one run now
  ProcessInput();
  if (!closing_) Flush();
}

void Connection::OnBlockTimeout(uv_timer_t* t) {
  auto* c = static_cast<Connection*>(t->data);
  if (!c->blocked_ || c->closing_) return;
  if (!commands::CancelBlocked(c->loop_->server()->keyspace(), c->blocked_)) return;
  resp::ReplyWriter w(&c->out_, c->session_.resp);
  w.NullArray();
  c->Unpark();
}

void Connection::DeliverUnblocked(const std::shared_ptr<commands::BlockedClient>& w,
                                  std::string reply, uint64_t lsn) {
  if (closing_ || blocked_ != w) return;
  out_.Append(reply);
  HoldFor(lsn);
  Unpark();
}

void Connection::DeliverMessages(const DeliveryBatch& batch, size_t first, size_t last) {
  if (closing_) return;
  batch.AppendTo(&out_, session_.resp, first, last);
  HoldFor(batch.items[last - 1].lsn);  // the latest of them: positions never decrease
  ScheduleFlush();
}

void Connection::UnblockByCommand(bool with_error) {
  if (!blocked_ || closing_) return;
  if (!commands::CancelBlocked(loop_->server()->keyspace(), blocked_)) return;
  resp::ReplyWriter w(&out_, session_.resp);
  if (with_error) {
    w.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
  } else {
    w.NullArray();
  }
  Unpark();
}

bool Connection::OverOutputLimit() {
  const OutputLimit& limit =
      loop_->output_limit(session_.subscribed() > 0 ? ClientClass::kPubSub : ClientClass::kNormal);
  int64_t size = static_cast<int64_t>(out_.size());
  if (limit.hard > 0 && size >= limit.hard) return true;
  if (limit.soft > 0 && size >= limit.soft) {
    int64_t now = NowMs();
    if (soft_limit_since_ms_ == 0) {
      soft_limit_since_ms_ = now;
    } else if (now - soft_limit_since_ms_ > limit.soft_seconds * 1000) {
      return true;
    }
  } else {
    soft_limit_since_ms_ = 0;
  }
  return false;
}

// Nothing a client sees may be taken back by a crash: its replies wait until the log is durable
// past every record they depend on (DESIGN.md, "Persistence"). Durable means fsynced with
// appendfsync always, and handed to the kernel with everysec and no, so that a killed process
// loses no acknowledged write under any policy (as in Redis, which writes before it replies).
void Connection::HoldFor(uint64_t lsn) {
  if (lsn == 0 || lsn <= hold_lsn_) return;
  persist::Wal* wal = commands::GetWal();
  if (wal == nullptr || wal->durable_lsn() >= lsn) return;
  hold_lsn_ = lsn;
}

void Connection::OnDurable(uint64_t lsn) {
  if (hold_lsn_ == 0 || lsn < hold_lsn_) return;
  hold_lsn_ = 0;
  loop_->StopWaitingDurable(this);
  Flush();
}

void Connection::ScheduleFlush() {
  if (closing_ || flush_scheduled_) return;
  flush_scheduled_ = true;
  flush_slot_ = loop_->ScheduleFlush(this);
}

void Connection::Flush() {
  if (closing_) return;
  // The limit is checked even while a write is pending: that is when a slow reader piles up.
  if (OverOutputLimit()) {
    LogWarning("Client id={} addr={} closed for overcoming of output buffer limits.", session_.id,
               session_.addr);
    Close();
    return;
  }
  // Pending bytes for CLIENT LIST (omem), those of a write in progress included.
  session_.output_buffer.store(out_.size(), std::memory_order_relaxed);
  if (write_in_flight_) return;
  // A huge reply (XRANGE of a million entries) leaves its freed blocks with the allocator;
  // hand them back to the system once it is sent.
  constexpr size_t kBigOutput = 4 << 20;
  if (out_.size() > kBigOutput) big_output_ = true;
  if (hold_lsn_ != 0) {
    // Register first, then look again, so an advance in between is not missed.
    loop_->WaitDurable(this);
    persist::Wal* wal = commands::GetWal();
    if (wal != nullptr && wal->durable_lsn() < hold_lsn_) return;
    hold_lsn_ = 0;
    loop_->StopWaitingDurable(this);
  }
  while (!out_.empty()) {
    struct iovec iov[kMaxIov];
    int n = out_.Gather(iov, kMaxIov);
    uv_buf_t bufs[kMaxIov];
    size_t total = 0;
    for (int i = 0; i < n; ++i) {
      bufs[i] = uv_buf_init(static_cast<char*>(iov[i].iov_base), static_cast<unsigned>(iov[i].iov_len));
      total += iov[i].iov_len;
    }
    int written = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), bufs, n);
    if (written == UV_EAGAIN) written = 0;
    if (written < 0) {
      Close();
      return;
    }
    out_.Consume(static_cast<size_t>(written));
    if (static_cast<size_t>(written) == total) continue;
    // The socket is full: hand the rest to libuv and continue when it is written.
    n = out_.Gather(iov, kMaxIov);
    in_flight_bytes_ = 0;
    for (int i = 0; i < n; ++i) {
      bufs[i] = uv_buf_init(static_cast<char*>(iov[i].iov_base), static_cast<unsigned>(iov[i].iov_len));
      in_flight_bytes_ += iov[i].iov_len;
    }
    write_req_.data = this;
    if (uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), bufs, n,
                 &Connection::OnWrite) != 0) {
      Close();
      return;
    }
    write_in_flight_ = true;
    loop_->NeedsPass();
    session_.output_buffer.store(out_.size(), std::memory_order_relaxed);
    return;
  }
  session_.output_buffer.store(0, std::memory_order_relaxed);
  if (big_output_) {
    big_output_ = false;
    malloc_trim(0);
  }
  if (session_.close_after_reply) Close();
}

void Connection::OnWrite(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  c->write_in_flight_ = false;
  if (status < 0) {
    c->Close();
    return;
  }
  c->out_.Consume(c->in_flight_bytes_);
  c->in_flight_bytes_ = 0;
  c->Flush();
}

}  // namespace runnel::server
