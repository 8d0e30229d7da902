// crash-writer: the client side of scripts/crash-test.sh. It writes to a server that is about to
// be killed, journals every acknowledged reply, and afterwards checks that the restarted server
// still has every acknowledged write.
//
//   crash-writer run --port P --journal FILE --prefix PFX [--connections 16] [--seconds 60]
//                    [--seed N] [--bgsave-ms MS]
//   crash-writer verify --port P JOURNAL...
//   crash-writer wait --port P [--pid PID] [--seconds 60]   (until PING answers PONG)
//   crash-writer free-port
//   crash-writer powerloss --dir DATA --journal FILE [--seed N] [--torn-tails no]   (see PowerLoss)
//
// Each connection owns its keys (PFX:w<i>:k<n>, PFX:w<i>:ctr, PFX:w<i>:s), so what each key must
// hold is known exactly. A connection sends one command at a time (SET, INCR, XADD *, DEL) until
// the server goes away; the command in flight then may or may not have been applied, and is
// journaled as pending. Journal lines (tokens never contain spaces):
//
//   A SET key value | A DEL key | A INCR key result | A XADD key id value     acknowledged
//   P SET key value | P DEL key | P INCR key        | P XADD key value        sent, no reply
//
// verify: a string key holds its last acknowledged state (a value, or nothing after DEL) or the
// state its pending command would leave; a counter is >= its last acknowledged result (and at
// most one more if an INCR was pending); every acknowledged XADD ID is there with its value, and
// the only other entry allowed is the pending one. Prints "LOST ..." / "WRONG ..." lines and
// "keys: K, acknowledged writes: W, lost: L, wrong: U"; exits 1 if L or U is not zero.
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Connections and arguments
// ---------------------------------------------------------------------------------------------

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

ContextPtr Connect(int port) {
  timeval tv = {10, 0};
  ContextPtr c(redisConnectWithTimeout("127.0.0.1", port, tv));
  if (c == nullptr || c->err) return nullptr;
  redisSetTimeout(c.get(), tv);
  return c;
}

// nullptr: the connection failed (the server is gone or did not answer in time).
ReplyPtr Command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return ReplyPtr(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data())));
}

std::string Text(const redisReply* r) {
  if (r == nullptr) return "(connection error)";
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    default:
      return "(array of " + std::to_string(r->elements) + ")";
  }
}

// --name value options after the subcommand; bare words go to `rest`.
struct Options {
  std::map<std::string, std::string> named;
  std::vector<std::string> rest;
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = named.find(name);
    return it == named.end() ? fallback : it->second;
  }
  long long Int(const std::string& name, long long fallback) const {
    auto it = named.find(name);
    return it == named.end() ? fallback : std::atoll(it->second.c_str());
  }
};

Options ParseOptions(int argc, char** argv, int first) {
  Options o;
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--") && i + 1 < argc) {
      o.named[a.substr(2)] = argv[++i];
    } else {
      o.rest.push_back(a);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// run
// ---------------------------------------------------------------------------------------------

struct WriterResult {
  std::vector<std::string> journal;
  long long acked = 0;
  std::string stop_reason;
};

// One connection's loop: random commands on its own keys until the server goes away.
void Write(int port, int id, const std::string& prefix, uint64_t seed, bool xadd,
           Clock::time_point deadline, WriterResult* out) {
  ContextPtr c = Connect(port);
  if (c == nullptr) {
    out->stop_reason = "cannot connect";
    return;
  }
  std::mt19937_64 rng(seed);
  const std::string base = prefix + ":w" + std::to_string(id) + ":";
  for (long long seq = 0; Clock::now() < deadline; ++seq) {
    int pick = static_cast<int>(rng() % 100);
    std::string key = base + "k" + std::to_string(rng() % 16);
    std::string value = "w" + std::to_string(id) + "." + std::to_string(seq);
    std::vector<std::string> cmd;
    std::string pending;  // the journal line if no reply comes
    if (pick < 40 || (!xadd && pick < 85 && pick >= 65)) {
      cmd = {"SET", key, value};
      pending = "SET " + key + " " + value;
    } else if (pick < 65) {
      key = base + "ctr";
      cmd = {"INCR", key};
      pending = "INCR " + key;
    } else if (pick < 85) {
      key = base + "s";
      cmd = {"XADD", key, "*", "v", value};
      pending = "XADD " + key + " " + value;
    } else {
      cmd = {"DEL", key};
      pending = "DEL " + key;
    }
    ReplyPtr r = Command(c.get(), cmd);
    if (r == nullptr || r->type == REDIS_REPLY_ERROR) {
      out->journal.push_back("P " + pending);
      out->stop_reason = r == nullptr ? std::string("connection: ") + c->errstr : Text(r.get());
      return;
    }
    std::string line;
    if (cmd[0] == "SET") line = "SET " + key + " " + value;
    if (cmd[0] == "DEL") line = "DEL " + key;
    if (cmd[0] == "INCR") line = "INCR " + key + " " + std::to_string(r->integer);
    if (cmd[0] == "XADD") line = "XADD " + key + " " + Text(r.get()) + " " + value;
    out->journal.push_back("A " + line);
    ++out->acked;
  }
  out->stop_reason = "time limit";
}

// Asks for a checkpoint every `interval_ms` (randomized) so that crashes also hit checkpoints.
void CheckpointLoop(int port, int interval_ms, uint64_t seed, const std::atomic<bool>* stop) {
  ContextPtr c = Connect(port);
  std::mt19937_64 rng(seed);
  while (c != nullptr && !*stop) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(interval_ms / 2 + static_cast<int>(rng() % interval_ms)));
    if (Command(c.get(), {"BGSAVE"}) == nullptr) return;
  }
}

int Run(const Options& o) {
  int port = static_cast<int>(o.Int("port", 6379));
  std::string journal_path = o.Get("journal"), prefix = o.Get("prefix", "c");
  int connections = static_cast<int>(o.Int("connections", 16));
  uint64_t seed = static_cast<uint64_t>(o.Int("seed", 1));
  int bgsave_ms = static_cast<int>(o.Int("bgsave-ms", 0));
  if (journal_path.empty()) {
    std::fprintf(stderr, "run: --journal is required\n");
    return 2;
  }
  ContextPtr probe = Connect(port);
  if (probe == nullptr) {
    std::fprintf(stderr, "run: cannot connect to port %d\n", port);
    return 2;
  }
  ReplyPtr r = Command(probe.get(), {"XADD", prefix + ":probe", "*", "v", "1"});
  bool xadd = r != nullptr && r->type != REDIS_REPLY_ERROR;
  if (!xadd) std::printf("note: XADD failed (%s); stream writes skipped\n", Text(r.get()).c_str());
  probe.reset();

  auto deadline = Clock::now() + std::chrono::seconds(o.Int("seconds", 60));
  std::vector<WriterResult> results(connections);
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i)
    threads.emplace_back(Write, port, i, prefix, seed * 1000 + i, xadd, deadline, &results[i]);
  std::atomic<bool> stop{false};
  std::thread checkpoints;
  if (bgsave_ms > 0) checkpoints = std::thread(CheckpointLoop, port, bgsave_ms, seed, &stop);
  for (auto& t : threads) t.join();
  stop = true;
  if (checkpoints.joinable()) checkpoints.join();

  std::ofstream journal(journal_path, std::ios::trunc);
  long long acked = 0;
  std::map<std::string, int> reasons;
  for (const WriterResult& w : results) {
    for (const std::string& line : w.journal) journal << line << '\n';
    acked += w.acked;
    ++reasons[w.stop_reason];
  }
  journal.flush();
  if (!journal) {
    std::fprintf(stderr, "run: cannot write %s\n", journal_path.c_str());
    return 2;
  }
  for (const auto& [reason, n] : reasons)
    std::printf("writers stopped (%d): %s\n", n, reason.c_str());
  std::printf("acknowledged writes: %lld\n", acked);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------------

struct StringKey {
  std::optional<std::string> acked;  // nullopt: absent (never set, or deleted)
  bool pending = false;
  std::optional<std::string> pending_state;
};
struct CounterKey {
  long long acked = 0;
  int pending = 0;
};
struct StreamKey {
  std::map<std::string, std::string> acked;  // id -> value
  std::set<std::string> pending_values;
};

struct Expectations {
  std::map<std::string, StringKey> strings;
  std::map<std::string, CounterKey> counters;
  std::map<std::string, StreamKey> streams;
  std::map<std::string, std::string> journal_of;  // key -> journal file, for reports
  long long acked = 0;
};

bool LoadJournal(const std::string& path, Expectations* e) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind, cmd, key, a, b;
    words >> kind >> cmd >> key >> a >> b;
    if (kind != "A" && kind != "P") continue;
    bool acked = kind == "A";
    e->journal_of[key] = path;
    if (acked) ++e->acked;
    if (cmd == "SET" || cmd == "DEL") {
      StringKey& s = e->strings[key];
      std::optional<std::string> state;
      if (cmd == "SET") state = a;
      if (acked) {
        s.acked = state;
      } else {
        s.pending = true;
        s.pending_state = state;
      }
    } else if (cmd == "INCR") {
      CounterKey& c = e->counters[key];
      if (acked)
        c.acked = std::max(c.acked, std::atoll(a.c_str()));
      else
        ++c.pending;
    } else if (cmd == "XADD") {
      StreamKey& s = e->streams[key];
      if (acked)
        s.acked[a] = b;
      else
        s.pending_values.insert(a);
    }
  }
  return true;
}

std::string Show(const std::optional<std::string>& v) { return v ? *v : "(absent)"; }

// Sends the commands of `keys` pipelined, in batches, and hands each reply to `check`.
template <typename Keys, typename MakeCmd, typename Check>
bool Pipelined(redisContext* c, const Keys& keys, MakeCmd make, Check check) {
  auto it = keys.begin();
  while (it != keys.end()) {
    auto batch_start = it;
    int n = 0;
    for (; it != keys.end() && n < 500; ++it, ++n) {
      std::vector<std::string> args = make(it->first);
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data());
    }
    for (auto k = batch_start; k != it; ++k) {
      void* raw = nullptr;
      if (redisGetReply(c, &raw) != REDIS_OK) return false;
      ReplyPtr r(static_cast<redisReply*>(raw));
      check(k->first, k->second, r.get());
    }
  }
  return true;
}

// Compares the server's replies with the expectations and counts what does not match.
struct Checker {
  const Expectations& e;
  long long lost = 0, wrong = 0;

  void Report(const char* what, const std::string& key, const std::string& want,
              const std::string& got) {
    auto it = e.journal_of.find(key);
    std::printf("%s %s key=%s want=%s got=%s\n", what,
                it == e.journal_of.end() ? "?" : it->second.c_str(), key.c_str(), want.c_str(),
                got.c_str());
    ++(what[0] == 'L' ? lost : wrong);
  }

  void String(const std::string& key, const StringKey& s, const redisReply* r) {
    std::optional<std::string> got;
    if (r->type == REDIS_REPLY_STRING) got = std::string(r->str, r->len);
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)
      return Report("WRONG", key, Show(s.acked), Text(r));
    if (got == s.acked || (s.pending && got == s.pending_state)) return;
    Report("LOST", key, Show(s.acked) + (s.pending ? " or " + Show(s.pending_state) : ""),
           Show(got));
  }

  void Counter(const std::string& key, const CounterKey& n, const redisReply* r) {
    std::string want = std::to_string(n.acked);
    if (n.pending) want += ".." + std::to_string(n.acked + n.pending);
    if (r->type != REDIS_REPLY_NIL && r->type != REDIS_REPLY_STRING)
      return Report("WRONG", key, want, Text(r));
    long long got = r->type == REDIS_REPLY_NIL ? 0 : std::atoll(Text(r).c_str());
    if (got < n.acked) Report("LOST", key, want, std::to_string(got));
    if (got > n.acked + n.pending) Report("WRONG", key, want, std::to_string(got));
  }

  void Stream(const std::string& key, const StreamKey& s, const redisReply* r) {
    if (r->type != REDIS_REPLY_ARRAY) return Report("WRONG", key, "a stream", Text(r));
    std::map<std::string, std::string> got;  // id -> value of field "v"
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* entry = r->element[i];
      if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
      const redisReply* fields = entry->element[1];
      got[Text(entry->element[0])] = fields->elements == 2 ? Text(fields->element[1]) : "?";
    }
    for (const auto& [id, value] : s.acked) {
      auto it = got.find(id);
      if (it == got.end() || it->second != value)
        Report("LOST", key, id + "=" + value, it == got.end() ? "(absent)" : it->second);
    }
    size_t extra = 0;  // entries nobody was told about: at most the pending XADDs
    for (const auto& [id, value] : got) {
      if (s.acked.contains(id)) continue;
      if (!s.pending_values.contains(value) || ++extra > s.pending_values.size())
        Report("WRONG", key, "no entry " + id, value);
    }
  }
};

std::vector<std::string> GetCommand(const std::string& key) { return {"GET", key}; }
std::vector<std::string> XrangeCommand(const std::string& key) { return {"XRANGE", key, "-", "+"}; }

int Verify(const Options& o) {
  Expectations e;
  for (const std::string& path : o.rest) {
    if (!LoadJournal(path, &e)) {
      std::fprintf(stderr, "verify: cannot read %s\n", path.c_str());
      return 2;
    }
  }
  int port = static_cast<int>(o.Int("port", 6379));
  ContextPtr c = Connect(port);
  if (c == nullptr) {
    std::fprintf(stderr, "verify: cannot connect to port %d\n", port);
    return 2;
  }
  Checker check{e};
  using std::placeholders::_1, std::placeholders::_2, std::placeholders::_3;
  bool ok =
      Pipelined(c.get(), e.strings, GetCommand, std::bind(&Checker::String, &check, _1, _2, _3)) &&
      Pipelined(c.get(), e.counters, GetCommand,
                std::bind(&Checker::Counter, &check, _1, _2, _3)) &&
      Pipelined(c.get(), e.streams, XrangeCommand, std::bind(&Checker::Stream, &check, _1, _2, _3));
  if (!ok) {
    std::fprintf(stderr, "verify: connection failed: %s\n", c->errstr);
    return 2;
  }
  std::printf("keys: %zu, acknowledged writes: %lld, lost: %lld, wrong: %lld\n",
              e.strings.size() + e.counters.size() + e.streams.size(), e.acked, check.lost,
              check.wrong);
  return check.lost == 0 && check.wrong == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// wait, free-port
// ---------------------------------------------------------------------------------------------

// False once the process is gone or a zombie.
bool Alive(long long pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

int Wait(const Options& o) {
  int port = static_cast<int>(o.Int("port", 6379));
  long long pid = o.Int("pid", 0);
  auto deadline = Clock::now() + std::chrono::seconds(o.Int("seconds", 60));
  std::string last = "no connection";
  while (Clock::now() < deadline) {
    if (pid > 0 && !Alive(pid)) {
      std::fprintf(stderr, "wait: the server (pid %lld) exited\n", pid);
      return 1;
    }
    if (ContextPtr c = Connect(port)) {
      ReplyPtr r = Command(c.get(), {"PING"});
      last = Text(r.get());
      if (last == "PONG") return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "wait: no PONG from port %d (last reply: %s)\n", port, last.c_str());
  return 1;
}

// ---------------------------------------------------------------------------------------------
// powerloss
// ---------------------------------------------------------------------------------------------

// After kill -9 of a server that ran with tools/powerloss_shim.cc: takes from every log segment in
// DATA/wal what a power loss could have taken. The bytes after the last point an fsync or a direct
// write made durable (the shim's journal; the whole segment if none did) are lost, except that
// half the time (never with --torn-tails no) a random part of them, from the front, reached the
// disk anyway (a torn tail). Lost bytes become zeros, which is what the segment held before it was
// written (its space was zero-filled or allocated ahead). Directory entries and checkpoint files
// are left as they are.
int PowerLoss(const Options& o) {
  namespace fs = std::filesystem;
  std::map<std::string, long long> synced;  // by path; the last line wins
  std::ifstream journal(o.Get("journal"));
  for (std::string line; std::getline(journal, line);) {
    const size_t space = line.find(' ');
    if (space != std::string::npos) synced[line.substr(space + 1)] = std::atoll(line.c_str());
  }
  std::mt19937_64 rng(static_cast<uint64_t>(o.Int("seed", 1)));
  const bool torn = o.Get("torn-tails", "yes") != "no";
  std::error_code ec;
  const fs::path wal = fs::path(o.Get("dir")) / "wal";
  long long taken = 0;
  for (const auto& entry : fs::directory_iterator(wal, ec)) {
    if (entry.path().extension() != ".log") continue;
    const std::string path = fs::canonical(entry.path()).string();
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const long long written = static_cast<long long>(bytes.find_last_not_of('\0') + 1);
    auto it = synced.find(path);
    long long keep = it == synced.end() ? 0 : std::min(it->second, written);
    const long long fsynced = keep;
    if (written <= keep) continue;
    if (torn && rng() % 2 == 0)
      keep += static_cast<long long>(rng() % static_cast<uint64_t>(written - keep));
    f.clear();
    f.seekp(keep);
    f.write(std::string(static_cast<size_t>(written - keep), '\0').data(), written - keep);
    f.flush();
    if (!f) {
      std::fprintf(stderr, "powerloss: could not write %s\n", path.c_str());
      return 2;
    }
    std::printf("powerloss: %s: %lld bytes written, %lld fsynced, %lld kept\n",
                entry.path().filename().c_str(), written, fsynced, keep);
    taken += written - keep;
  }
  if (ec) {
    std::fprintf(stderr, "powerloss: %s: %s\n", wal.c_str(), ec.message().c_str());
    return 2;
  }
  std::printf("powerloss: %lld bytes taken\n", taken);
  return 0;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return 2;
  }
  std::printf("%d\n", ntohs(a.sin_port));
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sub = argc > 1 ? argv[1] : "";
  Options o = ParseOptions(argc, argv, 2);
  if (sub == "run") return Run(o);
  if (sub == "verify") return Verify(o);
  if (sub == "wait") return Wait(o);
  if (sub == "free-port") return FreePort();
  if (sub == "powerloss") return PowerLoss(o);
  std::fprintf(stderr,
               "usage: crash-writer run --port P --journal FILE --prefix PFX [--connections 16]\n"
               "                        [--seconds 60] [--seed N] [--bgsave-ms MS]\n"
               "       crash-writer verify --port P JOURNAL...\n"
               "       crash-writer wait --port P [--pid PID] [--seconds 60]\n"
               "       crash-writer free-port\n"
               "       crash-writer powerloss --dir DATA --journal FILE [--seed N]\n"
               "                              [--torn-tails no]\n");
  return 2;
}
