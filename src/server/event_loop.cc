#include "server/event_loop.h"

#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "commands/notify.h"
#include "commands/dispatch.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "persist/wal.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "server/connection.h"
#include "server/server.h"

namespace runnel::server {

struct EventLoop::Guest {
  EventLoop* loop;
  uv_poll_t poll;    // the guest loop's poll set (its backend fd) has events
  uv_timer_t timer;  // the guest loop's next timer is due
  int open = 2;      // handles not yet closed; the last close deletes this
};

EventLoop::EventLoop(Server* server, int index)
    : server_(server),
      index_(index),
      pubsub_(server, index),
      stats_(commands::Commands().size()),
      rng_(index * 7919 + 1) {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &async_, &EventLoop::OnAsync);
  async_.data = this;
  uv_async_init(&loop_, &durable_async_, &EventLoop::OnDurableAsync);
  durable_async_.data = this;
  uv_timer_init(&loop_, &timer_);
  timer_.data = this;
  uv_check_init(&loop_, &check_);
  check_.data = this;
  uv_prepare_init(&loop_, &prepare_);
  prepare_.data = this;
  ReadOutputLimits();
}

void EventLoop::ReadOutputLimits() {
  Config& config = GlobalConfig();
  for (ClientClass c : {ClientClass::kNormal, ClientClass::kReplica, ClientClass::kPubSub})
    output_limits_[static_cast<int>(c)] = config.GetOutputLimit(c);
}

void EventLoop::WaitDurable(Connection* c) {
  if (c->waiting_durable()) return;
  c->set_waiting_durable(true);
  waiting_durable_.push_back(c);
  if (!has_waiting_.load(std::memory_order_relaxed)) has_waiting_.store(true);
}

void EventLoop::StopWaitingDurable(Connection* c) {
  if (!c->waiting_durable()) return;
  c->set_waiting_durable(false);
  std::erase(waiting_durable_, c);
  if (waiting_durable_.empty()) has_waiting_.store(false);
}

namespace {

int64_t ThreadCpuNs() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

void EventLoop::NotifyDurable() {
  if (has_waiting_.load() && std::this_thread::get_id() != thread_id_.load()) {
    uv_async_send(&durable_async_);
  }
}

void EventLoop::OnDurableAsync(uv_async_t* handle) {
  static_cast<EventLoop*>(handle->data)->ReleaseDurable();
}

void EventLoop::OnCheck(uv_check_t* handle) { static_cast<EventLoop*>(handle->data)->EndOfPass(); }

void EventLoop::OnPrepare(uv_prepare_t* handle) {
  auto* self = static_cast<EventLoop*>(handle->data);
  self->EndOfPass();
  self->WaitForMoreInput();
}

// A loop serving many busy connections that wakes up for only a few of them at a time spends
// most of its time, and its clients' time, on wake-ups: each poll returns one or two sockets,
// and nearly every request a client sends has to wake the loop (and the sender pays for that).
// Redis's single thread is slow enough to find a crowd of sockets ready each time; runnel's
// loops, each with a share of the clients and less work per command, often are not. So when at
// least kBatchMinActive connections sent input in the last millisecond and the pass that just
// ended served no more than half of them, the loop waits io-batch-wait-us before it polls again,
// and the next poll finds more of them ready. A pass that waited for an fsync (appendfsync
// always) has batched already and does not wait again. One client, or a few, never wait; with
// many, a request waits at most that long. On the 2-CPU development VM with 50 clients this cut
// server CPU per request by about a fifth and raised throughput (docs/PERFORMANCE.md); on a VM
// where sleeping is dear it cost as much, so BatchWaitTuner keeps it only where it pays.
void EventLoop::WaitForMoreInput() {
  constexpr int kBatchMinActive = 8;
  const uint64_t now = uv_now(&loop_);
  if (now != window_) {
    active_ = now == window_ + 1 ? window_active_ : 0;
    window_ = now;
    window_active_ = 0;
  }
  const int inputs = std::exchange(pass_inputs_, 0);
  // A guest never waits: its host would sleep with it.
  const int64_t wait =
      host_ != nullptr ? 0 : GlobalConfig().io_batch_wait_us.load(std::memory_order_relaxed);
  if (wait > 0) {
    batch_tuner_.OnPass(now, stats_.commands_processed.load(std::memory_order_relaxed),
                        ThreadCpuNs);
  }
  const bool decided = wait > 0 && batch_tuner_.decision();
  if (stats_.batch_waiting.load(std::memory_order_relaxed) != decided) {
    stats_.batch_waiting.store(decided, std::memory_order_relaxed);
  }
  if (std::exchange(waited_for_disk_, false)) return;
  if (inputs == 0 || active_ < kBatchMinActive || inputs * 2 > active_) return;
  if (wait > 0 && batch_tuner_.waiting()) {
    std::this_thread::sleep_for(std::chrono::microseconds(wait));
  }
}

// Everything the pass produced goes out here, once: messages published on this thread to their
// threads (this thread's own subscribers included), then one write per connection with new
// output, whether replies or messages; then the log goes to the kernel and the output that
// waited for it is released. A guest leaves the log to its host's pass, which follows: one
// commit covers both loops' records.
void EventLoop::EndOfPass() {
  pubsub_.HandOver();
  if (!to_flush_.empty()) {
    ReadOutputLimits();
    // By index: a flush that closes its connection cancels entries (sets them to null).
    for (size_t i = 0; i < to_flush_.size(); ++i)
      if (Connection* c = to_flush_[i]) c->FlushScheduled();
    to_flush_.clear();
  }
  if (host_ != nullptr) return;
  bool waiting = !waiting_durable_.empty();
  for (Guest* g : guests_) waiting = waiting || !g->loop->waiting_durable_.empty();
  if (!waiting) return;
  // Without a log (turned off) nothing is held: release all.
  if (persist::Wal* wal = commands::GetWal()) {
    wal->Commit();
    waited_for_disk_ = wal->fsync_policy() == persist::FsyncPolicy::kAlways;
  }
  ReleaseDurable();
  // By index: a pass of a guest that ended removes it.
  for (size_t i = guests_.size(); i-- > 0;) {
    Guest* g = guests_[i];
    g->loop->ReleaseDurable();
    if (std::exchange(g->loop->needs_pass_, false)) RunGuest(g);
  }
}

// Flushes every waiting connection whose output is now durable; the others stay waiting.
// has_waiting_ stays set meanwhile, so an advance published by another thread during this call
// still wakes the loop (NotifyDurable) and nobody is left waiting for a wake-up already missed.
// With the log turned off (CONFIG SET appendonly no, which closes it first) nothing waits.
void EventLoop::ReleaseDurable() {
  if (waiting_durable_.empty()) return;
  persist::Wal* wal = commands::GetWal();
  const uint64_t durable = wal != nullptr ? wal->durable_lsn() : UINT64_MAX;
  releasing_.swap(waiting_durable_);
  for (Connection* c : releasing_) c->set_waiting_durable(false);
  for (Connection* c : releasing_) {
    if (c->hold_lsn() <= durable) {
      c->OnDurable(durable);
    } else {
      WaitDurable(c);
    }
  }
  releasing_.clear();
  if (waiting_durable_.empty()) has_waiting_.store(false);
}

EventLoop::~EventLoop() {
  uv_loop_close(&loop_);
}

void EventLoop::Start() {
  thread_ = std::thread([this] { Run(); });
}

void EventLoop::Join() {
  if (thread_.joinable()) thread_.join();
}

void EventLoop::Run() {
  own_thread_ = std::this_thread::get_id();
  thread_id_.store(own_thread_);
  // Sleeps as asked (WaitForMoreInput), not the default 50 us later.
  ::prctl(PR_SET_TIMERSLACK, 1000UL);
  int64_t period = 1000 / GlobalConfig().hz.load();
  uv_timer_start(&timer_, &EventLoop::OnTimer, period, period);
  uv_check_start(&check_, &EventLoop::OnCheck);
  uv_prepare_start(&prepare_, &EventLoop::OnPrepare);
  pubsub_.BindToThisThread();
  // uv_run returns non-zero when ParkOn stopped it, 0 when the loop has ended.
  while (uv_run(&loop_, UV_RUN_DEFAULT) != 0) {
    EventLoop* host = std::exchange(park_on_, nullptr);
    if (host == nullptr || !host->Accept(this)) continue;
    std::unique_lock lock(park_mu_);
    park_cv_.wait(lock, [this] { return !parked_; });
  }
}

void EventLoop::ParkOn(EventLoop* host, std::function<bool()> wanted) {
  if (host_ != nullptr || stopping_ || host == this || !wanted()) return;
  park_on_ = host;
  park_wanted_ = std::move(wanted);
  uv_stop(&loop_);
}

// The guest's thread, once its loop has stopped. Under guests_mu_, so that a host that is
// stopping (and about to close its mailbox) is never sent to.
bool EventLoop::Accept(EventLoop* guest) {
  std::lock_guard lock(guests_mu_);
  if (!accepting_) return false;
  {
    std::lock_guard park(guest->park_mu_);
    guest->parked_ = true;
  }
  arriving_.push_back(guest);
  uv_async_send(&async_);
  return true;
}

void EventLoop::AddGuest(EventLoop* loop) {
  if (!loop->park_wanted_()) return loop->Unpark();  // asked back meanwhile
  auto* g = new Guest{loop, {}, {}};
  uv_poll_init(&loop_, &g->poll, uv_backend_fd(&loop->loop_));
  g->poll.data = g;
  uv_poll_start(&g->poll, UV_READABLE, &EventLoop::OnGuestReady);
  uv_timer_init(&loop_, &g->timer);
  g->timer.data = g;
  loop->host_ = this;
  loop->thread_id_.store(std::this_thread::get_id());
  loop->stats_.hosted.store(true, std::memory_order_relaxed);
  guests_.push_back(g);
  RunGuest(g);  // whatever arrived while it changed threads
}

void EventLoop::OnGuestReady(uv_poll_t* handle, int, int) {
  auto* g = static_cast<Guest*>(handle->data);
  g->loop->host_->RunGuest(g);
}

void EventLoop::OnGuestTimer(uv_timer_t* handle) {
  auto* g = static_cast<Guest*>(handle->data);
  g->loop->host_->RunGuest(g);
}

// One pass of the guest loop, on this thread, with the guest's Pub/Sub side as this thread's
// meanwhile; then the host's timer is set for the guest's next timer. A guest loop that has
// ended (its Stop ran here) gets its thread back, to finish.
void EventLoop::RunGuest(Guest* g) {
  EventLoop* loop = g->loop;
  loop->needs_pass_ = false;
  loop->pubsub_.BindToThisThread();
  uv_run(&loop->loop_, UV_RUN_NOWAIT);
  pubsub_.BindToThisThread();
  if (!uv_loop_alive(&loop->loop_)) return RemoveGuest(g);
  const int timeout = uv_backend_timeout(&loop->loop_);
  if (timeout < 0) {
    uv_timer_stop(&g->timer);
  } else {
    uv_timer_start(&g->timer, &EventLoop::OnGuestTimer, static_cast<uint64_t>(timeout), 0);
  }
}

void EventLoop::RemoveGuest(Guest* g) {
  std::erase(guests_, g);
  auto closed = [](uv_handle_t* h) {
    auto* guest = static_cast<Guest*>(h->data);
    if (--guest->open == 0) delete guest;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&g->poll), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&g->timer), closed);
  EventLoop* loop = g->loop;
  loop->host_ = nullptr;
  loop->stats_.hosted.store(false, std::memory_order_relaxed);
  loop->Unpark();
}

// Gives the loop its own thread back (which then runs it: nothing else may).
void EventLoop::Unpark() {
  thread_id_.store(own_thread_);
  {
    std::lock_guard lock(park_mu_);
    parked_ = false;
  }
  park_cv_.notify_one();
}

void EventLoop::ReleaseGuests() {
  while (!guests_.empty()) RemoveGuest(guests_.back());
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(fn));
  }
  uv_async_send(&async_);
}

void EventLoop::OnAsync(uv_async_t* handle) {
  auto* self = static_cast<EventLoop*>(handle->data);
  std::vector<EventLoop*> arriving;
  {
    std::lock_guard lock(self->guests_mu_);
    arriving.swap(self->arriving_);
  }
  for (EventLoop* guest : arriving) self->AddGuest(guest);
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(self->mu_);
    work.swap(self->inbox_);
  }
  for (auto& fn : work) fn();
}

void EventLoop::Stop() {
  Post([this] {
    stopping_ = true;
    std::vector<EventLoop*> arriving;
    {
      std::lock_guard lock(guests_mu_);
      accepting_ = false;
      arriving.swap(arriving_);
    }
    // Guests keep running here until their own Stop has run (RunGuest lets them go then).
    for (EventLoop* guest : arriving) guest->Unpark();
    // Copy: Close() may remove entries.
    std::vector<Connection*> all;
    for (auto& [id, c] : connections_) all.push_back(c);
    for (Connection* c : all) c->FlushAndClose();
    uv_timer_stop(&timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&durable_async_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), nullptr);
  });
}

void EventLoop::Adopt(int fd) {
  if (stopping_) {
    ::close(fd);
    server_->AdoptFailed();
    return;
  }
  auto* c = new Connection(this, server_->NextClientId());
  if (!c->Open(fd)) {
    ::close(fd);
    server_->AdoptFailed();
    return;
  }
  connections_[c->session().id] = c;
}

void EventLoop::Forget(Connection* c) { connections_.erase(c->session().id); }

Connection* EventLoop::Find(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second;
}

void EventLoop::CloseClient(uint64_t id) {
  if (Connection* c = Find(id)) c->Close();
}

void EventLoop::OnTimer(uv_timer_t* handle) { static_cast<EventLoop*>(handle->data)->Tick(); }

void EventLoop::Tick() {
  Config& config = GlobalConfig();
  int64_t now = NowMs();
  // Not while loading: the replay owns the shards then, and replays expiries at their own time.
  if (config.active_expire_enabled.load(std::memory_order_relaxed) && !commands::Loading()) {
    // Like Redis, at most a quarter of each timer period goes to expiry, scaled by effort.
    int64_t period_us = 1000000 / config.hz.load();
    int64_t budget = period_us / 4 * (9 + config.active_expire_effort.load()) / 10;
    engine::Keyspace& ks = server_->keyspace();
    // "expired" events are published once the shard locks are released, as commands do.
    bool notify = (KeyspaceEvents() & kNotifyExpired) != 0;
    std::vector<std::pair<int, std::string>> expired;
    ks.ActiveExpire(index_, server_->Threads(), now, budget, rng_,
                    [&ks, now, notify, &expired](int shard, int db, std::string_view key) {
                      commands::LogExpired(ks, shard, db, key, now);
                      if (notify) expired.emplace_back(db, key);
                    });
    for (auto& [db, key] : expired)
      commands::PublishEvent(*server_, kNotifyExpired, db, "expired", key);
  }
  int64_t timeout = config.timeout.load();
  if (timeout > 0 && now - last_timeout_check_ms_ >= 1000) {
    last_timeout_check_ms_ = now;
    std::vector<Connection*> idle;
    for (auto& [id, c] : connections_) {
      // Blocked clients are not idle: they wait for data, as in Redis.
      if (!c->session().blocked.load() &&
          now - c->session().last_interaction_ms.load() > timeout * 1000)
        idle.push_back(c);
    }
    for (Connection* c : idle) {
      LogVerbose("Closing idle client id={}", c->session().id);
      c->Close();
    }
  }
}

}  // namespace runnel::server
