// wait_loaded: used by scripts/bench.sh (restart suite) to time a server's start-up.
//
//   wait_loaded PORT PID TIMEOUT_S DBSIZE KEY VALUE
//
// Polls 127.0.0.1:PORT every 2 ms over one connection (reconnecting when the server is not
// listening yet or drops the connection) until DBSIZE replies DBSIZE and GET KEY replies VALUE.
// Replies such as -LOADING just mean "not yet". Then prints three CLOCK_REALTIME times in
// seconds (comparable with bash's $EPOCHREALTIME), on one line:
//   <first accepted connection> <first reply that was not an error> <data served>
// Exit status: 0 served; 1 timeout (the last reply goes to stderr); 2 the process PID is gone;
// 3 usage; 4 the server serves, but the same wrong DBSIZE or GET reply for 5 s (data missing;
// printed on stdout). Built by scripts/bench.sh with g++ directly; needs nothing but libc.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Mono() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void Nap() {
  timespec ts{0, 2000000};
  nanosleep(&ts, nullptr);
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

class Conn {
 public:
  ~Conn() { Close(); }
  bool Open(int port) {
    Close();
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Close();
      return false;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{5, 0};  // a reply that takes longer counts as a dropped connection
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    buf_.clear();
    return true;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool open() const { return fd_ >= 0; }

  // Sends a command; returns the reply's type byte and payload (integer text, error/status text,
  // bulk contents, "(nil)" for a null bulk). False when the connection failed.
  bool Call(const std::string& cmd, char* type, std::string* payload) {
    size_t off = 0;
    while (off < cmd.size()) {
      ssize_t n = send(fd_, cmd.data() + off, cmd.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    std::string line;
    if (!Line(&line) || line.empty()) return false;
    *type = line[0];
    if (line[0] != '$') {
      *payload = line.substr(1);
      return true;
    }
    long len = std::strtol(line.c_str() + 1, nullptr, 10);
    if (len < 0) {
      *payload = "(nil)";
      return true;
    }
    if (!Bytes(static_cast<size_t>(len) + 2, payload)) return false;
    payload->resize(static_cast<size_t>(len));
    return true;
  }

 private:
  bool Fill() {
    char tmp[4096];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  bool Line(std::string* out) {
    for (;;) {
      size_t p = buf_.find("\r\n");
      if (p != std::string::npos) {
        *out = buf_.substr(0, p);
        buf_.erase(0, p + 2);
        return true;
      }
      if (!Fill()) return false;
    }
  }
  bool Bytes(size_t n, std::string* out) {
    while (buf_.size() < n)
      if (!Fill()) return false;
    *out = buf_.substr(0, n);
    buf_.erase(0, n);
    return true;
  }

  int fd_ = -1;
  std::string buf_;
};

std::string Command(std::initializer_list<std::string> args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s PORT PID TIMEOUT_S DBSIZE KEY VALUE\n", argv[0]);
    return 3;
  }
  int port = std::atoi(argv[1]);
  pid_t pid = static_cast<pid_t>(std::atol(argv[2]));
  double timeout = std::atof(argv[3]);
  std::string want_size = argv[4], key = argv[5], want_value = argv[6];
  const std::string dbsize = Command({"DBSIZE"}), get = Command({"GET", key});

  double deadline = Mono() + timeout;
  double t_accept = 0, t_reply = 0;
  std::string last = "(no connection)";
  // A server that serves (replies without an error) the same wrong figures for kStable seconds
  // has finished loading without all the data.
  constexpr double kStable = 5.0;
  std::string stable;
  double stable_since = 0;
  Conn c;
  while (Mono() < deadline) {
    if (!Alive(pid)) {
      std::fprintf(stderr, "wait_loaded: process %d is gone (last reply: %s)\n",
                   static_cast<int>(pid), last.c_str());
      return 2;
    }
    if (!c.open()) {
      if (!c.Open(port)) {
        Nap();
        continue;
      }
      if (t_accept == 0) t_accept = Now();
    }
    char type;
    std::string payload;
    if (!c.Call(dbsize, &type, &payload)) {
      c.Close();
      Nap();
      continue;
    }
    last = "DBSIZE: " + std::string(1, type) + payload;
    if (type != '-' && t_reply == 0) t_reply = Now();
    if (type == ':' && payload == want_size) {
      if (!c.Call(get, &type, &payload)) {
        c.Close();
        continue;
      }
      last += ", GET " + key + ": " + std::string(1, type) + payload;
      if (type == '$' && payload == want_value) {
        double t = Now();
        std::printf("%.6f %.6f %.6f\n", t_accept, t_reply, t);
        return 0;
      }
    }
    if (type == '-') {
      stable.clear();
    } else if (last != stable) {
      stable = last;
      stable_since = Mono();
    } else if (Mono() - stable_since > kStable) {
      std::printf("served %s for %.0f s; expected DBSIZE %s and GET %s = %s\n", last.c_str(),
                  kStable, want_size.c_str(), key.c_str(), want_value.c_str());
      return 4;
    }
    Nap();
  }
  std::fprintf(stderr, "wait_loaded: timed out after %.0f s; last reply: %s\n", timeout,
               last.c_str());
  return 1;
}
