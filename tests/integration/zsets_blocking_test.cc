// Integration tests of the blocking sorted-set pops (BZPOPMIN, BZPOPMAX, BZMPOP) and of sorted
// sets on disk: pops woken by writes from other connections spread over the event-loop
// threads, FIFO service among blocked clients, timeouts in RESP2 and RESP3, MULTI; then the
// write-ahead log (kill -9 with appendfsync always, cross-shard stores logged per shard) and
// checkpoints (SAVE, restart, DEBUG RELOAD) for both encodings. Named "zsets-blocking: ..."
// and "zsets-persistence: ...".
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/keyspace.h"
#include "fixture.h"

namespace runnel::test {
// ---------------------------------------------------------------------------------------------
// Blocking pops
// ---------------------------------------------------------------------------------------------

TEST_CASE("zsets-blocking: BZPOPMIN clients on every thread are woken by ZADD, in FIFO order") {
  Client w;
  std::vector<std::unique_ptr<Client>> readers;
  for (int i = 0; i < 5; ++i) {  // several connections, so several event-loop threads
    readers.push_back(Connect());
    SendNow(*readers.back(), {"BZPOPMIN", "nothing", "z", "5"});
    REQUIRE(WaitBlocked(w, i + 1));  // so the order they blocked in is known
  }
  auto start = Clock::now();
  CHECK(w.Run({"ZADD", "z", "5", "e", "1", "a", "3", "c", "2", "b", "4", "d", "6", "f"}).IsInt(6));
  const char* expect[] = {"[z, a, 1]", "[z, b, 2]", "[z, c, 3]", "[z, d, 4]", "[z, e, 5]"};
  for (int i = 0; i < 5; ++i) CHECK(readers[i]->Read().Dump() == expect[i]);
  CHECK(MsSince(start) < 4000);
  CHECK(WaitBlocked(w, 0));
  CHECK(w.Run({"ZRANGE", "z", "0", "-1"}).Dump() == "[f]");
}

TEST_CASE("zsets-blocking: one element serves one waiter; the others keep waiting in order") {
  Client w;
  std::vector<std::unique_ptr<Client>> readers;
  for (int i = 0; i < 2; ++i) {
    readers.push_back(Connect());
    SendNow(*readers.back(), {"BZPOPMAX", "z", "0"});
    REQUIRE(WaitBlocked(w, i + 1));
  }
  CHECK(w.Run({"ZINCRBY", "z", "7", "first"}) == "7");
  CHECK(readers[0]->Read().Dump() == "[z, first, 7]");
  CHECK(WaitBlocked(w, 1));
  CHECK(w.Run({"EXISTS", "z"}).IsInt(0));  // popped by the waiter: deleted
  CHECK(w.Run({"ZADD", "z", "1", "low", "9", "high"}).IsInt(2));
  CHECK(readers[1]->Read().Dump() == "[z, high, 9]");
  CHECK(w.Run({"ZRANGE", "z", "0", "-1"}).Dump() == "[low]");
}

TEST_CASE("zsets-blocking: BZMPOP with COUNT, and pops serving the first non-empty key at once") {
  Client w;
  CHECK(w.Run({"ZADD", "b", "1", "x"}).IsInt(1));
  CHECK(w.Run({"BZPOPMIN", "a", "b", "0"}).Dump() == "[b, x, 1]");
  CHECK(w.Run({"ZADD", "b", "1", "x", "2", "y"}).IsInt(2));
  CHECK(w.Run({"BZMPOP", "0", "2", "a", "b", "MAX", "COUNT", "5"}).Dump() ==
        "[b, [[y, 2], [x, 1]]]");
  auto r = Connect();
  SendNow(*r, {"BZMPOP", "0", "2", "a", "b", "MIN", "COUNT", "2"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"ZADD", "b", "3", "z", "1", "x", "2", "y"}).IsInt(3));
  CHECK(r->Read().Dump() == "[b, [[x, 1], [y, 2]]]");
  CHECK(w.Run({"ZRANGE", "b", "0", "-1"}).Dump() == "[z]");
  // A ZUNIONSTORE into a watched key wakes its waiter too.
  auto s = Connect();
  SendNow(*s, {"BZPOPMIN", "stored", "0"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"ZUNIONSTORE", "stored", "1", "b"}).IsInt(1));
  CHECK(s->Read().Dump() == "[stored, z, 3]");
}

TEST_CASE("zsets-blocking: timeouts reply a null array in RESP2 and a null in RESP3") {
  Client w;
  auto start = Clock::now();
  CHECK(w.Run({"BZPOPMIN", "z", "0.1"}).Dump() == "(nil)");
  CHECK(w.Run({"BZMPOP", "0.1", "1", "z", "MIN"}).Dump() == "(nil)");
  const int64_t waited = MsSince(start);
  CHECK(waited >= 190);
  CHECK(waited < 3000);
  RawClient raw;
  CHECK(raw.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(raw.Command({"BZPOPMAX", "z", "0.05"}) == "*-1\r\n");
  RawClient raw3;
  CHECK(raw3.Command({"HELLO", "3"}).starts_with("%"));
  CHECK(raw3.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(raw3.Command({"BZPOPMAX", "z", "0.05"}) == "_\r\n");
  CHECK(raw3.Command({"ZADD", "z", "1.5", "m"}) == ":1\r\n");
  CHECK(raw3.Command({"BZPOPMAX", "z", "0"}) == "*3\r\n$1\r\nz\r\n$1\r\nm\r\n,1.5\r\n");
}

TEST_CASE("zsets-blocking: argument errors") {
  Client c;
  CHECK(c.Run({"BZPOPMIN", "z", "-1"}).IsError("ERR timeout is negative"));
  CHECK(c.Run({"BZPOPMIN", "z", "x"}).IsError("ERR timeout is not a float or out of range"));
  CHECK(c.Run({"BZMPOP", "-1", "1", "z", "MIN"}).IsError("ERR timeout is negative"));
  CHECK(c.Run({"BZMPOP", "x", "1", "z", "MIN"})
            .IsError("ERR timeout is not a float or out of range"));
  CHECK(c.Run({"BZMPOP", "x", "0", "z", "MIN"}).IsError("ERR numkeys should be greater than 0"));
  CHECK(c.Run({"BZMPOP", "0", "1", "z"})
            .IsError("ERR wrong number of arguments for 'bzmpop' command"));
  CHECK(c.Run({"BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"})
            .IsError("ERR count should be greater than 0"));
  CHECK(c.Run({"BZPOPMIN", "z"}).IsError("ERR wrong number of arguments for 'bzpopmin' command"));
}

TEST_CASE("zsets-blocking: a key that becomes another type keeps waiters waiting") {
  Client w;
  auto r = Connect();
  SendNow(*r, {"BZPOPMIN", "k", "5"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"SET", "k", "str"}) == "OK");
  SleepMs(100);
  CHECK(BlockedClients(w) == 1);
  CHECK(w.Run({"DEL", "k"}).IsInt(1));
  CHECK(w.Run({"ZADD", "k", "1", "m"}).IsInt(1));
  CHECK(r->Read().Dump() == "[k, m, 1]");
}

TEST_CASE("zsets-blocking: inside MULTI nothing blocks; a ZADD in MULTI wakes after EXEC") {
  Client c;
  auto start = Clock::now();
  CHECK(c.Run({"MULTI"}) == "OK");
  CHECK(c.Run({"BZPOPMIN", "z", "0"}) == "QUEUED");
  CHECK(c.Run({"BZMPOP", "0", "1", "z", "MIN"}) == "QUEUED");
  CHECK(c.Run({"ZADD", "z", "1", "a"}) == "QUEUED");
  CHECK(c.Run({"BZPOPMAX", "z", "0"}) == "QUEUED");
  CHECK(c.Run({"EXEC"}).Dump() == "[(nil), (nil), :1, [z, a, 1]]");
  CHECK(MsSince(start) < 2000);
  auto r = Connect();
  SendNow(*r, {"BZPOPMIN", "q", "5"});
  REQUIRE(WaitBlocked(c, 1));
  CHECK(c.Run({"MULTI"}) == "OK");
  CHECK(c.Run({"ZADD", "q", "2", "b"}) == "QUEUED");
  CHECK(c.Run({"ZADD", "q", "1", "a"}) == "QUEUED");
  CHECK(c.Run({"EXEC"}).Dump() == "[:1, :1]");
  CHECK(r->Read().Dump() == "[q, a, 1]");
  CHECK(c.Run({"ZRANGE", "q", "0", "-1"}).Dump() == "[b]");
}

TEST_CASE("zsets-blocking: CLIENT UNBLOCK, and a disconnected waiter takes nothing") {
  Client w;
  auto r = Connect();
  long long id = r->Run({"CLIENT", "ID"}).integer;
  SendNow(*r, {"BZPOPMIN", "z", "0"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"CLIENT", "UNBLOCK", std::to_string(id)}).IsInt(1));
  CHECK(r->Read().Dump() == "(nil)");
  {
    auto gone = Connect();
    SendNow(*gone, {"BZPOPMIN", "z", "0"});
    REQUIRE(WaitBlocked(w, 1));
  }
  CHECK(WaitBlocked(w, 0));
  CHECK(w.Run({"ZADD", "z", "1", "a"}).IsInt(1));
  CHECK(w.Run({"ZCARD", "z"}).IsInt(1));
}

// ---------------------------------------------------------------------------------------------
// Persistence
// ---------------------------------------------------------------------------------------------

namespace {

// Every key's type, encoding and elements with scores, as one comparable text.
std::string Snapshot(Client& c) {
  std::ostringstream out;
  Reply keys = c.Run({"KEYS", "*"});
  std::vector<std::string> names;
  for (const Reply& k : keys.elements) names.push_back(k.str);
  std::sort(names.begin(), names.end());
  for (const std::string& k : names) {
    out << k << " " << c.Run({"TYPE", k}).Dump() << " ";
    if (c.Run({"TYPE", k}) == "zset") {
      out << c.Run({"OBJECT", "ENCODING", k}).Dump() << " "
          << c.Run({"ZRANGE", k, "0", "-1", "WITHSCORES"}).Dump();
    }
    out << "\n";
  }
  return out.str();
}

void FillRange(Client& c, const std::string& key, int n, const std::string& prefix) {
  std::vector<std::string> args{"ZADD", key};
  for (int i = 0; i < n; ++i) {
    args.push_back(std::to_string(i) + ".25");
    args.push_back(prefix + std::to_string(i));
  }
  REQUIRE(c.Run(args).IsInt(n));
}

// Writes of every kind, with keys in several shards; the commands whose effect differs from
// their arguments (INCR, pops, stores across shards) included.
void WriteZSets(Client& c, const std::string& tag) {
  FillRange(c, "a" + tag, 300, "m");  // a skiplist
  c.Run({"ZADD", "b" + tag, "1", "p", "2", "q", "0.1", "r", "-inf", "lo"});
  c.Run({"ZADD", "b" + tag, "INCR", "0.2", "r"});
  c.Run({"ZINCRBY", "b" + tag, "1e300", "q"});
  c.Run({"ZADD", "b" + tag, "GT", "CH", "5", "p", "0", "q"});
  c.Run({"ZREM", "a" + tag, "m5", "m6"});
  c.Run({"ZPOPMIN", "a" + tag});
  c.Run({"ZPOPMAX", "a" + tag, "10"});
  c.Run({"ZMPOP", "2", "missing", "a" + tag, "MIN", "COUNT", "3"});
  c.Run({"ZREMRANGEBYSCORE", "a" + tag, "(100", "110.25"});
  c.Run({"ZREMRANGEBYRANK", "a" + tag, "-5", "-3"});
  c.Run({"ZADD", "lex" + tag, "0", "a", "0", "b", "0", "c", "0", "d"});
  c.Run({"ZREMRANGEBYLEX", "lex" + tag, "(a", "[b"});
  c.Run({"ZUNIONSTORE", "union" + tag, "2", "a" + tag, "b" + tag, "WEIGHTS", "2", "0.5"});
  c.Run({"ZINTERSTORE", "inter" + tag, "2", "a" + tag, "union" + tag, "AGGREGATE", "MAX"});
  c.Run({"ZDIFFSTORE", "diff" + tag, "2", "b" + tag, "a" + tag});
  c.Run(
      {"ZRANGESTORE", "range" + tag, "a" + tag, "60", "(50", "BYSCORE", "REV", "LIMIT", "1", "4"});
  c.Run({"SET", "gone" + tag, "x"});
  c.Run({"ZINTERSTORE", "gone" + tag, "2", "b" + tag, "missing"});  // deletes it
  c.Run({"ZADD", "popped" + tag, "1", "x", "2", "y"});
  c.Run({"ZPOPMIN", "popped" + tag, "5"});  // the whole set
  c.Run({"ZADD", "{t}x" + tag, "1", "one", "2", "two"});
  c.Run({"ZRANGESTORE", "{t}y" + tag, "{t}x" + tag, "0", "0"});  // one shard: logs itself
  c.Run({"ZADD", "ttl" + tag, "1", "a"});
  c.Run({"EXPIRE", "ttl" + tag, "1000"});
}

bool LogMentions(const std::string& path, std::string_view text) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("zsets-persistence: every write survives kill -9, a checkpoint and DEBUG RELOAD") {
  REQUIRE(engine::Keyspace::ShardOf("a1") != engine::Keyspace::ShardOf("union1"));
  ServerProcess p({"--appendfsync", "always"});
  std::string before;
  {
    Client c(p.port(), false);
    WriteZSets(c, "1");
    before = Snapshot(c);
    CHECK(before.find("a1 zset skiplist") != std::string::npos);
    CHECK(before.find("b1 zset listpack [lo, -inf, r, 0.30000000000000004, p, 5, q, 1e+300]") !=
          std::string::npos);
    CHECK(before.find("union1 zset skiplist") != std::string::npos);
    CHECK(before.find("range1 zset listpack [m55, 55.25, m56, 56.25, m57, 57.25, m58, 58.25]") !=
          std::string::npos);
    CHECK(before.find("gone1") == std::string::npos);
    CHECK(before.find("popped1") == std::string::npos);
    CHECK(before.find("{t}y1 zset listpack [one, 1]") != std::string::npos);
  }
  p.Stop(9);
  // Cross-shard commands must have logged per-shard effects.
  CHECK_FALSE(LogMentions(p.log_path(), "without per-shard effects"));
  ServerProcess q({"--dir", p.dir()});
  {
    Client c(q.port(), false);
    CHECK(Snapshot(c) == before);
    CHECK(c.Run({"TTL", "ttl1"}).integer > 900);
    CHECK(c.Run({"SAVE"}) == "OK");
    WriteZSets(c, "2");  // on top of the checkpoint, in the log only
    before = Snapshot(c);
  }
  q.Stop(9);
  CHECK_FALSE(LogMentions(q.log_path(), "without per-shard effects"));
  ServerProcess r({"--dir", p.dir()});
  Client c(r.port(), false);
  CHECK(Snapshot(c) == before);
  CHECK(c.Run({"DEBUG", "RELOAD"}) == "OK");  // both encodings through a checkpoint and back
  CHECK(Snapshot(c) == before);
  // A clean restart loads the checkpoint SHUTDOWN writes.
  CHECK(c.Run({"SHUTDOWN", "SAVE"}).IsError());  // the connection just closes
  r.Stop(0);
  ServerProcess s({"--dir", p.dir()});
  Client d(s.port(), false);
  CHECK(Snapshot(d) == before);
}

TEST_CASE("zsets-persistence: served blocking pops replay as the ZREM they did") {
  ServerProcess p({"--appendfsync", "always"});
  {
    auto writer = Connect(p.port());
    auto popper = Connect(p.port());
    auto mpopper = Connect(p.port());
    SendNow(*popper, {"BZPOPMAX", "q", "0"});
    SendNow(*mpopper, {"BZMPOP", "0", "2", "none", "m", "MIN", "COUNT", "2"});
    REQUIRE(WaitBlocked(*writer, 2));
    CHECK(writer->Run({"ZADD", "q", "1", "a", "2", "b"}).IsInt(2));
    CHECK(writer->Run({"ZADD", "m", "1", "x", "2", "y", "3", "z"}).IsInt(3));
    CHECK(popper->Read().Dump() == "[q, b, 2]");
    CHECK(mpopper->Read().Dump() == "[m, [[x, 1], [y, 2]]]");
  }
  p.Stop(9);
  ServerProcess q({"--dir", p.dir()});
  auto reader = Connect(q.port());
  CHECK(reader->Run({"ZRANGE", "q", "0", "-1", "WITHSCORES"}).Dump() == "[a, 1]");
  CHECK(reader->Run({"ZRANGE", "m", "0", "-1", "WITHSCORES"}).Dump() == "[z, 3]");
}

}  // namespace runnel::test
