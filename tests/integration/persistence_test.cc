// Integration tests of durability: every write survives a clean shutdown and kill -9 with the
// same data, TTLs and databases; checkpoints (SAVE, BGSAVE under load, DEBUG RELOAD, the save
// points) and what they delete; appendonly/appendfsync; damaged logs (torn tail, corrupt record,
// missing segment); disk errors through DEBUG WAL-FAULT; replies held until the log is durable.
// Each test starts its own server (ServerProcess) and restarts it on the same data directory.
// Stream tests are named "persistence-streams: ..." so they can be told apart while streams land.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "fixture.h"

namespace runnel::test {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

const Args kAlways = {"--appendfsync", "always"};
// No checkpoint unless a test asks for one, so the log alone carries the data.
const Args kAlwaysNoSave = {"--appendfsync", "always", "--save", "", "--checkpoint-interval", "0"};

int64_t WallMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char ch : s.substr(0, 60)) {
    if (ch >= 32 && ch < 127) {
      out += static_cast<char>(ch);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    }
  }
  return s.size() > 60 ? out + "...(" + std::to_string(s.size()) + " bytes)" : out;
}

std::string Join(const Args& args) {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + Printable(a);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Runs a command and checks its reply's compact form.
void Expect(Client& c, const Args& cmd, std::string_view want) {
  std::string got = c.Run(cmd).Dump();
  CHECK_MESSAGE(got == want,
                Join(cmd) << " -> " << Printable(got) << " (expected " << Printable(want) << ")");
}

// A field of INFO persistence ("" if absent).
std::string Info(Client& c, std::string_view field) {
  std::string text = c.Run({"INFO", "persistence"}).str;
  std::string key = std::string(field) + ":";
  size_t pos = text.find("\r\n" + key);
  if (pos == std::string::npos) return "";
  pos += 2 + key.size();
  return text.substr(pos, text.find("\r\n", pos) - pos);
}

long long InfoInt(Client& c, std::string_view field) {
  std::string v = Info(c, field);
  return v.empty() ? -1 : std::stoll(v);
}

// Polls `done` every 20 ms for up to `ms`; true once it holds.
template <typename F>
bool WaitFor(int ms, F done) {
  for (int waited = 0; waited < ms; waited += 20) {
    if (done()) return true;
    SleepMs(20);
  }
  return done();
}

// Waits until the server answers PING with PONG instead of -LOADING (false if it never does).
bool WaitLoaded(int port) {
  Client c(port, false);
  return WaitFor(60000, [&] { return c.Run({"PING"}) == "PONG"; });
}

// Starts a server on the data directory of `first`, which must outlive it (its destructor
// removes the directory), and waits for the data to be loaded. Later options override earlier
// ones, so this --dir replaces the fresh one the fixture passes; the new server's dir() is the
// same directory, so it can be restarted in turn.
std::unique_ptr<ServerProcess> Restart(const ServerProcess& first, const Args& extra = kAlways) {
  Args args = {"--dir", first.dir()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto p = std::make_unique<ServerProcess>(args);
  REQUIRE(WaitLoaded(p->port()));
  return p;
}

// Runs runnel-server on `dir` and waits up to 10 s for it to exit by itself; returns the wait
// status, or -1 if it kept running (it is then killed). For start-ups that must fail.
int RunUntilExit(const std::string& dir, const std::string& log, const Args& extra) {
  Args args = {ServerBinary(), "--port", std::to_string(FreePort()), "--dir", dir,
               "--logfile",    log};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  if (WaitFor(10000, [&] { return waitpid(pid, &status, WNOHANG) == pid; })) return status;
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

bool ExitedWith(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

// ---------------------------------------------------------------------------------------------
// The whole dataset, and what it should be
// ---------------------------------------------------------------------------------------------

struct Value {
  std::string type;
  std::string data;     // GET for strings; entries and groups for streams
  long long expire_at;  // PEXPIRETIME: -1 without a TTL
  bool operator==(const Value&) const = default;
};
using DbKey = std::pair<int, std::string>;
using Dataset = std::map<DbKey, Value>;

// A stream as text: its entries, XINFO STREAM without the radix-tree layout fields (which may
// legitimately change on reload), its groups, and each group's pending entries without idle time.
std::string StreamText(Client& c, const std::string& key) {
  std::string out = c.Run({"XRANGE", key, "-", "+"}).Dump();
  Reply info = c.Run({"XINFO", "STREAM", key});
  for (size_t i = 0; i + 1 < info.size(); i += 2)
    if (!info[i].str.starts_with("radix-tree")) out += " " + info[i].str + "=" + info[i + 1].Dump();
  Reply groups = c.Run({"XINFO", "GROUPS", key});
  out += " groups=" + groups.Dump();
  for (size_t g = 0; g < groups.size(); ++g) {
    const Reply& fields = groups[g];
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str != "name") continue;
      const std::string& name = fields[i + 1].str;
      out += " pending(" + name + ")=" + c.Run({"XPENDING", key, name}).Dump();
      Reply pel = c.Run({"XPENDING", key, name, "-", "+", "1000"});
      for (size_t p = 0; p < pel.size(); ++p)  // id, consumer, idle ms (left out), deliveries
        out += " " + pel[p][0].str + "/" + pel[p][1].str + "/" + pel[p][3].Dump();
    }
  }
  return out;
}

// Every key of every database with its type, value and absolute expiry time.
Dataset DumpAll(Client& c, int databases = 16) {
  Dataset out;
  for (int db = 0; db < databases; ++db) {
    REQUIRE(c.Run({"SELECT", std::to_string(db)}) == "OK");
    std::string cursor = "0";
    do {
      Reply r = c.Run({"SCAN", cursor, "COUNT", "1000"});
      REQUIRE_MESSAGE(r.size() == 2, r.Dump());
      cursor = r[0].str;
      for (const Reply& k : r[1].elements) {
        Value v;
        v.type = c.Run({"TYPE", k.str}).str;
        v.expire_at = c.Run({"PEXPIRETIME", k.str}).integer;
        v.data = v.type == "string"   ? c.Run({"GET", k.str}).str
                 : v.type == "stream" ? StreamText(c, k.str)
                                      : c.Run({"DEBUG", "DIGEST-VALUE", k.str}).Dump();
        out[{db, k.str}] = v;
      }
    } while (cursor != "0");
  }
  REQUIRE(c.Run({"SELECT", "0"}) == "OK");
  return out;
}

std::string Describe(const DbKey& k, const Value* v) {
  std::string out = std::to_string(k.first) + ":" + Printable(k.second) + " = ";
  if (v == nullptr) return out + "(missing)";
  return out + v->type + " " + Printable(v->data) + " expire_at " + std::to_string(v->expire_at);
}

// The differences between two datasets, one line each (at most 10); "" if they are equal.
// Expiry times may differ by up to `ttl_slack_ms` (0: exactly).
std::string Diff(const Dataset& want, const Dataset& got, long long ttl_slack_ms = 0) {
  std::string out;
  int shown = 0;
  auto report = [&](const DbKey& k, const Value* w, const Value* g) {
    if (shown++ < 10) out += "\n  want " + Describe(k, w) + "\n  got  " + Describe(k, g);
  };
  for (const auto& [k, w] : want) {
    auto it = got.find(k);
    if (it == got.end()) {
      report(k, &w, nullptr);
      continue;
    }
    const Value& g = it->second;
    bool ttl_ok = (w.expire_at < 0) == (g.expire_at < 0) &&
                  std::llabs(w.expire_at - g.expire_at) <= ttl_slack_ms;
    if (w.type != g.type || w.data != g.data || !ttl_ok) report(k, &w, &g);
  }
  for (const auto& [k, g] : got)
    if (!want.contains(k)) report(k, nullptr, &g);
  return out;
}

// What the data must be after a sequence of commands, built alongside them.
class Model {
 public:
  void Set(int db, const std::string& key, const std::string& value, long long ttl_ms = -1) {
    data_[{db, key}] = {"string", value, ttl_ms < 0 ? -1 : WallMs() + ttl_ms};
  }
  void SetAt(int db, const std::string& key, const std::string& value, long long expire_at) {
    data_[{db, key}] = {"string", value, expire_at};
  }
  void Del(int db, const std::string& key) { data_.erase({db, key}); }
  const Dataset& data() const { return data_; }

 private:
  Dataset data_;
};

// The SET family with every TTL option, after a FLUSHALL that must stay in effect.
void WriteSetFamily(Client& c, Model& m) {
  const std::string kMinute = "60000";
  // Data written before FLUSHALL must not come back.
  Expect(c, {"SELECT", "3"}, "OK");
  Expect(c, {"SET", "old", "x"}, "OK");
  Expect(c, {"SELECT", "0"}, "OK");
  Expect(c, {"SET", "old", "y"}, "OK");
  Expect(c, {"FLUSHALL"}, "OK");

  Expect(c, {"SET", "s:plain", "v1"}, "OK");
  m.Set(0, "s:plain", "v1");
  Expect(c, {"SET", "s:ex", "v2", "EX", "1000"}, "OK");
  Expect(c, {"SET", "s:ex", "v2b", "KEEPTTL"}, "OK");
  m.Set(0, "s:ex", "v2b", 1000000);
  Expect(c, {"SET", "s:px", "v3", "PX", "500000"}, "OK");
  m.Set(0, "s:px", "v3", 500000);
  long long exat = WallMs() / 1000 + 2000;
  Expect(c, {"SET", "s:exat", "v", "EXAT", std::to_string(exat)}, "OK");
  m.SetAt(0, "s:exat", "v", exat * 1000);
  Expect(c, {"SET", "s:keep", "v4", "EX", "1000"}, "OK");
  Expect(c, {"SET", "s:keep", "v4b"}, "OK");  // a plain SET clears the TTL
  m.Set(0, "s:keep", "v4b");
  Expect(c, {"SET", "s:nx", "a", "NX"}, "OK");
  Expect(c, {"SET", "s:nx", "b", "NX"}, "(nil)");
  Expect(c, {"SET", "s:nx", "c", "XX"}, "OK");
  m.Set(0, "s:nx", "c");
  Expect(c, {"SET", "s:get", "new", "GET"}, "(nil)");
  Expect(c, {"SET", "s:get", "newer", "GET"}, "new");
  m.Set(0, "s:get", "newer");
  Expect(c, {"SETEX", "s:setex", "1000", "v5"}, "OK");
  m.Set(0, "s:setex", "v5", 1000000);
  Expect(c, {"PSETEX", "s:psetex", "900000", "v6"}, "OK");
  m.Set(0, "s:psetex", "v6", 900000);
  Expect(c, {"SETNX", "s:setnx", "v7"}, ":1");
  m.Set(0, "s:setnx", "v7");
  Expect(c, {"GETSET", "s:getset", "a"}, "(nil)");
  Expect(c, {"GETSET", "s:getset", "b"}, "a");
  m.Set(0, "s:getset", "b");
  Expect(c, {"SET", "s:getdel", "x"}, "OK");
  Expect(c, {"GETDEL", "s:getdel"}, "x");
  Expect(c, {"SET", "s:getex", "x"}, "OK");
  Expect(c, {"GETEX", "s:getex", "PX", kMinute + "0"}, "x");
  m.Set(0, "s:getex", "x", 600000);
  Expect(c, {"SET", "s:getex2", "y", "EX", "100"}, "OK");
  Expect(c, {"GETEX", "s:getex2", "PERSIST"}, "y");
  m.Set(0, "s:getex2", "y");
}

// Counters, floats and in-place edits: replay must give exactly the same bytes.
void WriteCountersAndEdits(Client& c, Model& m) {
  Expect(c, {"SET", "n:int", "10"}, "OK");
  for (int i = 0; i < 5; ++i) c.Run({"INCR", "n:int"});
  Expect(c, {"INCRBY", "n:int", "100"}, ":115");
  Expect(c, {"DECR", "n:int"}, ":114");
  Expect(c, {"DECRBY", "n:int", "4"}, ":110");
  m.Set(0, "n:int", "110");
  for (int i = 0; i < 1000; ++i) c.Send({"INCR", "n:ctr"});
  for (int i = 1; i <= 1000; ++i) CHECK(c.Read().IsInt(i));
  m.Set(0, "n:ctr", "1000");
  Expect(c, {"SET", "f:1", "10.5"}, "OK");
  Expect(c, {"INCRBYFLOAT", "f:1", "0.1"}, "10.6");
  Expect(c, {"INCRBYFLOAT", "f:1", "-5"}, "5.6");
  m.Set(0, "f:1", "5.6");
  Expect(c, {"INCRBYFLOAT", "f:2", "3.0e3"}, "3000");
  m.Set(0, "f:2", "3000");

  Expect(c, {"APPEND", "a:1", "hello"}, ":5");
  Expect(c, {"APPEND", "a:1", " world"}, ":11");
  m.Set(0, "a:1", "hello world");
  Expect(c, {"SETRANGE", "r:1", "5", "abc"}, ":8");
  m.Set(0, "r:1", std::string(5, '\0') + "abc");
  Expect(c, {"SET", "r:2", "Hello World"}, "OK");
  Expect(c, {"SETRANGE", "r:2", "6", "Redis"}, ":11");
  m.Set(0, "r:2", "Hello Redis");
}

// Multi-key writes (each one record): MSET, MSETNX, DEL of several keys.
void WriteMultiKey(Client& c, Model& m) {
  Args mset = {"MSET"};
  for (int i = 0; i < 200; ++i) {
    mset.push_back("m:" + std::to_string(i));
    mset.push_back("v" + std::to_string(i));
    m.Set(0, "m:" + std::to_string(i), "v" + std::to_string(i));
  }
  Expect(c, mset, "OK");
  Expect(c, {"MSETNX", "nx:1", "a", "nx:2", "b"}, ":1");
  Expect(c, {"MSETNX", "nx:2", "z", "nx:3", "c"}, ":0");
  m.Set(0, "nx:1", "a");
  m.Set(0, "nx:2", "b");
  Expect(c, {"MSET", "{t}a", "1", "{t}b", "2", "{t}c", "3"}, "OK");
  m.Set(0, "{t}a", "1");
  m.Set(0, "{t}c", "3");
  Expect(c, {"DEL", "{t}b"}, ":1");

  Expect(c, {"MSET", "d:1", "x", "d:2", "x", "d:3", "x", "d:4", "x", "d:5", "x"}, "OK");
  Expect(c, {"DEL", "d:1", "d:2", "d:3", "d:missing"}, ":3");
  Expect(c, {"UNLINK", "d:4"}, ":1");
  m.Set(0, "d:5", "x");
}

// RENAME, COPY, MOVE and the EXPIRE family, logged with absolute times.
void WriteKeyCommands(Client& c, Model& m) {
  Expect(c, {"SET", "rn:1", "x", "EX", "1000"}, "OK");
  Expect(c, {"RENAME", "rn:1", "rn:2"}, "OK");
  m.Set(0, "rn:2", "x", 1000000);
  Expect(c, {"SET", "rn:3", "y"}, "OK");
  Expect(c, {"RENAMENX", "rn:3", "rn:2"}, ":0");
  Expect(c, {"RENAMENX", "rn:3", "rn:4"}, ":1");
  m.Set(0, "rn:4", "y");
  Expect(c, {"SET", "rn:5", "over"}, "OK");
  Expect(c, {"SET", "rn:6", "z", "PX", "800000"}, "OK");
  Expect(c, {"RENAME", "rn:5", "rn:6"}, "OK");  // the destination's TTL goes with its value
  m.Set(0, "rn:6", "over");

  Expect(c, {"SET", "cp:1", "y", "EX", "1000"}, "OK");
  m.Set(0, "cp:1", "y", 1000000);
  Expect(c, {"COPY", "cp:1", "cp:2"}, ":1");
  m.Set(0, "cp:2", "y", 1000000);
  Expect(c, {"COPY", "cp:1", "cp:3", "DB", "2"}, ":1");
  m.Set(2, "cp:3", "y", 1000000);
  Expect(c, {"SET", "cp:4", "old"}, "OK");
  Expect(c, {"COPY", "cp:1", "cp:4"}, ":0");
  Expect(c, {"COPY", "cp:1", "cp:4", "REPLACE"}, ":1");
  m.Set(0, "cp:4", "y", 1000000);
  Expect(c, {"SET", "mv:1", "z", "PX", "700000"}, "OK");
  Expect(c, {"MOVE", "mv:1", "3"}, ":1");
  m.Set(3, "mv:1", "z", 700000);

  Expect(c, {"SET", "e:1", "a"}, "OK");
  Expect(c, {"EXPIRE", "e:1", "1000"}, ":1");
  m.Set(0, "e:1", "a", 1000000);
  Expect(c, {"SET", "e:2", "b", "EX", "1000"}, "OK");
  Expect(c, {"PERSIST", "e:2"}, ":1");
  m.Set(0, "e:2", "b");
  long long at = WallMs() + 2000000;
  Expect(c, {"SET", "e:3", "c"}, "OK");
  Expect(c, {"PEXPIREAT", "e:3", std::to_string(at)}, ":1");
  m.SetAt(0, "e:3", "c", at);
  Expect(c, {"SET", "e:4", "d"}, "OK");
  Expect(c, {"EXPIREAT", "e:4", std::to_string(at / 1000)}, ":1");
  m.SetAt(0, "e:4", "d", at / 1000 * 1000);
  Expect(c, {"SET", "e:5", "x"}, "OK");
  Expect(c, {"PEXPIRE", "e:5", "500000"}, ":1");
  Expect(c, {"EXPIRE", "e:5", "2000", "GT"}, ":1");
  m.Set(0, "e:5", "x", 2000000);
  Expect(c, {"SET", "e:gone", "x"}, "OK");
  Expect(c, {"EXPIRE", "e:gone", "-1"}, ":1");  // a TTL in the past deletes the key
  Expect(c, {"SET", "e:gone2", "x"}, "OK");
  Expect(c, {"PEXPIREAT", "e:gone2", "1"}, ":1");
}

// Binary-safe and large values, other databases, FLUSHDB.
void WriteOtherDatabases(Client& c, Model& m) {
  std::string bin_key("bin:\r\n\0key", 10), bin_value;
  for (int i = 0; i < 256; ++i) bin_value += static_cast<char>(i);
  Expect(c, {"SET", bin_key, bin_value}, "OK");
  m.Set(0, bin_key, bin_value);
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
  Expect(c, {"SET", "big", big}, "OK");
  m.Set(0, "big", big);

  Expect(c, {"SELECT", "1"}, "OK");
  Expect(c, {"SET", "db1:k", "v"}, "OK");
  Expect(c, {"MSET", "db1:a", "1", "db1:b", "2"}, "OK");
  Expect(c, {"INCR", "db1:ctr"}, ":1");
  m.Set(1, "db1:k", "v");
  m.Set(1, "db1:a", "1");
  m.Set(1, "db1:b", "2");
  m.Set(1, "db1:ctr", "1");
  Expect(c, {"SELECT", "4"}, "OK");
  Expect(c, {"MSET", "x", "1", "y", "2"}, "OK");
  Expect(c, {"FLUSHDB"}, "OK");
  Expect(c, {"SET", "after-flush", "yes"}, "OK");
  m.Set(4, "after-flush", "yes");
  Expect(c, {"SELECT", "5"}, "OK");
  Expect(c, {"SET", "z", "1"}, "OK");
  Expect(c, {"FLUSHDB"}, "OK");
  Expect(c, {"SELECT", "0"}, "OK");
}

// Writes a mix of every string and key command over several databases; returns the model of
// what must be there. Leaves the connection in database 0.
Model WriteMix(Client& c) {
  Model m;
  WriteSetFamily(c, m);
  WriteCountersAndEdits(c, m);
  WriteMultiKey(c, m);
  WriteKeyCommands(c, m);
  WriteOtherDatabases(c, m);
  return m;
}

// The digest, the dataset and the model agree before `stop`, and again after a restart.
void CheckRestart(const Args& server_args, int stop_signal, const char* shutdown_cmd) {
  ServerProcess p(server_args);
  Dataset before;
  std::string digest;
  {
    Client c(p.port());
    Model m = WriteMix(c);
    before = DumpAll(c);
    CHECK(Diff(m.data(), before, 2000) == "");
    digest = c.Run({"DEBUG", "DIGEST"}).str;
    if (shutdown_cmd != nullptr) {
      CHECK(c.Run({"SHUTDOWN", shutdown_cmd}).IsError());  // the connection just closes
      int status = p.Stop(0);
      CHECK_MESSAGE(ExitedWith(status, 0), "exit status " << status);
    }
  }
  if (stop_signal != 0) p.Stop(stop_signal);
  auto q = Restart(p, server_args);
  Client c(q->port());
  Dataset after = DumpAll(c);
  CHECK(Diff(before, after) == "");
  CHECK(c.Run({"DEBUG", "DIGEST"}).str == digest);
  // SHUTDOWN SAVE leaves a checkpoint to load; NOSAVE and SIGKILL leave only the log.
  bool saved = shutdown_cmd != nullptr && std::string_view(shutdown_cmd) == "SAVE";
  if (shutdown_cmd != nullptr || stop_signal == SIGKILL)
    CHECK((InfoInt(c, "checkpoint_lsn") > 0) == saved);
}

// ---------------------------------------------------------------------------------------------
// Log segments on disk
// ---------------------------------------------------------------------------------------------

// The segment files of a data directory, in LSN order.
std::vector<fs::path> Segments(const std::string& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "wal", ec))
    if (e.path().extension() == ".log") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t FirstLsn(const fs::path& segment) { return std::stoull(segment.stem().string()); }

struct RecordPos {
  size_t offset;
  size_t size;  // header and payload
  std::string payload;
};

// Splits a segment into records ([length 4][crc 4][lsn 8][type 1][payload], little-endian).
// A header of zeros is where the records end: the rest is space allocated ahead by the writer.
std::vector<RecordPos> ParseSegment(const std::string& bytes) {
  std::vector<RecordPos> out;
  size_t pos = 0;
  while (pos + 17 <= bytes.size() && bytes.compare(pos, 17, std::string(17, '\0')) != 0) {
    uint32_t len = 0;
    for (int i = 3; i >= 0; --i) len = len << 8 | static_cast<unsigned char>(bytes[pos + i]);
    if (pos + 17 + len > bytes.size()) break;
    out.push_back({pos, 17 + len, bytes.substr(pos + 17, len)});
    pos += 17 + len;
  }
  return out;
}

// The last segment holding records.
fs::path LastNonEmptySegment(const std::string& dir) {
  std::vector<fs::path> segs = Segments(dir);
  while (!segs.empty() && ParseSegment(ReadFile(segs.back())).empty()) segs.pop_back();
  REQUIRE(!segs.empty());
  return segs.back();
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Restarts keep every write
// ---------------------------------------------------------------------------------------------

TEST_CASE("persistence: every string and key command survives SHUTDOWN NOSAVE (log only)") {
  CheckRestart(kAlways, 0, "NOSAVE");
}

TEST_CASE("persistence: every string and key command survives SHUTDOWN SAVE (checkpoint)") {
  CheckRestart(kAlways, 0, "SAVE");
}

TEST_CASE("persistence: every string and key command survives SIGTERM with appendfsync everysec") {
  CheckRestart({}, SIGTERM, nullptr);
}

TEST_CASE("persistence: every string and key command survives SIGKILL with appendfsync always") {
  CheckRestart(kAlwaysNoSave, SIGKILL, nullptr);
}

TEST_CASE("persistence: a key that expired before the restart stays gone") {
  bool active_expire = true, save = false;
  int ttl_ms = 100, before_crash_ms = 400, after_crash_ms = 0;
  SUBCASE("expired before the crash, active expiry off") { active_expire = false; }
  SUBCASE("expired and removed before the crash") {}
  SUBCASE("in a checkpoint taken before it expired") {
    active_expire = false;
    save = true;
  }
  SUBCASE("expired while the server was down") {
    ttl_ms = 700;
    before_crash_ms = 0;
    after_crash_ms = 1000;
  }
  ServerProcess p(kAlwaysNoSave);
  {
    Client c(p.port());
    Expect(c, {"DEBUG", "SET-ACTIVE-EXPIRE", active_expire ? "1" : "0"}, "OK");
    Expect(c, {"SET", "short", "x", "PX", std::to_string(ttl_ms)}, "OK");
    Expect(c, {"SET", "short2", "x"}, "OK");
    Expect(c, {"PEXPIRE", "short2", std::to_string(ttl_ms + 50)}, ":1");
    Expect(c, {"SET", "long", "y", "EX", "1000"}, "OK");
    if (save) Expect(c, {"SAVE"}, "OK");
    SleepMs(before_crash_ms);
    if (active_expire && before_crash_ms > 0)
      CHECK(WaitFor(3000, [&] { return c.Run({"DBSIZE"}).IsInt(1); }));
  }
  p.Stop(SIGKILL);
  SleepMs(after_crash_ms);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Expect(c, {"GET", "short"}, "(nil)");
  Expect(c, {"GET", "short2"}, "(nil)");
  Expect(c, {"EXISTS", "short", "short2"}, ":0");
  Expect(c, {"GET", "long"}, "y");
  Expect(c, {"KEYS", "*"}, "[long]");
  CHECK(WaitFor(3000, [&] { return c.Run({"DBSIZE"}).IsInt(1); }));
}

TEST_CASE("persistence: FLUSHALL and FLUSHDB after a checkpoint replay on top of it") {
  ServerProcess p(kAlwaysNoSave);
  {
    Client c(p.port());
    Args mset = {"MSET"};
    for (int i = 0; i < 100; ++i) mset.insert(mset.end(), {"a" + std::to_string(i), "1"});
    Expect(c, mset, "OK");
    Expect(c, {"SELECT", "1"}, "OK");
    Expect(c, {"SET", "db1", "x"}, "OK");
    Expect(c, {"SELECT", "2"}, "OK");
    Expect(c, {"SET", "db2", "x"}, "OK");
    Expect(c, {"SAVE"}, "OK");
    Expect(c, {"FLUSHALL"}, "OK");
    Expect(c, {"SET", "db2-after", "y"}, "OK");
    Expect(c, {"SELECT", "1"}, "OK");
    Expect(c, {"SET", "db1-after", "y"}, "OK");
    Expect(c, {"BGSAVE"}, "Background saving started");
    Expect(c, {"SET", "db1-later", "z"}, "OK");
    Expect(c, {"FLUSHDB"}, "OK");
    Expect(c, {"SET", "db1-last", "w"}, "OK");
    Expect(c, {"SELECT", "0"}, "OK");
    Expect(c, {"SET", "a7", "back"}, "OK");
    SleepMs(300);
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Dataset want;
  want[{0, "a7"}] = {"string", "back", -1};
  want[{1, "db1-last"}] = {"string", "w", -1};
  want[{2, "db2-after"}] = {"string", "y", -1};
  CHECK(Diff(want, DumpAll(c)) == "");
}

TEST_CASE("persistence: INCR counters from many clients replay exactly") {
  ServerProcess p(kAlwaysNoSave);
  constexpr int kClients = 8, kPerClient = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&p, t] {
      Client c(p.port());
      for (int i = 0; i < kPerClient; ++i) {
        c.Send({"INCR", "ctr"});
        c.Send({"INCRBY", "ctr:" + std::to_string(t), "-3"});
        c.Send({"INCRBYFLOAT", "fl", "0.5"});
      }
      for (int i = 0; i < 3 * kPerClient; ++i) c.Read();
    });
  }
  for (auto& t : threads) t.join();
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Expect(c, {"GET", "ctr"}, std::to_string(kClients * kPerClient));
  Expect(c, {"GET", "fl"}, std::to_string(kClients * kPerClient / 2));
  for (int t = 0; t < kClients; ++t)
    Expect(c, {"GET", "ctr:" + std::to_string(t)}, std::to_string(-3 * kPerClient));
}

// One writer of the checkpoint test: per connection, unique keys, a counter, an APPEND (not
// idempotent, so a record replayed twice shows) and an MSET over two shards (one record, so it
// comes back whole or not at all). Remembers what was acknowledged; at most the last command
// sent has no reply.
struct Writer {
  int id;
  int sets = 0;           // SET w:<id>:<n> for n < sets were acknowledged
  long long ctr = 0;      // last acknowledged INCR result
  long long app_len = 0;  // last acknowledged APPEND result
  std::string mset;       // last acknowledged MSET value
  std::string pending;    // the command without a reply: "", "set", "incr", "append", "mset"
  std::string last_error;

  std::string Key(std::string_view what) const {
    return "w:" + std::to_string(id) + ":" + std::string(what);
  }
  // Sends one command; true if it got the expected kind of reply.
  bool Step(Client& c, const char* what, const Args& cmd) {
    pending = what;
    Reply r = c.Run(cmd);
    if (r.IsError()) {
      last_error = r.Dump();
      return false;
    }
    pending.clear();
    return true;
  }
  void Run(int port, const std::atomic<bool>& stop) {
    Client c(port);
    while (!stop) {
      std::string n = std::to_string(sets);
      if (!Step(c, "set", {"SET", Key(n), "v" + n})) return;
      ++sets;
      if (!Step(c, "incr", {"INCR", Key("ctr")})) return;
      ++ctr;
      if (!Step(c, "append", {"APPEND", Key("app"), "x"})) return;
      ++app_len;
      if (!Step(c, "mset", {"MSET", Key("m1"), n, "{other}" + Key("m2"), n})) return;
      mset = n;
    }
  }
  // Checks the restarted server against what was acknowledged.
  void Verify(Client& c) const {
    CAPTURE(id);
    CAPTURE(pending);
    CHECK_MESSAGE(last_error.starts_with("!(connection error)"), last_error);
    CHECK(sets > 0);
    for (int n = 0; n < sets; ++n) {
      Reply r = c.Run({"GET", Key(std::to_string(n))});
      if (!(r == "v" + std::to_string(n))) {
        CHECK_MESSAGE(false, "lost " << Key(std::to_string(n)) << ": " << r.Dump());
        break;
      }
    }
    Reply next = c.Run({"GET", Key(std::to_string(sets))});
    CHECK((next.IsNil() || (pending == "set" && next == "v" + std::to_string(sets))));
    Reply r = c.Run({"GET", Key("ctr")});
    long long v = r.IsNil() ? 0 : std::stoll(r.str);
    CHECK((v == ctr || (pending == "incr" && v == ctr + 1)));
    v = c.Run({"STRLEN", Key("app")}).integer;
    CHECK((v == app_len || (pending == "append" && v == app_len + 1)));
    r = c.Run({"MGET", Key("m1"), "{other}" + Key("m2")});
    std::string want = mset.empty() ? "[(nil), (nil)]" : "[" + mset + ", " + mset + "]";
    std::string also = "[" + std::to_string(sets - 1) + ", " + std::to_string(sets - 1) + "]";
    CHECK_MESSAGE((r.Dump() == want || (pending == "mset" && r.Dump() == also)), r.Dump());
  }
};

// Writers, each on its own thread, from construction until Stop().
class Writers {
 public:
  Writers(int port, int n) : writers_(n) {
    for (int i = 0; i < n; ++i) {
      writers_[i].id = i;
      threads_.emplace_back([this, port, i] { writers_[i].Run(port, stop_); });
    }
  }
  ~Writers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  void Verify(Client& c) const {
    for (const Writer& w : writers_) w.Verify(c);
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<Writer> writers_;
  std::vector<std::thread> threads_;
};

TEST_CASE("persistence: BGSAVE while 20 clients write, then SIGKILL, loses nothing acknowledged") {
  ServerProcess p(kAlwaysNoSave);
  Writers writers(p.port(), 20);
  {
    Client c(p.port());
    int started = 0;
    for (int round = 0; round < 8; ++round) {
      SleepMs(150);
      Reply r = c.Run({"BGSAVE"});
      if (r == "Background saving started")
        ++started;
      else
        CHECK_MESSAGE(r.IsError("ERR Background save already in progress"), r.Dump());
    }
    CHECK(started > 0);
    CHECK(WaitFor(10000, [&] { return InfoInt(c, "checkpoint_lsn") > 0; }));
    CHECK(c.Run({"BGREWRITEAOF"}) == "Background append only file rewriting started");
    SleepMs(200);
  }
  p.Stop(SIGKILL);  // while the writers are still writing
  writers.Stop();

  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  CHECK(InfoInt(c, "checkpoint_lsn") > 0);
  writers.Verify(c);
}

// ---------------------------------------------------------------------------------------------
// CONFIG SET appendonly
// ---------------------------------------------------------------------------------------------

TEST_CASE("persistence: CONFIG SET appendonly no closes the log; later writes are not in it") {
  ServerProcess p(kAlwaysNoSave);
  {
    Client c(p.port());
    Expect(c, {"SET", "a", "1"}, "OK");
    Expect(c, {"CONFIG", "SET", "appendonly", "no"}, "OK");
    Expect(c, {"CONFIG", "GET", "appendonly"}, "[appendonly, no]");
    CHECK(InfoInt(c, "aof_enabled") == 0);
    Expect(c, {"SET", "b", "2"}, "OK");  // no log, no checkpoint: as Redis without its AOF
    Expect(c, {"GET", "b"}, "2");
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Expect(c, {"GET", "a"}, "1");
  Expect(c, {"GET", "b"}, "(nil)");
}

TEST_CASE("persistence: CONFIG SET appendonly yes checkpoints what the log lacks, then logs") {
  ServerProcess p({"--appendonly", "no", "--appendfsync", "always", "--save", ""});
  {
    Client c(p.port());
    Expect(c, {"SET", "a", "1"}, "OK");
    Expect(c, {"CONFIG", "SET", "appendonly", "yes"}, "OK");
    Expect(c, {"CONFIG", "GET", "appendonly"}, "[appendonly, yes]");
    CHECK(InfoInt(c, "aof_enabled") == 1);
    Expect(c, {"SET", "b", "2"}, "OK");
    // Off and on again: what was written meanwhile is in the new checkpoint.
    Expect(c, {"CONFIG", "SET", "appendonly", "no"}, "OK");
    Expect(c, {"SET", "c", "3"}, "OK");
    Expect(c, {"CONFIG", "SET", "appendonly", "yes"}, "OK");
    Expect(c, {"INCR", "a"}, ":2");
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Expect(c, {"MGET", "a", "b", "c"}, "[2, 2, 3]");
}

TEST_CASE("persistence: CONFIG SET appendonly yes that cannot start the log changes nothing") {
  ServerProcess p({"--appendonly", "no", "--save", ""});
  Client c(p.port());
  Expect(c, {"DEBUG", "WAL-FAULT", "ENOSPC", "WRITE"}, "OK");  // the new segment's creation
  Reply r = c.Run({"CONFIG", "SET", "notify-keyspace-events", "KEA", "appendonly", "yes"});
  CHECK_MESSAGE(r.IsErrorPrefix("ERR CONFIG SET failed (possibly related to argument 'appendonly') - "),
                r.Dump());
  Expect(c, {"CONFIG", "GET", "appendonly"}, "[appendonly, no]");
  Expect(c, {"CONFIG", "GET", "notify-keyspace-events"}, "[notify-keyspace-events, ]");
  CHECK(InfoInt(c, "aof_enabled") == 0);
  Expect(c, {"SET", "a", "1"}, "OK");
  Expect(c, {"DEBUG", "WAL-FAULT", "OFF"}, "OK");
  Expect(c, {"CONFIG", "SET", "appendonly", "yes"}, "OK");
  CHECK(InfoInt(c, "aof_enabled") == 1);
}

TEST_CASE("persistence: appendonly switched off and on while 20 clients write, then SIGKILL") {
  ServerProcess p(kAlwaysNoSave);
  Writers writers(p.port(), 20);
  {
    Client c(p.port());
    for (int round = 0; round < 4; ++round) {
      SleepMs(100);
      Expect(c, {"CONFIG", "SET", "appendonly", "no"}, "OK");
      SleepMs(100);
      Expect(c, {"CONFIG", "SET", "appendonly", "yes"}, "OK");
    }
    SleepMs(200);
  }
  // Every write acknowledged is in the last checkpoint (those made while the log was off too)
  // or in the log after it.
  p.Stop(SIGKILL);
  writers.Stop();
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  writers.Verify(c);
}

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

TEST_CASE("persistence: SAVE writes a checkpoint, deletes covered segments, restart loads it") {
  Args args = {"--appendfsync", "always", "--wal-segment-size", "1mb", "--save", ""};
  ServerProcess p(args);
  std::string digest;
  {
    Client c(p.port());
    std::string value(50000, 'v');
    for (int i = 0; i < 70; ++i) Expect(c, {"SET", "big:" + std::to_string(i), value}, "OK");
    Expect(c, {"SET", "overwritten", "old"}, "OK");
    Expect(c, {"SET", "deleted", "x"}, "OK");
    Expect(c, {"SET", "gets-ttl", "x"}, "OK");
    Expect(c, {"SET", "ctr", "10"}, "OK");
    std::vector<fs::path> before = Segments(p.dir());
    CHECK(before.size() >= 3);
    CHECK(InfoInt(c, "checkpoint_lsn") == 0);
    long long size_before = InfoInt(c, "wal_size_bytes");
    CHECK(size_before > 3000000);

    Expect(c, {"SAVE"}, "OK");
    long long cp = InfoInt(c, "checkpoint_lsn");
    CHECK(cp > 0);
    CHECK(cp == InfoInt(c, "wal_last_lsn"));
    CHECK(InfoInt(c, "rdb_changes_since_last_save") == 0);
    CHECK(InfoInt(c, "wal_size_bytes") < size_before);
    CHECK(InfoInt(c, "checkpoint_last_duration_ms") >= 0);
    CHECK(InfoInt(c, "checkpoint_longest_pause_us") > 0);
    CHECK(fs::exists(fs::path(p.dir()) / "MANIFEST"));
    // A segment survives only if it holds a record after the checkpoint, or is the current one.
    std::vector<fs::path> after = Segments(p.dir());
    CHECK(after.size() < before.size());
    for (size_t i = 0; i + 1 < after.size(); ++i)
      CHECK_MESSAGE(FirstLsn(after[i + 1]) > static_cast<uint64_t>(cp) + 1, after[i]);

    // Changes after the checkpoint come from the log, on top of it.
    Expect(c, {"SET", "overwritten", "new"}, "OK");
    Expect(c, {"DEL", "deleted"}, ":1");
    Expect(c, {"EXPIRE", "gets-ttl", "1000"}, ":1");
    Expect(c, {"INCRBY", "ctr", "5"}, ":15");
    Expect(c, {"SET", "post", "p"}, "OK");
    CHECK(InfoInt(c, "rdb_changes_since_last_save") > 0);
    digest = c.Run({"DEBUG", "DIGEST"}).str;
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, args);
  Client c(q->port());
  CHECK(InfoInt(c, "checkpoint_lsn") > 0);
  CHECK(c.Run({"DEBUG", "DIGEST"}).str == digest);
  Expect(c, {"DBSIZE"}, ":74");
  Expect(c, {"GET", "overwritten"}, "new");
  Expect(c, {"EXISTS", "deleted"}, ":0");
  CHECK(c.Run({"TTL", "gets-ttl"}).integer > 990);
  Expect(c, {"GET", "ctr"}, "15");
  Expect(c, {"STRLEN", "big:69"}, ":50000");
}

TEST_CASE("persistence: DEBUG RELOAD keeps the data, and the log still works afterwards") {
  ServerProcess p(kAlwaysNoSave);
  Dataset before;
  {
    Client c(p.port());
    Model m = WriteMix(c);
    before = DumpAll(c);
    std::string digest = c.Run({"DEBUG", "DIGEST"}).str;
    Expect(c, {"DEBUG", "RELOAD"}, "OK");
    CHECK(Diff(before, DumpAll(c)) == "");
    CHECK(c.Run({"DEBUG", "DIGEST"}).str == digest);
    Expect(c, {"SET", "after-reload", "1"}, "OK");
    before = DumpAll(c);
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  CHECK(Diff(before, DumpAll(c)) == "");
}

// Writes `n` (a multiple of 100) keys of 100 bytes, enough for a checkpoint to take a while.
void FillKeys(Client& c, int n) {
  const std::string value(100, 'v');
  for (int i = 0; i < n; i += 100) {
    Args mset = {"MSET"};
    for (int k = i; k < i + 100; ++k) {
      mset.push_back("key:" + std::to_string(k));
      mset.push_back(value);
    }
    c.Send(mset);
  }
  for (int i = 0; i < n; i += 100) REQUIRE(c.Read() == "OK");
}

// Whether the background checkpoint just asked for is seen serializing keys (it takes a while
// with FillKeys' keys; this polls far more often).
bool SavingUnderWay(Client& c) {
  return WaitFor(5000, [&] { return InfoInt(c, "current_save_keys_processed") > 0; });
}

// DEBUG RELOAD and CONFIG SET appendonly yes lock every shard and then checkpoint; a background
// checkpoint under way holds the checkpoint lock and wants the next shard. They used to wait for
// each other forever.
TEST_CASE("persistence: DEBUG RELOAD and CONFIG SET appendonly during a BGSAVE do not deadlock") {
  ServerProcess p({"--appendonly", "no", "--save", ""});
  Client c(p.port());
  FillKeys(c, 100000);
  for (const Args& cmd : {Args{"DEBUG", "RELOAD"}, Args{"CONFIG", "SET", "appendonly", "yes"}}) {
    Expect(c, {"BGSAVE"}, "Background saving started");
    REQUIRE(SavingUnderWay(c));
    Expect(c, cmd, "OK");
  }
  Expect(c, {"DBSIZE"}, ":100000");
}

// Without a log, FLUSHALL in a transaction asks for a checkpoint after the transaction; one
// already under way may have saved some shards before the flush, so another follows it.
TEST_CASE("persistence: FLUSHALL in EXEC during a BGSAVE is saved by the checkpoint after it") {
  const Args args = {"--appendonly", "no", "--save", "3600 1"};
  ServerProcess p(args);
  {
    Client c(p.port());
    FillKeys(c, 100000);
    Expect(c, {"BGSAVE"}, "Background saving started");
    REQUIRE(SavingUnderWay(c));
    Expect(c, {"MULTI"}, "OK");
    Expect(c, {"FLUSHALL"}, "QUEUED");
    Expect(c, {"EXEC"}, "[OK]");
    CHECK(WaitFor(20000, [&] {
      return InfoInt(c, "rdb_bgsave_in_progress") == 0 &&
             InfoInt(c, "rdb_changes_since_last_save") == 0;
    }));
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, args);
  Client c(q->port());
  Expect(c, {"DBSIZE"}, ":0");
}

// Every field of Redis 7.0's INFO persistence, with values that mean what Redis's mean.
TEST_CASE("persistence: INFO persistence has Redis's fields") {
  ServerProcess p(kAlwaysNoSave);
  Client c(p.port());
  const std::string info = c.Run({"INFO", "persistence"}).str;
  for (const char* field :
       {"loading", "async_loading", "current_cow_peak", "current_cow_size",
        "current_cow_size_age", "current_fork_perc", "current_save_keys_processed",
        "current_save_keys_total", "rdb_changes_since_last_save", "rdb_bgsave_in_progress",
        "rdb_last_save_time", "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec",
        "rdb_current_bgsave_time_sec", "rdb_saves", "rdb_last_cow_size",
        "rdb_last_load_keys_expired", "rdb_last_load_keys_loaded", "aof_enabled",
        "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_rewrite_time_sec",
        "aof_current_rewrite_time_sec", "aof_last_bgrewrite_status", "aof_rewrites",
        "aof_rewrites_consecutive_failures", "aof_last_write_status", "aof_last_cow_size",
        "module_fork_in_progress", "module_fork_last_cow_size", "aof_current_size",
        "aof_base_size", "aof_pending_rewrite", "aof_buffer_length", "aof_pending_bio_fsync",
        "aof_delayed_fsync"})
    CHECK_MESSAGE(Contains(info, "\r\n" + std::string(field) + ":"), field);
  for (const char* never_saved : {"rdb_last_bgsave_time_sec", "aof_last_rewrite_time_sec",
                                  "rdb_current_bgsave_time_sec", "aof_current_rewrite_time_sec"})
    CHECK_MESSAGE(Info(c, never_saved) == "-1", never_saved);
  CHECK(InfoInt(c, "rdb_saves") == 0);
  Expect(c, {"MSET", "a", "1", "b", "2"}, "OK");
  Expect(c, {"SAVE"}, "OK");
  CHECK(InfoInt(c, "rdb_saves") == 1);
  CHECK(InfoInt(c, "aof_rewrites") == 1);  // a checkpoint is also what rewrites the log
  CHECK(InfoInt(c, "rdb_last_bgsave_time_sec") == 0);
  Expect(c, {"CONFIG", "SET", "appendonly", "no"}, "OK");
  Expect(c, {"SAVE"}, "OK");
  CHECK(InfoInt(c, "rdb_saves") == 2);
  CHECK(InfoInt(c, "aof_rewrites") == 1);
  CHECK_FALSE(Contains(c.Run({"INFO", "persistence"}).str, "aof_buffer_length"));  // as Redis
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client d(q->port());
  CHECK(InfoInt(d, "rdb_last_load_keys_loaded") == 2);
  CHECK(InfoInt(d, "rdb_last_load_keys_expired") == 0);
}

TEST_CASE("persistence: LASTSAVE, BGSAVE and INFO persistence fields") {
  ServerProcess p(kAlwaysNoSave);
  Client c(p.port());
  std::string info = c.Run({"INFO", "persistence"}).str;
  for (const char* field :
       {"loading", "rdb_changes_since_last_save", "rdb_last_save_time", "aof_enabled",
        "aof_last_write_status", "wal_last_lsn", "wal_durable_lsn", "wal_size_bytes",
        "checkpoint_lsn", "checkpoint_last_duration_ms", "checkpoint_longest_pause_us",
        "wal_fsync_policy", "aof_current_size", "aof_base_size", "wal_direct_io"})
    CHECK_MESSAGE(Contains(info, "\r\n" + std::string(field) + ":"), field);
  CHECK(Info(c, "loading") == "0");
  // Whether `always` writes go straight to the disk: wherever the file system takes O_DIRECT.
  const std::string probe = p.dir() + "/probe";
  const int fd = ::open(probe.c_str(), O_RDWR | O_CREAT | O_DIRECT, 0644);
  if (fd >= 0) ::close(fd);
  ::unlink(probe.c_str());
  CHECK(Info(c, "wal_direct_io") == (fd >= 0 ? "1" : "0"));
  CHECK(Info(c, "aof_enabled") == "1");
  CHECK(Info(c, "aof_last_write_status") == "ok");
  CHECK(Info(c, "wal_fsync_policy") == "always");

  long long t0 = c.Run({"LASTSAVE"}).integer;
  CHECK(t0 > 0);
  SleepMs(1100);
  Expect(c, {"SET", "k", "v"}, "OK");
  CHECK(InfoInt(c, "rdb_changes_since_last_save") >= 1);
  Expect(c, {"SAVE"}, "OK");
  long long t1 = c.Run({"LASTSAVE"}).integer;
  CHECK(t1 > t0);
  CHECK(std::llabs(t1 - WallMs() / 1000) <= 2);
  CHECK(InfoInt(c, "rdb_last_save_time") == t1);
  CHECK(InfoInt(c, "rdb_changes_since_last_save") == 0);

  SleepMs(1100);
  Expect(c, {"SET", "k", "v2"}, "OK");
  Expect(c, {"BGSAVE"}, "Background saving started");
  CHECK(WaitFor(10000, [&] { return c.Run({"LASTSAVE"}).integer > t1; }));
  CHECK(WaitFor(10000, [&] { return InfoInt(c, "rdb_bgsave_in_progress") == 0; }));
  Expect(c, {"BGREWRITEAOF"}, "Background append only file rewriting started");
}

TEST_CASE("persistence: save points, checkpoint-interval and wal-max-size start checkpoints") {
  SUBCASE("save 1 1") {
    ServerProcess p({"--save", "1 1", "--checkpoint-interval", "0"});
    Client c(p.port());
    Expect(c, {"SET", "k", "v"}, "OK");
    CHECK(WaitFor(8000, [&] { return InfoInt(c, "checkpoint_lsn") > 0; }));
  }
  // Without a log the changes are counted all the same, as Redis's RDB save points count them.
  SUBCASE("appendonly no") {
    const Args args = {"--appendonly", "no", "--save", "1 1", "--checkpoint-interval", "0"};
    const Args by_interval = {"--appendonly", "no", "--save", "", "--checkpoint-interval", "1"};
    for (const Args& a : {args, by_interval}) {
      CAPTURE(a[3]);
      ServerProcess p(a);
      {
        Client c(p.port());
        CHECK(InfoInt(c, "rdb_changes_since_last_save") == 0);
        Expect(c, {"SET", "k", "v"}, "OK");
        Expect(c, {"SET", "k2", "v"}, "OK");
        CHECK(InfoInt(c, "rdb_changes_since_last_save") == 2);
        CHECK(WaitFor(8000, [&] { return InfoInt(c, "rdb_changes_since_last_save") == 0; }));
      }
      p.Stop(SIGKILL);
      auto q = Restart(p, a);
      Client c(q->port());
      Expect(c, {"GET", "k"}, "v");
      CHECK(InfoInt(c, "rdb_changes_since_last_save") == 0);
    }
  }
  SUBCASE("CONFIG SET checkpoint-interval 1") {
    ServerProcess p({"--save", ""});
    Client c(p.port());
    Expect(c, {"SET", "k", "v"}, "OK");
    SleepMs(1500);
    CHECK(InfoInt(c, "checkpoint_lsn") == 0);
    Expect(c, {"CONFIG", "SET", "checkpoint-interval", "1"}, "OK");
    Expect(c, {"CONFIG", "GET", "checkpoint-interval"}, "[checkpoint-interval, 1]");
    CHECK(WaitFor(8000, [&] { return InfoInt(c, "checkpoint_lsn") > 0; }));
  }
  SUBCASE("wal-max-size") {
    ServerProcess p({"--save", "", "--wal-segment-size", "1mb", "--checkpoint-interval", "0"});
    Client c(p.port());
    Expect(c, {"CONFIG", "SET", "wal-max-size", "2mb"}, "OK");
    std::string value(100000, 'x');
    for (int i = 0; i < 40; ++i) Expect(c, {"SET", "k" + std::to_string(i % 5), value}, "OK");
    CHECK(WaitFor(8000, [&] { return InfoInt(c, "checkpoint_lsn") > 0; }));
    CHECK(WaitFor(8000, [&] { return InfoInt(c, "wal_size_bytes") < 3000000; }));
  }
  // Redis's AOF rewrite trigger: the checkpoint plus the log past the minimum size and grown by
  // the percentage since the last checkpoint (here: since start-up, from nothing).
  const Args auto_args = {"--save", "", "--checkpoint-interval", "0",
                          "--auto-aof-rewrite-min-size", "1mb"};
  const std::string value(100000, 'x');
  SUBCASE("auto-aof-rewrite-percentage (100 by default, as Redis) and -min-size") {
    ServerProcess p(auto_args);
    Client c(p.port());
    Expect(c, {"CONFIG", "GET", "auto-aof-rewrite-percentage"},
           "[auto-aof-rewrite-percentage, 100]");
    Expect(c, {"CONFIG", "GET", "auto-aof-rewrite-min-size"},
           "[auto-aof-rewrite-min-size, 1048576]");
    for (int i = 0; i < 8; ++i) Expect(c, {"SET", "k" + std::to_string(i % 5), value}, "OK");
    SleepMs(1500);
    CHECK(InfoInt(c, "checkpoint_lsn") == 0);  // 800 KB: below the minimum
    for (int i = 8; i < 20; ++i) Expect(c, {"SET", "k" + std::to_string(i % 5), value}, "OK");
    CHECK(WaitFor(8000, [&] { return InfoInt(c, "checkpoint_lsn") > 0; }));
    // The base is what the checkpoint left: its files and the log segment still being written
    // (2 MB); the next checkpoint waits for that to double.
    const int64_t base = InfoInt(c, "aof_base_size");
    CHECK(base > 1000000);
    CHECK(InfoInt(c, "aof_current_size") >= base);
  }
  SUBCASE("auto-aof-rewrite-percentage 0 never checkpoints, and CONFIG SET turns it on") {
    Args args = auto_args;
    args.insert(args.end(), {"--auto-aof-rewrite-percentage", "0"});
    ServerProcess p(args);
    Client c(p.port());
    for (int i = 0; i < 20; ++i) Expect(c, {"SET", "k" + std::to_string(i % 5), value}, "OK");
    SleepMs(2500);
    CHECK(InfoInt(c, "checkpoint_lsn") == 0);
    Expect(c, {"CONFIG", "SET", "auto-aof-rewrite-percentage", "100"}, "OK");
    CHECK(WaitFor(8000, [&] { return InfoInt(c, "checkpoint_lsn") > 0; }));
  }
}

// ---------------------------------------------------------------------------------------------
// appendonly and appendfsync
// ---------------------------------------------------------------------------------------------

TEST_CASE("persistence: with appendonly no nothing survives a restart") {
  Args args = {"--appendonly", "no", "--save", ""};
  for (int sig : {SIGKILL, SIGTERM}) {
    CAPTURE(sig);
    ServerProcess p(args);
    {
      Client c(p.port());
      CHECK(Info(c, "aof_enabled") == "0");
      Expect(c, {"CONFIG", "GET", "appendonly"}, "[appendonly, no]");
      Expect(c, {"SET", "k", "v"}, "OK");
      Expect(c, {"INCR", "n"}, ":1");
    }
    p.Stop(sig);
    CHECK(Segments(p.dir()).empty());
    auto q = Restart(p, args);
    Client c(q->port());
    Expect(c, {"DBSIZE"}, ":0");
  }
}

TEST_CASE("persistence: FLUSHALL without a log checkpoints when save points are set") {
  // As Redis saves its RDB at FLUSHALL: a kill -9 afterwards must not bring the keys back.
  const Args args = {"--appendonly", "no", "--save", "3600 1", "--checkpoint-interval", "0"};
  ServerProcess p(args);
  {
    Client c(p.port());
    Expect(c, {"MSET", "a", "1", "b", "2"}, "OK");
    Expect(c, {"SAVE"}, "OK");
    Expect(c, {"SET", "c", "3"}, "OK");
    CHECK(InfoInt(c, "rdb_changes_since_last_save") == 1);
    Expect(c, {"FLUSHALL"}, "OK");
    CHECK(InfoInt(c, "rdb_changes_since_last_save") == 0);
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, args);
  {
    Client c(q->port());
    Expect(c, {"DBSIZE"}, ":0");
    // In a transaction the checkpoint comes after it, whole.
    Expect(c, {"SET", "old", "1"}, "OK");
    Expect(c, {"MULTI"}, "OK");
    Expect(c, {"SET", "x", "1"}, "QUEUED");
    Expect(c, {"FLUSHALL"}, "QUEUED");
    Expect(c, {"SET", "y", "2"}, "QUEUED");
    Expect(c, {"EXEC"}, "[OK, OK, OK]");
    CHECK(WaitFor(8000, [&] { return InfoInt(c, "rdb_changes_since_last_save") == 0; }));
  }
  q->Stop(SIGKILL);
  auto r = Restart(*q, args);
  Client c(r->port());
  Expect(c, {"KEYS", "*"}, "[y]");
}

TEST_CASE("persistence: a flush counts one change per key it removes, as in Redis") {
  ServerProcess p({"--save", ""});
  Client c(p.port());
  Expect(c, {"MSET", "a", "1", "b", "2", "c", "3"}, "OK");
  CHECK(InfoInt(c, "rdb_changes_since_last_save") == 3);
  Expect(c, {"FLUSHALL"}, "OK");  // no save points: no checkpoint
  CHECK(InfoInt(c, "rdb_changes_since_last_save") == 6);
  Expect(c, {"FLUSHALL"}, "OK");
  Expect(c, {"FLUSHDB"}, "OK");
  CHECK(InfoInt(c, "rdb_changes_since_last_save") == 6);  // nothing to remove
  Expect(c, {"SELECT", "1"}, "OK");
  Expect(c, {"SET", "k", "v"}, "OK");
  Expect(c, {"SELECT", "0"}, "OK");
  Expect(c, {"SET", "k", "v"}, "OK");
  Expect(c, {"FLUSHDB"}, "OK");  // database 0's key only
  CHECK(InfoInt(c, "rdb_changes_since_last_save") == 9);
}

TEST_CASE("persistence: CONFIG SET and GET appendfsync") {
  ServerProcess p;
  Client c(p.port());
  Expect(c, {"CONFIG", "GET", "appendfsync"}, "[appendfsync, everysec]");
  CHECK(Info(c, "wal_fsync_policy") == "everysec");
  for (const char* policy : {"always", "no", "everysec", "always"}) {
    Expect(c, {"CONFIG", "SET", "appendfsync", policy}, "OK");
    Expect(c, {"CONFIG", "GET", "appendfsync"}, std::string("[appendfsync, ") + policy + "]");
    CHECK(Info(c, "wal_fsync_policy") == policy);
    Expect(c, {"SET", std::string("k:") + policy, "v"}, "OK");
  }
  CHECK(c.Run({"CONFIG", "SET", "appendfsync", "sometimes"}).IsError());
  Expect(c, {"CONFIG", "GET", "appendfsync"}, "[appendfsync, always]");
  p.Stop(SIGKILL);
  auto q = Restart(p, {});
  Client c2(q->port());
  Expect(c2, {"MGET", "k:always", "k:no", "k:everysec"}, "[v, v, v]");
}

TEST_CASE("persistence: with appendfsync always an acknowledged write is already durable") {
  ServerProcess p(kAlwaysNoSave);
  Client c(p.port());
  for (int i = 0; i < 50; ++i) {
    Expect(c, {"SET", "k" + std::to_string(i), "v"}, "OK");
    long long last = InfoInt(c, "wal_last_lsn"), durable = InfoInt(c, "wal_durable_lsn");
    CHECK(last > 0);
    CHECK_MESSAGE(durable >= last, "durable " << durable << " < last " << last);
  }
}

// Sends `cmd` on a raw connection of its own and returns it, to read the reply later.
std::unique_ptr<RawClient> SendRaw(int port, std::initializer_list<std::string_view> cmd) {
  std::string req = "*" + std::to_string(cmd.size()) + "\r\n";
  for (auto a : cmd) req += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  auto c = std::make_unique<RawClient>(port);
  c->Write(req);
  return c;
}

TEST_CASE("persistence: with appendfsync always no reply shows data before it is durable") {
  ServerProcess p(kAlwaysNoSave);
  Client admin(p.port());
  Expect(admin, {"SET", "k", "old"}, "OK");
  // With fsyncs failing, nothing written from now on becomes durable.
  Expect(admin, {"DEBUG", "WAL-FAULT", "EIO", "FSYNC"}, "OK");
  auto writer = SendRaw(p.port(), {"MSET", "k", "new", "k2", "v2"});
  std::string early = writer->ReadValue(1000);
  CHECK_MESSAGE((early.empty() || early.starts_with("-MISCONF")), early);
  // The write is applied in memory but not durable: no reader may see it yet.
  auto get = SendRaw(p.port(), {"GET", "k"});
  auto exists = SendRaw(p.port(), {"EXISTS", "k2"});
  auto dbsize = SendRaw(p.port(), {"DBSIZE"});
  std::string got = get->ReadValue(1000), found = exists->ReadValue(100),
              count = dbsize->ReadValue(100);
  CHECK_MESSAGE(got.empty(), "GET returned " << got << " before the log was durable");
  CHECK_MESSAGE(found.empty(), "EXISTS returned " << found << " before the log was durable");
  CHECK_MESSAGE((count.empty() || count == ":1\r\n"),
                "DBSIZE returned " << count << " before the log was durable");
  Expect(admin, {"DEBUG", "WAL-FAULT", "OFF"}, "OK");
  if (early.empty()) CHECK(writer->ReadValue(10000) == "+OK\r\n");
  if (got.empty()) got = get->ReadValue(10000);
  if (found.empty()) found = exists->ReadValue(10000);
  CHECK(got == "$3\r\nnew\r\n");
  CHECK(found == ":1\r\n");
  CHECK(WaitFor(5000, [&] { return Info(admin, "aof_last_write_status") == "ok"; }));
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Expect(c, {"MGET", "k", "k2"}, "[new, v2]");
}

// ---------------------------------------------------------------------------------------------
// Disk errors
// ---------------------------------------------------------------------------------------------

void CheckWriteFault(const char* fault, const char* cause) {
  ServerProcess p(kAlwaysNoSave);
  Client c(p.port());
  Expect(c, {"SET", "before", "1"}, "OK");
  Expect(c, {"DEBUG", "WAL-FAULT", fault, "WRITE"}, "OK");
  // The first write after the fault is the one that finds out; its reply may wait for the log.
  Reply trigger;
  std::thread t([&] {
    Client c2(p.port());
    trigger = c2.Run({"SET", "trigger", "x"});
  });
  CHECK(WaitFor(5000, [&] { return Info(c, "aof_last_write_status") == "err"; }));
  for (const Args& cmd :
       {Args{"SET", "during", "y"}, Args{"INCR", "before"}, Args{"DEL", "before"}}) {
    Reply r = c.Run(cmd);
    CHECK_MESSAGE(r.IsErrorPrefix("MISCONF Errors writing to the AOF file:"), r.Dump());
    CHECK_MESSAGE(Contains(r.str, cause), r.Dump());
  }
  Expect(c, {"GET", "before"}, "1");
  Expect(c, {"EXISTS", "before", "during"}, ":1");
  Expect(c, {"DEBUG", "WAL-FAULT", "OFF"}, "OK");
  auto start = std::chrono::steady_clock::now();
  CHECK(WaitFor(5000, [&] { return c.Run({"SET", "after", "z"}) == "OK"; }));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  CHECK_MESSAGE(ms < 3000, "writes accepted again after " << ms << " ms");
  t.join();
  CHECK_MESSAGE((trigger == "OK" || trigger.IsErrorPrefix("MISCONF")), trigger.Dump());
  CHECK(Info(c, "aof_last_write_status") == "ok");
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c2(q->port());
  Expect(c2, {"MGET", "before", "during", "after"}, "[1, (nil), z]");
  if (trigger == "OK") Expect(c2, {"GET", "trigger"}, "x");
}

TEST_CASE("persistence: DEBUG WAL-FAULT ENOSPC refuses writes with MISCONF, reads go on") {
  CheckWriteFault("ENOSPC", "No space left on device");
}

TEST_CASE("persistence: DEBUG WAL-FAULT EIO refuses writes with MISCONF, reads go on") {
  CheckWriteFault("EIO", "Input/output error");
}

TEST_CASE("persistence: a failed fsync is not acknowledged, and is recovered from") {
  ServerProcess p(kAlwaysNoSave);
  Client c(p.port());
  Expect(c, {"SET", "before", "1"}, "OK");
  size_t segments = Segments(p.dir()).size();
  Expect(c, {"DEBUG", "WAL-FAULT", "EIO", "FSYNC"}, "OK");
  Reply held;
  std::thread t([&] {
    Client c2(p.port());
    held = c2.Run({"SET", "held", "x"});
  });
  CHECK(WaitFor(5000, [&] { return Info(c, "aof_last_write_status") == "err"; }));
  Expect(c, {"GET", "before"}, "1");
  Expect(c, {"DEBUG", "WAL-FAULT", "OFF"}, "OK");
  t.join();
  CHECK_MESSAGE((held == "OK" || held.IsErrorPrefix("MISCONF")), held.Dump());
  CHECK(WaitFor(5000, [&] { return c.Run({"SET", "after", "z"}) == "OK"; }));
  // The records whose fsync failed were written again to a new segment.
  CHECK(Segments(p.dir()).size() > segments);
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c2(q->port());
  Expect(c2, {"MGET", "before", "after"}, "[1, z]");
  if (held == "OK") Expect(c2, {"GET", "held"}, "x");
}

// ---------------------------------------------------------------------------------------------
// Damaged logs
// ---------------------------------------------------------------------------------------------

// Writes keys dmg:000.. (one record each) with appendfsync always and kills the server.
void WriteKeysAndKill(ServerProcess& p, int n) {
  Client c(p.port());
  for (int i = 0; i < n; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "dmg:%03d", i);
    Expect(c, {"SET", key, std::string("val:") + key}, "OK");
  }
  p.Stop(SIGKILL);
}

std::string KeyInRecord(const RecordPos& r) {
  size_t pos = r.payload.find("dmg:");
  return pos == std::string::npos ? "" : r.payload.substr(pos, 7);
}

TEST_CASE("persistence: a torn final record is truncated with a warning") {
  ServerProcess p(kAlwaysNoSave);
  WriteKeysAndKill(p, 20);
  fs::path seg = LastNonEmptySegment(p.dir());
  std::string bytes = ReadFile(seg);
  std::vector<RecordPos> records = ParseSegment(bytes);
  REQUIRE(records.size() >= 20);
  bytes.resize(records.back().offset + records.back().size);  // the space allocated ahead
  const RecordPos& last = records.back();
  REQUIRE(KeyInRecord(last) == "dmg:019");
  bool last_survives = true;
  size_t cut_at = bytes.size();  // where the log must end after recovery
  SUBCASE("garbage appended") { bytes += "\x13\x37garbage\xff"; }
  SUBCASE("a header promising more payload than there is") {
    bytes += std::string("\x64\x00\x00\x00\x01\x02\x03\x04", 8) + std::string(9, '\x01') + "abc";
  }
  SUBCASE("cut inside the last record's header") {
    bytes.resize(last.offset + 9);
    last_survives = false;
    cut_at = last.offset;
  }
  SUBCASE("cut inside the last record's payload") {
    bytes.resize(last.offset + last.size - 3);
    last_survives = false;
    cut_at = last.offset;
  }
  WriteFile(seg, bytes);

  {
    auto q = Restart(p, kAlwaysNoSave);
    std::string log = ReadFile(q->log_path());
    CHECK_MESSAGE(Contains(Lower(log), "truncat"), log);
    CHECK_MESSAGE(Contains(log, seg.filename().string()), log);
    CHECK_MESSAGE(Contains(log, "offset " + std::to_string(cut_at)), log);
    CHECK(fs::file_size(seg) == cut_at);
    Client c(q->port());
    Expect(c, {"DBSIZE"}, last_survives ? ":20" : ":19");
    Expect(c, {"GET", "dmg:018"}, "val:dmg:018");
    Expect(c, {"SET", "later", "1"}, "OK");
    q->Stop(SIGKILL);
  }
  // The cut is on disk: the next start-up reads through the old segment without complaint.
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Expect(c, {"DBSIZE"}, last_survives ? ":21" : ":20");
  Expect(c, {"GET", "later"}, "1");
}

// Sets environment variables for the servers started in its scope (they inherit them).
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, std::string>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(name, value.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, old] : saved_) {
      if (old) {
        ::setenv(name, old->c_str(), 1);
      } else {
        ::unsetenv(name);
      }
    }
  }

 private:
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

// A server killed before it fsynced its last records (appendfsync no here) leaves them in the
// page cache. The next one replays them and builds on them, in a new segment; they must reach
// the disk before anything newer does, or a power loss after the restart takes them and leaves
// a gap that stops the start-up after it, with every write acknowledged since. The servers run
// with tools/powerloss_shim.cc, which notes what each fsync covered; `crash-writer powerloss`
// then takes back the rest, as scripts/crash-test.sh POWERLOSS=1 does.
TEST_CASE("persistence: a power loss after a restart keeps what was acknowledged since") {
  const fs::path build = fs::path(ServerBinary()).parent_path();
  const std::string shim = (build / "libpowerloss-shim.so").string();
  const std::string tool = (build / "crash-writer").string();
  REQUIRE(fs::exists(shim));
  REQUIRE(fs::exists(tool));
  const std::string journal =
      fs::temp_directory_path() / ("runnel-synced-" + std::to_string(getpid()));
  fs::remove(journal);
  const Args always = {"--appendfsync", "always", "--save", "", "--checkpoint-interval", "0"};
  std::unique_ptr<ServerProcess> p;
  {
    const char* asan = std::getenv("ASAN_OPTIONS");
    ScopedEnv env({{"LD_PRELOAD", shim},
                   {"POWERLOSS_JOURNAL", journal},
                   {"ASAN_OPTIONS", std::string(asan ? asan : "") + ":verify_asan_link_order=0"}});
    p = std::make_unique<ServerProcess>(
        Args{"--appendfsync", "no", "--save", "", "--checkpoint-interval", "0"});
    {
      Client c(p->port());
      for (int i = 0; i < 100; ++i) Expect(c, {"SET", "old:" + std::to_string(i), "v"}, "OK");
    }
    p->Stop(SIGKILL);
    auto q = Restart(*p, always);
    Client c(q->port());
    Expect(c, {"DBSIZE"}, ":100");
    Expect(c, {"SET", "acked", "after-restart"}, "OK");
    q->Stop(SIGKILL);
  }
  const std::string cmd = tool + " powerloss --dir " + p->dir() + " --journal " + journal +
                          " --torn-tails no >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  fs::remove(journal);
  auto r = Restart(*p, always);
  Client c(r->port());
  Expect(c, {"GET", "acked"}, "after-restart");
}

TEST_CASE("persistence: the space a killed server allocated for its log is given back quietly") {
  ServerProcess p(kAlwaysNoSave);
  WriteKeysAndKill(p, 20);
  fs::path seg = LastNonEmptySegment(p.dir());
  std::vector<RecordPos> records = ParseSegment(ReadFile(seg));
  REQUIRE(!records.empty());
  const size_t end = records.back().offset + records.back().size;
  // Allocated ahead where the file system can (the default 64 MB segment).
  const bool allocated = fs::file_size(seg) > end;
  auto q = Restart(p, kAlwaysNoSave);
  std::string log = ReadFile(q->log_path());
  CHECK_MESSAGE(!Contains(Lower(log), "torn"), log);
  CHECK(fs::file_size(seg) == end);
  Client c(q->port());
  Expect(c, {"DBSIZE"}, ":20");
  Expect(c, {"GET", "dmg:019"}, "val:dmg:019");
  // A clean shutdown leaves no allocated space behind in the segment it was writing.
  Expect(c, {"SET", "later", "1"}, "OK");
  q->Stop(SIGTERM);
  fs::path now = LastNonEmptySegment(p.dir());
  records = ParseSegment(ReadFile(now));
  REQUIRE(!records.empty());
  CHECK(fs::file_size(now) == records.back().offset + records.back().size);
  INFO("allocated ahead: " << allocated);
}

// Runs runnel-check on `dir` if it was built; returns its exit status (-1: not built).
int RunCheck(const std::string& dir) {
  fs::path tool = fs::path(ServerBinary()).parent_path() / "runnel-check";
  if (!fs::exists(tool)) return -1;
  std::string cmd = tool.string() + " " + dir + " >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

// After a start that dropped damage: new writes are logged, and the next start needs no option.
void CheckStartsAgain(const ServerProcess& first, ServerProcess* allowed, const Args& args) {
  long long keys;
  {
    Client c(allowed->port());
    Expect(c, {"SET", "after-truncation", "1"}, "OK");
    keys = c.Run({"DBSIZE"}).integer;
  }
  allowed->Stop(SIGKILL);
  auto q = Restart(first, args);
  Client c(q->port());
  Expect(c, {"DBSIZE"}, ":" + std::to_string(keys));
  Expect(c, {"GET", "after-truncation"}, "1");
}

TEST_CASE("persistence: a corrupt log record stops start-up unless truncation is allowed") {
  ServerProcess p(kAlwaysNoSave);
  WriteKeysAndKill(p, 20);
  CHECK(RunCheck(p.dir()) != 1);
  fs::path seg = LastNonEmptySegment(p.dir());
  std::string bytes = ReadFile(seg);
  std::vector<RecordPos> records = ParseSegment(bytes);
  REQUIRE(records.size() >= 20);
  size_t damaged = 0;
  while (damaged < records.size() && KeyInRecord(records[damaged]) != "dmg:005") ++damaged;
  REQUIRE(damaged < records.size());
  SUBCASE("a flipped payload byte") {
    bytes[records[damaged].offset + 17 + records[damaged].payload.size() / 2] ^= 0x20;
  }
  SUBCASE("a flipped checksum bit") { bytes[records[damaged].offset + 5] ^= 0x01; }
  SUBCASE("a length one byte short") { bytes[records[damaged].offset] -= 1; }
  WriteFile(seg, bytes);
  CHECK(RunCheck(p.dir()) != 0);

  std::string log = p.dir() + "/failed-start.log";
  int status = RunUntilExit(p.dir(), log, kAlwaysNoSave);
  CHECK_MESSAGE(ExitedWith(status, 1), "exit status " << status);
  std::string text = ReadFile(log);
  CHECK_MESSAGE(Contains(text, seg.filename().string()), text);
  CHECK_MESSAGE(Contains(text, "offset " + std::to_string(records[damaged].offset)), text);
  CHECK(ReadFile(seg) == bytes);  // nothing was cut without permission

  Args allow = kAlwaysNoSave;
  allow.insert(allow.end(), {"--wal-allow-truncate", "yes"});
  auto q = Restart(p, allow);
  Client c(q->port());
  for (size_t i = 0; i < records.size(); ++i) {
    std::string key = KeyInRecord(records[i]);
    if (key.empty()) continue;
    Expect(c, {"EXISTS", key}, i < damaged ? ":1" : ":0");
  }
  Expect(c, {"DBSIZE"}, ":5");
  CheckStartsAgain(p, q.get(), kAlwaysNoSave);
}

TEST_CASE("persistence: a missing segment stops start-up unless truncation is allowed") {
  Args args = {"--appendfsync", "always", "--save", "", "--wal-segment-size", "1mb"};
  ServerProcess p(args);
  {
    Client c(p.port());
    std::string value(100000, 'v');
    for (int i = 0; i < 40; ++i) Expect(c, {"SET", "k" + std::to_string(i), value}, "OK");
  }
  p.Stop(SIGKILL);
  std::vector<fs::path> segs = Segments(p.dir());
  REQUIRE(segs.size() >= 3);
  fs::remove(segs[1]);
  std::string log = p.dir() + "/failed-start.log";
  int status = RunUntilExit(p.dir(), log, args);
  CHECK_MESSAGE(ExitedWith(status, 1), "exit status " << status);
  CHECK_MESSAGE(Contains(ReadFile(log), "wal/"), ReadFile(log));

  Args allow = args;
  allow.insert(allow.end(), {"--wal-allow-truncate", "yes"});
  auto q = Restart(p, allow);
  Client c(q->port());
  Expect(c, {"EXISTS", "k0"}, ":1");
  CHECK(c.Run({"DBSIZE"}).integer < 40);
  CheckStartsAgain(p, q.get(), args);
}

TEST_CASE("persistence: a damaged checkpoint stops start-up") {
  ServerProcess p(kAlwaysNoSave);
  {
    Client c(p.port());
    for (int i = 0; i < 50; ++i) Expect(c, {"SET", "k" + std::to_string(i), "v"}, "OK");
    Expect(c, {"SAVE"}, "OK");
  }
  p.Stop(SIGKILL);
  fs::path largest;
  for (const auto& e : fs::directory_iterator(fs::path(p.dir()) / "checkpoint"))
    if (largest.empty() || fs::file_size(e.path()) > fs::file_size(largest)) largest = e.path();
  REQUIRE(!largest.empty());
  std::string bytes = ReadFile(largest), name = largest.filename().string();
  SUBCASE("a flipped byte in a shard file") {
    bytes[bytes.size() / 2] ^= 0x10;
    WriteFile(largest, bytes);
  }
  SUBCASE("a shard file cut short") { WriteFile(largest, bytes.substr(0, bytes.size() - 5)); }
  SUBCASE("a missing shard file") { fs::remove(largest); }
  SUBCASE("a damaged MANIFEST") {
    std::string manifest = ReadFile(p.dir() + "/MANIFEST");
    WriteFile(p.dir() + "/MANIFEST", manifest.substr(0, manifest.size() / 2));
    name = "MANIFEST";
  }
  CHECK(RunCheck(p.dir()) != 0);
  std::string log = p.dir() + "/failed-start.log";
  int status = RunUntilExit(p.dir(), log, kAlwaysNoSave);
  CHECK_MESSAGE(ExitedWith(status, 1), "exit status " << status);
  CHECK_MESSAGE(Contains(ReadFile(log), name), ReadFile(log));
}

TEST_CASE("persistence: data in a database beyond --databases stops start-up") {
  ServerProcess p(kAlwaysNoSave);
  bool save = false;
  SUBCASE("in the log") {}
  SUBCASE("in a checkpoint") { save = true; }
  {
    Client c(p.port());
    Expect(c, {"SET", "k0", "v"}, "OK");
    Expect(c, {"SELECT", "5"}, "OK");
    Expect(c, {"SET", "k5", "v"}, "OK");
    if (save) Expect(c, {"SAVE"}, "OK");
  }
  p.Stop(SIGKILL);
  // As Redis does with an RDB file from a server with more databases: refuse, never drop.
  std::string log = p.dir() + "/failed-start.log";
  Args args = kAlwaysNoSave;
  args.insert(args.end(), {"--databases", "2"});
  int status = RunUntilExit(p.dir(), log, args);
  CHECK_MESSAGE(ExitedWith(status, 1), "exit status " << status << "; log:\n" << ReadFile(log));
  CHECK_MESSAGE(Contains(ReadFile(log), "database"), ReadFile(log));
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Expect(c, {"SELECT", "5"}, "OK");
  Expect(c, {"GET", "k5"}, "v");
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

TEST_CASE("persistence: while loading, clients get -LOADING or the complete data, never part") {
  ServerProcess p({"--appendfsync", "no", "--save", ""});
  constexpr int kKeys = 200000, kPerMset = 100;
  {
    Client c(p.port());
    for (int i = 0; i < kKeys; i += kPerMset) {
      Args mset = {"MSET"};
      for (int j = i; j < i + kPerMset; ++j) {
        mset.push_back("key:" + std::to_string(j));
        mset.push_back(std::to_string(j));
      }
      c.Send(mset);
    }
    for (int i = 0; i < kKeys; i += kPerMset) c.Read();
    CHECK(c.Run({"SHUTDOWN", "NOSAVE"}).IsError());
  }
  p.Stop(0);
  Args args = {"--dir", p.dir(), "--save", ""};
  ServerProcess q(args, /*wait_until_loaded=*/false);
  Client c(q.port(), false);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    Reply r = c.Run({"DBSIZE"});
    if (r.IsError("LOADING Redis is loading the dataset in memory")) continue;
    CHECK_MESSAGE(r.IsInt(kKeys), r.Dump());
    break;
  }
  Expect(c, {"GET", "key:" + std::to_string(kKeys - 1)}, std::to_string(kKeys - 1));
  CHECK(Info(c, "loading") == "0");
}

// Recovery opens the log as appendonly says once the data is in, so the switch waits for that;
// DEBUG RELOAD too.
TEST_CASE("persistence: CONFIG SET appendonly and DEBUG RELOAD are refused while loading") {
  ServerProcess p({"--appendonly", "no", "--save", ""});
  {
    Client c(p.port());
    FillKeys(c, 200000);
    Expect(c, {"SAVE"}, "OK");
  }
  p.Stop(SIGKILL);
  const Args args = {"--dir", p.dir(), "--appendonly", "no", "--save", ""};
  auto q = std::make_unique<ServerProcess>(args, /*wait_until_loaded=*/false);
  Client c(q->port(), false);
  int refused = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    Reply r = c.Run({"CONFIG", "SET", "appendonly", "yes"});
    if (r.IsError("ERR CONFIG SET failed (possibly related to argument 'appendonly') - the "
                  "dataset is still loading")) {
      ++refused;
      CHECK(Info(c, "aof_enabled") == "0");
      // DEBUG RELOAD would checkpoint half-loaded shards (OK only if the load just ended).
      Reply reload = c.Run({"DEBUG", "RELOAD"});
      if (reload == "OK") {
        CHECK(Info(c, "loading") == "0");
      } else {
        CHECK_MESSAGE(reload.IsError("ERR Error trying to save and reload the DB: the dataset is "
                                     "still loading"),
                      reload.Dump());
      }
      continue;
    }
    CHECK_MESSAGE(r == "OK", r.Dump());
    break;
  }
  MESSAGE("refused while loading: " << refused);
  CHECK(Info(c, "loading") == "0");
  CHECK(Info(c, "aof_enabled") == "1");
  Expect(c, {"SET", "after", "1"}, "OK");
  q->Stop(SIGKILL);
  auto r = Restart(*q, kAlwaysNoSave);
  Client d(r->port());
  Expect(d, {"DBSIZE"}, ":200001");
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

// True if stream ID a < b ("ms-seq").
bool IdLess(const std::string& a, const std::string& b) {
  auto parse = [](const std::string& id) {
    size_t dash = id.find('-');
    return std::pair(std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1)));
  };
  return parse(a) < parse(b);
}

// Streams with * and explicit IDs, deletions, consumer groups with pending entries and acks.
// Returns the IDs XADD * gave.
std::vector<std::string> WriteStreams(Client& c) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    Reply r = c.Run({"XADD", "s", "*", "f", std::to_string(i), "g", "x"});
    REQUIRE_MESSAGE(r.type == Reply::Type::kString, r.Dump());
    ids.push_back(r.str);
  }
  Expect(c, {"XADD", "s2", "1-1", "a", "1"}, "1-1");
  Expect(c, {"XADD", "s2", "1-2", "b", "2"}, "1-2");
  Expect(c, {"XADD", "s2", "5-*", "c", "3"}, "5-0");
  Expect(c, {"XADD", "s2", "MAXLEN", "2", "7-0", "d", "4"}, "7-0");
  Expect(c, {"XGROUP", "CREATE", "s", "g1", "0"}, "OK");
  Expect(c, {"XGROUP", "CREATE", "s", "g2", "$"}, "OK");
  Expect(c, {"XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"}, "OK");
  Expect(c, {"XGROUP", "CREATECONSUMER", "s", "g2", "idle-consumer"}, ":1");
  CHECK(c.Run({"XREADGROUP", "GROUP", "g1", "c1", "COUNT", "4", "STREAMS", "s", ">"}).size() == 1);
  CHECK(c.Run({"XREADGROUP", "GROUP", "g1", "c2", "COUNT", "2", "STREAMS", "s", ">"}).size() == 1);
  Expect(c, {"XACK", "s", "g1", ids[0], ids[1], ids[5]}, ":3");
  Expect(c, {"XDEL", "s", ids[9]}, ":1");
  Expect(c, {"XADD", "top", "10-1", "x", "y"}, "10-1");
  Expect(c, {"XDEL", "top", "10-1"}, ":1");
  return ids;
}

// After a restart: the same streams, the same last IDs, and the groups carry on where they were.
void CheckStreamsAfterRestart(Client& c, const Dataset& before,
                              const std::vector<std::string>& ids) {
  CHECK(Diff(before, DumpAll(c)) == "");
  Reply r = c.Run({"XADD", "top", "5-1", "x", "y"});
  CHECK_MESSAGE(r.IsErrorPrefix("ERR The ID specified in XADD is equal or smaller"), r.Dump());
  r = c.Run({"XADD", "s", ids[9], "f", "again"});
  CHECK_MESSAGE(r.IsErrorPrefix("ERR The ID specified in XADD is equal or smaller"), r.Dump());
  r = c.Run({"XADD", "s", "*", "f", "new"});
  CHECK(r.type == Reply::Type::kString);
  CHECK(IdLess(ids[9], r.str));
  // g1 delivered 6 entries; 3 remain (the 10th was deleted) plus the new one.
  r = c.Run({"XREADGROUP", "GROUP", "g1", "c1", "STREAMS", "s", ">"});
  REQUIRE(r.size() == 1);
  CHECK(r[0][1].size() == 4);
  Expect(c, {"XPENDING", "s", "g1"},
         "[:7, " + ids[2] + ", " + r[0][1][3][0].str + ", [[c1, 6], [c2, 1]]]");
}

TEST_CASE("persistence-streams: entries, IDs and consumer groups survive SIGKILL") {
  ServerProcess p(kAlwaysNoSave);
  Dataset before;
  std::vector<std::string> ids;
  {
    Client c(p.port());
    ids = WriteStreams(c);
    before = DumpAll(c);
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  CheckStreamsAfterRestart(c, before, ids);
}

TEST_CASE("persistence-streams: streams survive a checkpoint and DEBUG RELOAD") {
  ServerProcess p(kAlwaysNoSave);
  Dataset before;
  std::vector<std::string> ids;
  {
    Client c(p.port());
    ids = WriteStreams(c);
    before = DumpAll(c);
    Expect(c, {"DEBUG", "RELOAD"}, "OK");
    CHECK(Diff(before, DumpAll(c)) == "");
    Expect(c, {"SAVE"}, "OK");
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  CHECK(InfoInt(c, "checkpoint_lsn") > 0);
  CheckStreamsAfterRestart(c, before, ids);
}

TEST_CASE("persistence-streams: a reader blocked in XREAD gets the entry only once it is durable") {
  ServerProcess p(kAlwaysNoSave);
  Client admin(p.port());
  Expect(admin, {"XADD", "s", "1-1", "f", "v"}, "1-1");
  auto reader = SendRaw(p.port(), {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"});
  SleepMs(200);
  Expect(admin, {"DEBUG", "WAL-FAULT", "EIO", "FSYNC"}, "OK");
  auto writer = SendRaw(p.port(), {"XADD", "s", "2-1", "f", "new"});
  std::string early = reader->ReadValue(1000);
  CHECK_MESSAGE(early.empty(), "XREAD returned " << early << " before the log was durable");
  Expect(admin, {"DEBUG", "WAL-FAULT", "OFF"}, "OK");
  CHECK(writer->ReadValue(10000) == "$3\r\n2-1\r\n");
  if (early.empty()) early = reader->ReadValue(10000);
  CHECK(Contains(early, "2-1"));
}

// A big stream is cloned under its shard's lock and serialized after it, sharing its chunks with
// the stream, which goes on changing meanwhile: appends to the last chunk, deletions (flipped
// bits, then compaction) and trims (dropped chunks). Under ASan a chunk changed or freed under
// the checkpoint's feet is an error; without it, the restored stream would differ.
TEST_CASE("persistence-streams: checkpoints of a big stream while it changes restore it exactly") {
  ServerProcess p(kAlwaysNoSave);
  const std::string value(40, 'v');
  auto id = [](int n) { return std::to_string(n) + "-1"; };
  {
    Client c(p.port());
    for (int n = 1; n <= 60000; ++n) c.Send({"XADD", "big", id(n), "f", value});
    for (int n = 1; n <= 60000; ++n) REQUIRE(c.Read().str == id(n));
  }
  std::atomic<bool> stop{false};
  std::string writer_error;  // the writer's first unexpected reply
  std::thread writer([&] {
    Client c(p.port());
    int next = 60001, deleted = 1;
    for (int round = 0; !stop && writer_error.empty(); ++round) {
      const int first = next;
      for (int k = 0; k < 100; ++k) c.Send({"XADD", "big", id(next++), "f", value});
      // Two of every three, so that chunks get mostly deleted and compacted.
      for (int k = 0; k < 60; ++k) c.Send({"XDEL", "big", id(deleted += k % 2 == 0 ? 2 : 1)});
      c.Send({"XTRIM", "big", "MINID", id(round * 40)});
      for (int k = 0; k < 161; ++k) {
        Reply r = c.Read();
        bool ok = k < 100 ? r == id(first + k) : r.type == Reply::Type::kInteger;
        if (!ok && writer_error.empty()) writer_error = r.Dump();
      }
    }
  });
  Client c(p.port());
  int started = 0;
  for (int round = 0; round < 10; ++round) {
    if (c.Run({"BGSAVE"}) == "Background saving started") ++started;
    SleepMs(100);
  }
  stop = true;
  writer.join();
  REQUIRE(writer_error == "");
  CHECK(started > 0);
  CHECK(WaitFor(10000, [&] { return InfoInt(c, "rdb_bgsave_in_progress") == 0; }));
  const std::string entries = c.Run({"XRANGE", "big", "-", "+"}).Dump();
  const std::string digest = c.Run({"DEBUG", "DIGEST"}).str;
  p.Stop(SIGKILL);  // the restart loads the last of those checkpoints and replays the rest
  auto q = Restart(p, kAlwaysNoSave);
  Client d(q->port());
  CHECK(d.Run({"DEBUG", "DIGEST"}).str == digest);
  CHECK(d.Run({"XRANGE", "big", "-", "+"}).Dump() == entries);
}

TEST_CASE("persistence-streams: XADD * IDs from concurrent clients replay exactly") {
  ServerProcess p(kAlwaysNoSave);
  std::vector<std::vector<std::string>> ids(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client c(p.port());
      for (int i = 0; i < 200; ++i) c.Send({"XADD", "shared", "*", "t", std::to_string(t)});
      for (int i = 0; i < 200; ++i) ids[t].push_back(c.Read().str);
    });
  }
  for (auto& t : threads) t.join();
  std::string entries;
  {
    Client c(p.port());
    entries = c.Run({"XRANGE", "shared", "-", "+"}).Dump();
  }
  p.Stop(SIGKILL);
  auto q = Restart(p, kAlwaysNoSave);
  Client c(q->port());
  Expect(c, {"XLEN", "shared"}, ":1600");
  CHECK(c.Run({"XRANGE", "shared", "-", "+"}).Dump() == entries);
  for (int t = 0; t < 8; ++t)
    Expect(c, {"XRANGE", "shared", ids[t][199], ids[t][199]},
           "[[" + ids[t][199] + ", [t, " + std::to_string(t) + "]]]");
}

}  // namespace
}  // namespace runnel::test
