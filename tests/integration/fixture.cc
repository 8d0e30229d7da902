#include "fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace runnel::test {

// ---------------------------------------------------------------------------------------------
// Reply
// ---------------------------------------------------------------------------------------------

bool Reply::IsErrorPrefix(std::string_view prefix) const {
  return type == Type::kError && std::string_view(str).starts_with(prefix);
}

std::string Reply::Dump() const {
  switch (type) {
    case Type::kString:
    case Type::kStatus:
      return str;
    case Type::kError:
      return "!" + str;
    case Type::kInteger:
      return ":" + std::to_string(integer);
    case Type::kNil:
      return "(nil)";
    case Type::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < elements.size(); ++i) out += (i ? ", " : "") + elements[i].Dump();
      return out + "]";
    }
  }
  return "?";
}

Reply Reply::From(const redisReply* r) {
  Reply out;
  if (r == nullptr) {
    out.type = Type::kError;
    out.str = "(connection error)";
    return out;
  }
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_NIL:
      out.type = Type::kNil;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(From(r->element[i]));
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Server process
// ---------------------------------------------------------------------------------------------

std::string ServerBinary() {
  if (const char* env = std::getenv("RUNNEL_SERVER")) return env;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path() / "runnel-server").string();
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    throw std::runtime_error("bind for a free port failed");
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

namespace {

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// Start-up loads the data on a thread while clients get -LOADING; most tests want it loaded.
// With --requirepass the probe authenticates first: NOAUTH comes before LOADING, so it would
// say nothing about loading.
void WaitUntilLoaded(int port, const std::string& password) {
  for (int i = 0; i < 6000; ++i) {
    RawClient raw(port);
    if (!password.empty()) raw.Command({"AUTH", password});
    std::string reply = raw.Command({"PING"});
    if (reply == "+PONG\r\n") {
      // Leave only once the server has let this connection go, so tests that count clients
      // (maxclients) do not see it.
      raw.Write("*1\r\n$4\r\nQUIT\r\n");
      raw.ReadValue();
      raw.Closed();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> extra_args, bool wait_until_loaded) {
  char tmpl[] = "/tmp/runnel-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  own_dir_ = tmpl;
  log_ = own_dir_ + "/server.log";
  port_ = FreePort();
  std::vector<std::string> args = {
      ServerBinary(), "--port", std::to_string(port_), "--dir", own_dir_, "--logfile", log_};
  // $RUNNEL_SERVER_ARGS: words every server of the run gets before the test's own (to run the
  // suite with, say, --threads 3 --loop-sharing yes).
  if (const char* env = std::getenv("RUNNEL_SERVER_ARGS")) {
    std::istringstream words(env);
    for (std::string w; words >> w;) args.push_back(w);
  }
  for (auto& a : extra_args) args.push_back(a);
  dir_ = own_dir_;
  for (size_t a = 0; a + 1 < extra_args.size(); ++a)  // the last --dir wins, as in the server
    if (extra_args[a] == "--dir") dir_ = extra_args[a + 1];
  pid_ = fork();
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  for (int i = 0; i < 1000; ++i) {
    if (CanConnect(port_)) {
      if (wait_until_loaded) {
        std::string password;
        for (size_t a = 0; a + 1 < extra_args.size(); ++a)
          if (extra_args[a] == "--requirepass") password = extra_args[a + 1];
        WaitUntilLoaded(port_, password);
      }
      return;
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("runnel-server exited at start-up; see " + log_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("runnel-server did not start listening");
}

int ServerProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

ServerProcess::~ServerProcess() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(own_dir_, ec);
}

ServerProcess& SharedServer() {
  static ServerProcess server;
  return server;
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

Client::Client() : Client(SharedServer().port(), true) {}

Client::Client(int port, bool select_and_flush) {
  struct timeval tv = {10, 0};
  ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (ctx_ == nullptr || ctx_->err) {
    std::string err = ctx_ ? ctx_->errstr : "alloc";
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
    throw std::runtime_error("connect failed: " + err);
  }
  redisSetTimeout(ctx_, tv);
  if (select_and_flush) {
    Run({"SELECT", "9"});
    Run({"FLUSHDB"});
  }
}

Client::~Client() {
  if (ctx_) redisFree(ctx_);
}

Reply Client::Run(std::initializer_list<std::string_view> args) {
  std::vector<std::string> v(args.begin(), args.end());
  return Run(v);
}

Reply Client::Run(const std::vector<std::string>& args) {
  Send(args);
  return Read();
}

void Client::Send(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data());
}

Reply Client::Read() {
  void* r = nullptr;
  if (redisGetReply(ctx_, &r) != REDIS_OK) {
    Reply e;
    e.type = Reply::Type::kError;
    e.str = std::string("(connection error) ") + ctx_->errstr;
    return e;
  }
  Reply out = Reply::From(static_cast<redisReply*>(r));
  freeReplyObject(r);
  return out;
}

// Returns the length of one complete RESP2/RESP3 value at the start of buf, or 0.
size_t RespValueLength(std::string_view buf) {
  if (buf.empty()) return 0;
  size_t eol = buf.find("\r\n");
  if (eol == std::string_view::npos) return 0;
  char type = buf[0];
  std::string_view header = buf.substr(1, eol - 1);
  size_t pos = eol + 2;
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return pos;
    case '$': case '=': case '!': {
      long long n = std::atoll(std::string(header).c_str());
      if (n < 0) return pos;
      if (buf.size() < pos + static_cast<size_t>(n) + 2) return 0;
      return pos + static_cast<size_t>(n) + 2;
    }
    case '*': case '~': case '>': case '%': case '|': {
      long long n = std::atoll(std::string(header).c_str());
      if (n < 0) return pos;
      if (type == '%' || type == '|') n *= 2;
      for (long long i = 0; i < n; ++i) {
        size_t len = RespValueLength(buf.substr(pos));
        if (len == 0) return 0;
        pos += len;
      }
      if (type == '|') {  // attribute: followed by the actual value
        size_t len = RespValueLength(buf.substr(pos));
        return len == 0 ? 0 : pos + len;
      }
      return pos;
    }
    default:
      return pos;  // unknown: treat the line as the value
  }
}

RawClient::RawClient(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("raw connect failed");
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

void RawClient::Write(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string RawClient::ReadValue(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    size_t len = RespValueLength(buf_);
    if (len > 0) {
      std::string v = buf_.substr(0, len);
      buf_.erase(0, len);
      return v;
    }
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) return "";
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) return "";
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return "";
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

std::string RawClient::Command(std::initializer_list<std::string_view> args) {
  std::string req = "*" + std::to_string(args.size()) + "\r\n";
  for (auto a : args) req += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  Write(req);
  return ReadValue();
}

bool RawClient::Closed(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Helpers for tests with several clients
// ---------------------------------------------------------------------------------------------

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

std::unique_ptr<Client> Connect(int port) {
  auto c = std::make_unique<Client>(port, false);
  c->Run({"SELECT", "9"});
  return c;
}

void SendNow(Client& c, const std::vector<std::string>& args) {
  c.Send(args);
  int done = 0;
  while (!done) REQUIRE(redisBufferWrite(c.context(), &done) == REDIS_OK);
}

long long BlockedClients(Client& c) {
  std::string text = c.Run({"INFO", "clients"}).str;
  size_t at = text.find("blocked_clients:");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + 16));
}

bool WaitBlocked(Client& c, long long n) {
  for (int i = 0; i < 250; ++i) {
    if (BlockedClients(c) == n) return true;
    SleepMs(20);
  }
  return false;
}

ConfigGuard::ConfigGuard(Client& c, std::string name, const std::string& value)
    : c_(c), name_(std::move(name)) {
  old_ = c_.Run({"CONFIG", "GET", name_})[1].str;
  REQUIRE(c_.Run({"CONFIG", "SET", name_, value}) == "OK");
}

ConfigGuard::~ConfigGuard() { c_.Run({"CONFIG", "SET", name_, old_}); }

// The value of `name:` in an INFO reply; "" if the field is absent.
std::string InfoField(const std::string& info, std::string_view name) {
  std::string needle = std::string(name) + ":";
  size_t pos = 0;
  while ((pos = info.find(needle, pos)) != std::string::npos) {
    if (pos == 0 || info[pos - 1] == '\n') {
      size_t start = pos + needle.size();
      size_t end = info.find("\r\n", start);
      return info.substr(start, end == std::string::npos ? end : end - start);
    }
    pos += needle.size();
  }
  return "";
}

}  // namespace runnel::test
