// Integration-test fixture: starts the real runnel-server binary on a free loopback port with a
// temporary data directory, and talks to it with hiredis. Tests read like a session:
//
//   Client c;                                   // connects to the shared server, SELECT 9 + FLUSHDB
//   CHECK(c.Run({"SET", "k", "v"}) == "OK");
//   CHECK(c.Run({"GET", "k"}) == "v");
//   CHECK(c.Run({"INCR", "k"}).IsError("ERR value is not an integer or out of range"));
//   CHECK(c.Run({"MGET", "k", "x"}).Dump() == "[v, (nil)]");
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;

namespace runnel::test {

struct Reply {
  enum class Type { kString, kStatus, kError, kInteger, kNil, kArray };
  Type type = Type::kNil;
  std::string str;  // string, status or error text
  long long integer = 0;
  std::vector<Reply> elements;

  bool IsNil() const { return type == Type::kNil; }
  bool IsError() const { return type == Type::kError; }
  bool IsError(std::string_view msg) const { return type == Type::kError && str == msg; }
  // True if an error starting with `prefix`.
  bool IsErrorPrefix(std::string_view prefix) const;
  bool IsInt(long long v) const { return type == Type::kInteger && integer == v; }
  bool IsArray() const { return type == Type::kArray; }
  size_t size() const { return elements.size(); }
  const Reply& operator[](size_t i) const { return elements.at(i); }
  // A string or status reply with this text.
  bool operator==(std::string_view s) const {
    return (type == Type::kString || type == Type::kStatus) && str == s;
  }
  // Compact text form: strings as-is, integers as ":5", nil "(nil)", errors "!ERR ...",
  // arrays "[a, b, :1]".
  std::string Dump() const;
  static Reply From(const redisReply* r);
};

class ServerProcess {
 public:
  // Starts runnel-server with --port <free> --dir <new temp dir> plus `extra_args`, and (unless
  // told not to) waits until it has loaded its data and answers PING. The new directory holds
  // the log file and is removed by the destructor; a --dir in `extra_args` (a restart on
  // another server's data) overrides it as the data directory.
  explicit ServerProcess(std::vector<std::string> extra_args = {}, bool wait_until_loaded = true);
  ~ServerProcess();  // SIGTERM, then waits (SIGKILL after 10 s)
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }  // the data directory the server runs on
  const std::string& log_path() const { return log_; }
  // Sends a signal and waits for the process to exit; returns its exit status (or -1).
  int Stop(int signal = 15);
  bool running() const { return pid_ > 0; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  std::string own_dir_;  // made for this server, removed with it
  std::string dir_;
  std::string log_;
};

// One server shared by every test in the binary, started on first use.
ServerProcess& SharedServer();
// Path of the runnel-server binary (next to the test binary, or $RUNNEL_SERVER). Every server
// also gets the words of $RUNNEL_SERVER_ARGS, if set, before its own arguments.
std::string ServerBinary();
int FreePort();

class Client {
 public:
  // Connects to the shared server; unless `raw`, selects database 9 and flushes it.
  Client();
  explicit Client(int port, bool select_and_flush = false);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Reply Run(std::initializer_list<std::string_view> args);
  Reply Run(const std::vector<std::string>& args);
  // Pipelining: queue commands, then read their replies in order.
  void Send(const std::vector<std::string>& args);
  Reply Read();
  // Writes raw bytes and returns the next complete RESP2/RESP3 value as raw bytes (for RESP3
  // checks, since Debian's hiredis only parses RESP2). Use on a RawClient.
  bool connected() const { return ctx_ != nullptr; }
  redisContext* context() { return ctx_; }

 private:
  redisContext* ctx_ = nullptr;
};

// A plain socket for raw protocol tests (inline commands, RESP3 replies, protocol errors).
class RawClient {
 public:
  explicit RawClient(int port = SharedServer().port());
  ~RawClient();
  void Write(std::string_view bytes);
  // Reads one complete RESP value (RESP2 or RESP3) and returns its bytes; "" on EOF/timeout.
  std::string ReadValue(int timeout_ms = 5000);
  // Writes a command as a multibulk and reads one value.
  std::string Command(std::initializer_list<std::string_view> args);
  // True if the server closed the connection (EOF) within the timeout.
  bool Closed(int timeout_ms = 2000);

 private:
  int fd_ = -1;
  std::string buf_;
};

// Length of the first complete RESP value in buf, or 0 if incomplete.
size_t RespValueLength(std::string_view buf);

// --- Helpers for tests with several clients (blocking commands, races) ---
using Clock = std::chrono::steady_clock;
void SleepMs(int ms);
int64_t MsSince(Clock::time_point t);
// A client on database 9 that does not flush it (the test's first Client did).
std::unique_ptr<Client> Connect(int port = SharedServer().port());
// Sends a command without waiting for its reply (hiredis only buffers until a read).
void SendNow(Client& c, const std::vector<std::string>& args);
// The value of `name:` in an INFO reply; "" if the field is absent.
std::string InfoField(const std::string& info, std::string_view name);
// INFO clients' blocked_clients, and waiting (up to 5 s) until it is `n`.
long long BlockedClients(Client& c);
bool WaitBlocked(Client& c, long long n);

// Sets one config value for the life of the object, then puts the old one back (the server is
// shared by every test).
class ConfigGuard {
 public:
  ConfigGuard(Client& c, std::string name, const std::string& value);
  ~ConfigGuard();

 private:
  Client& c_;
  std::string name_, old_;
};

}  // namespace runnel::test
