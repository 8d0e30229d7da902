#include "server/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "commands/table.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "server/connection.h"
#include "server/event_loop.h"
#include "commands/dispatch.h"
#include "persist/wal.h"

namespace runnel::server {

Server::Server() = default;
Server::~Server() = default;

// ---------------------------------------------------------------------------------------------
// Listening and accepting
// ---------------------------------------------------------------------------------------------

bool Server::Listen() {
  Config& config = GlobalConfig();
  std::vector<std::string> addrs;
  SplitConfigLine(config.Bind(), &addrs);
  if (addrs.empty()) addrs = {"*", "-::*"};
  for (std::string addr : addrs) {
    bool optional = !addr.empty() && addr[0] == '-';
    if (optional) addr.erase(0, 1);
    bool v6 = addr.find(':') != std::string::npos;
    std::string host = addr;
    if (addr == "*") host = "0.0.0.0";
    if (addr == "::*") host = "::";
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<uint16_t>(port_));
      if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1) goto bad_address;
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<uint16_t>(port_));
      if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) goto bad_address;
      len = sizeof *a;
    }
    {
      int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int one = 1;
      if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      }
      if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
          listen(fd, static_cast<int>(config.tcp_backlog.load())) != 0) {
        int err = errno;
        if (fd >= 0) ::close(fd);
        if (optional && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT || err == EPROTONOSUPPORT))
          continue;
        LogWarning("Warning: Could not create server TCP listening socket {}:{}: {}", addr,
                   port_, std::strerror(err));
        return false;
      }
      auto poll = std::make_unique<uv_poll_t>();
      uv_poll_init(&loop_, poll.get(), fd);
      poll->data = this;
      uv_poll_start(poll.get(), UV_READABLE, &Server::OnListenReadable);
      listeners_.push_back(std::move(poll));
      listen_fds_.push_back(fd);
      continue;
    }
  bad_address:
    LogWarning("Invalid bind address '{}'", addr);
    return false;
  }
  if (listen_fds_.empty()) {
    LogWarning("Failed listening on any address");
    return false;
  }
  return true;
}

void Server::OnListenReadable(uv_poll_t* handle, int status, int) {
  if (status < 0) return;
  auto* self = static_cast<Server*>(handle->data);
  int fd;
  uv_fileno(reinterpret_cast<uv_handle_t*>(handle), &fd);
  self->AcceptAll(fd);
}

void Server::AcceptAll(int listen_fd) {
  static constexpr char kMaxClients[] = "-ERR max number of clients reached\r\n";
  for (int i = 0; i < 1000; ++i) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        LogWarning("Accepting client connection: {}", std::strerror(errno));
      return;
    }
    if (shutting_down_) {
      ::close(fd);
      continue;
    }
    if (connected_.load() >= GlobalConfig().maxclients.load()) {
      ssize_t w = ::write(fd, kMaxClients, sizeof kMaxClients - 1);
      (void)w;
      ::close(fd);
      rejected_connections_.fetch_add(1);
      continue;
    }
    connected_.fetch_add(1);
    total_connections_.fetch_add(1);
    EventLoop* loop = loops_[next_loop_++ % loops_.size()].get();
    loop->Post([loop, fd] { loop->Adopt(fd); });
  }
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

void Server::Register(commands::Session* s) {
  std::lock_guard lock(registry_mu_);
  sessions_[s->id] = s;
}

void Server::Unregister(commands::Session* s) {
  {
    std::lock_guard lock(registry_mu_);
    if (sessions_.erase(s->id) == 0) return;
  }
  connected_.fetch_sub(1);
}

void Server::ForEachSession(const std::function<void(const commands::Session&)>& fn) {
  std::lock_guard lock(registry_mu_);
  std::vector<commands::Session*> sorted;
  for (auto& [id, s] : sessions_) sorted.push_back(s);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->id < b->id; });
  for (auto* s : sorted) fn(*s);
}

bool Server::KillClient(uint64_t id) {
  std::lock_guard lock(registry_mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  EventLoop* loop = loops_[it->second->thread].get();
  loop->Post([loop, id] { loop->CloseClient(id); });
  return true;
}

void Server::DeliverUnblocked(int thread, uint64_t client_id,
                              std::shared_ptr<commands::BlockedClient> waiter, std::string reply,
                              uint64_t lsn) {
  EventLoop* loop = loops_[thread].get();
  loop->Post([loop, client_id, lsn, waiter = std::move(waiter), reply = std::move(reply)]() mutable {
    if (Connection* c = loop->Find(client_id)) c->DeliverUnblocked(waiter, std::move(reply), lsn);
  });
}

void Server::Deliver(int thread, DeliveryBatch batch) {
  EventLoop* loop = loops_[thread].get();
  loop->Post([loop, batch = std::move(batch)] { loop->pubsub().FanOut(batch); });
}

// Subscriptions change on the subscriber's own thread (its commands, its closing).
bool Server::Subscribe(const commands::Session& s, int kind, const std::string& name) {
  EventLoop* loop = loops_[s.thread].get();
  Connection* c = loop->Find(s.id);
  if (c == nullptr) return false;
  return loop->pubsub().Subscribe(static_cast<Channel>(kind), name, c, s.id);
}

bool Server::Unsubscribe(const commands::Session& s, int kind, const std::string& name) {
  return loops_[s.thread]->pubsub().Unsubscribe(static_cast<Channel>(kind), name, s.id);
}

int Server::UnblockClient(uint64_t id, bool with_error) {
  std::lock_guard lock(registry_mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || !it->second->blocked.load()) return 0;
  EventLoop* loop = loops_[it->second->thread].get();
  loop->Post([loop, id, with_error] {
    if (Connection* c = loop->Find(id)) c->UnblockByCommand(with_error);
  });
  return 1;
}

int Server::ConnectedClients() {
  std::lock_guard lock(registry_mu_);
  return static_cast<int>(sessions_.size());
}

std::vector<commands::ThreadStats*> Server::AllStats() {
  std::vector<commands::ThreadStats*> out;
  for (auto& l : loops_) out.push_back(&l->stats());
  return out;
}

void Server::ResetStats() {
  for (auto& l : loops_) {
    commands::ThreadStats& s = l->stats();
    for (auto& c : s.per_command) {
      c.calls = 0;
      c.usec = 0;
      c.rejected_calls = 0;
      c.failed_calls = 0;
    }
    s.commands_processed = 0;
    s.keyspace_hits = 0;
    s.keyspace_misses = 0;
    s.total_error_replies = 0;
    std::lock_guard lock(s.errors_mu);
    s.errors.clear();
  }
  total_connections_ = 0;
  rejected_connections_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Life cycle
// ---------------------------------------------------------------------------------------------

void Server::RequestShutdown(int save) {
  shutdown_save_.store(save);
  uv_async_send(&shutdown_async_);
}

bool Server::Save(std::string* error) { return persistence_->Checkpoint(error); }
bool Server::BackgroundSave() { return persistence_->RequestCheckpoint(); }
bool Server::SaveInProgress() { return persistence_->checkpoint_in_progress(); }
void Server::FlushedAll(bool in_transaction) { persistence_->FlushedAll(in_transaction); }
int64_t Server::LastSaveTime() { return persistence_->last_save_time(); }
bool Server::Reload(std::string* error) { return persistence_->Reload(error); }
bool Server::SetAppendOnly(bool on, std::string* error) {
  return persistence_->SetAppendOnly(on, error);
}
std::string Server::PersistenceInfo() { return persistence_->Info(); }

void Server::StartRecovery() {
  commands::SetLoading(true);
  recovery_ = std::thread([this] {
    std::string error;
    if (!persistence_->Recover(&error)) {
      LogWarning("Fatal error loading the data in '{}': {}", GlobalConfig().Dir(), error);
      LogWarning("runnel-check DIR tells what is damaged; if it is the log, starting with "
                 "--wal-allow-truncate yes drops it from the damage on (set aside as *.dropped).");
      recovery_failed_ = true;
      RequestShutdown(0);
      return;
    }
    persistence_->OnDurable([this](uint64_t) {
      std::lock_guard lock(notify_mu_);
      if (!loops_alive_) return;
      for (auto& l : loops_) l->NotifyDurable();
    });
    persistence_->Start();
    commands::SetLoading(false);
    LogNotice("Ready to accept writes");
  });
}

void Server::OnShutdownAsync(uv_async_t* handle) {
  static_cast<Server*>(handle->data)->BeginShutdown();
}

void Server::OnSignal(uv_signal_t* handle, int signum) {
  LogWarning("Received {} scheduling shutdown...", signum == SIGINT ? "SIGINT" : "SIGTERM");
  static_cast<Server*>(handle->data)->BeginShutdown();
}

void Server::OnTimer(uv_timer_t* handle) {
  engine::Keyspace::UpdateLruClock();
  static_cast<Server*>(handle->data)->BalanceThreads();
}

namespace {

// CPU time the machine's CPUs spent busy, all together (/proc/stat's first line: user, nice,
// system, idle, iowait, irq, softirq, steal; idle and iowait are not busy), in ms.
bool MachineBusyMs(uint64_t* out) {
  FILE* f = std::fopen("/proc/stat", "re");
  if (f == nullptr) return false;
  unsigned long long t[8] = {};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0], &t[1],
                            &t[2], &t[3], &t[4], &t[5], &t[6], &t[7]);
  std::fclose(f);
  if (n != 8) return false;
  static const long hz = ::sysconf(_SC_CLK_TCK);
  *out = (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) * 1000 / static_cast<uint64_t>(hz);
  return true;
}

uint64_t ProcessCpuMs() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1000 + static_cast<uint64_t>(tv.tv_usec) / 1000;
  };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

}  // namespace

void Server::BalanceThreads() {
  if (loops_.size() < 2 || shutting_down_) return;
  const int mode = GlobalConfig().loop_sharing.load(std::memory_order_relaxed);
  bool want = mode == 1;
  const uint64_t now = uv_now(&loop_);
  uint64_t busy = 0;
  if (mode == 0) {
    // Between windows the last decision stands; /proc/stat is read once per window (and
    // without it the loops keep their own threads).
    want = shared_;
    if (sharing_.Due(now))
      want = MachineBusyMs(&busy) && sharing_.Update(now, busy, ProcessCpuMs(), shared_);
  }
  if (want == shared_) return;
  shared_ = want;
  share_wanted_.store(want);
  LogVerbose("Event loops {}", want ? "sharing one thread" : "each on its own thread");
  EventLoop* host = loops_[0].get();
  if (!want) {
    host->Post([host] { host->ReleaseGuests(); });
    return;
  }
  auto wanted = [this] { return share_wanted_.load(); };
  for (size_t i = 1; i < loops_.size(); ++i) {
    EventLoop* guest = loops_[i].get();
    guest->Post([guest, host, wanted] { guest->ParkOn(host, wanted); });
  }
}

void Server::BeginShutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  for (auto& p : listeners_) {
    uv_poll_stop(p.get());
    uv_close(reinterpret_cast<uv_handle_t*>(p.get()), nullptr);
  }
  for (int fd : listen_fds_) ::close(fd);
  {
    std::lock_guard lock(notify_mu_);
    loops_alive_ = false;
  }
  for (auto& l : loops_) l->Stop();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&shutdown_async_), nullptr);
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

int Server::Run() {
  Config& config = GlobalConfig();
  if (config.threads.load() == 0) {
    unsigned n = std::thread::hardware_concurrency();
    config.threads = n == 0 ? 1 : n;
  }
  std::string dir = config.Dir();
  if (chdir(dir.c_str()) != 0) {
    LogWarning("Can't chdir to '{}': {}", dir, std::strerror(errno));
    return 1;
  }
  if (char* cwd = getcwd(nullptr, 0)) {  // CONFIG GET dir reports the absolute path
    config.Set("dir", {cwd}, true);
    free(cwd);
  }
  port_ = static_cast<int>(config.port.load());
  start_ms_ = NowMs();
  engine::Keyspace::UpdateLruClock();
  keyspace_ = std::make_unique<engine::Keyspace>(static_cast<int>(config.databases.load()));
  persistence_ = std::make_unique<Persistence>(keyspace_.get(), this);
  (void)commands::Commands();  // build the table before any thread uses it

  uv_loop_init(&loop_);
  if (!Listen()) {
    uv_loop_close(&loop_);
    return 1;
  }
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  sigint_.data = sigterm_.data = this;
  uv_signal_start(&sigint_, &Server::OnSignal, SIGINT);
  uv_signal_start(&sigterm_, &Server::OnSignal, SIGTERM);
  signal(SIGPIPE, SIG_IGN);
  uv_async_init(&loop_, &shutdown_async_, &Server::OnShutdownAsync);
  shutdown_async_.data = this;
  uv_timer_init(&loop_, &timer_);
  timer_.data = this;
  uv_timer_start(&timer_, &Server::OnTimer, 100, 100);

  int threads = static_cast<int>(config.threads.load());
  for (int i = 0; i < threads; ++i) loops_.push_back(std::make_unique<EventLoop>(this, i));
  for (auto& l : loops_) l->Start();
  LogNotice("Server initialized with {} threads", threads);
  LogNotice("Ready to accept connections tcp on port {}", port_);
  StartRecovery();

  uv_run(&loop_, UV_RUN_DEFAULT);
  for (auto& l : loops_) l->Join();
  if (recovery_.joinable()) recovery_.join();
  // No client can write any more: take the last checkpoint if asked, close the log (fsynced).
  int save = shutdown_save_.load();
  if (save < 0) save = !config.SavePoints().empty();
  persistence_->Stop(save == 1 && !recovery_failed_);
  loops_.clear();
  uv_loop_close(&loop_);
  if (recovery_failed_) return 1;
  LogWarning("runnel is now ready to exit, bye bye...");
  return 0;
}

}  // namespace runnel::server
