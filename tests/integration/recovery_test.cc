// Integration tests of parallel recovery: a log replayed on several threads (--threads N) must
// give exactly the data one thread gives, and the data the server had before it was killed.
// The log mixes what makes parallel replay hard: records of many shards, transactions and
// multi-key commands across shards (barriers for the shards they touch), FLUSHALL and FLUSHDB
// in the middle (barriers for all), SELECTed databases, expiries, streams with consumer groups,
// and a checkpoint taken while writes go on (shards with different checkpoint LSNs).
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

namespace runnel::test {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

// Every write is durable when acknowledged; no checkpoint unless a test takes one.
const Args kNoSave = {"--appendfsync", "always", "--save", "", "--checkpoint-interval", "0"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Sends every command pipelined and checks that none failed.
void Pipeline(Client& c, const std::vector<Args>& cmds) {
  for (const Args& cmd : cmds) c.Send(cmd);
  for (const Args& cmd : cmds) {
    Reply r = c.Read();
    REQUIRE_MESSAGE(!r.IsError(), cmd[0] << " " << (cmd.size() > 1 ? cmd[1] : "") << " -> "
                                          << r.str);
  }
}

std::string Sorted(Reply r) {
  std::vector<std::string> items;
  for (const Reply& e : r.elements) items.push_back(e.Dump());
  std::sort(items.begin(), items.end());
  std::string out;
  for (const std::string& s : items) out += s + ",";
  return out;
}

// Every key of every database: type, absolute expiry and the whole value (a stream with its
// groups, consumers and pending entries, whose times are absolute).
std::map<std::string, std::string> DumpAll(Client& c) {
  std::map<std::string, std::string> out;
  for (int db = 0; db < 16; ++db) {
    REQUIRE(c.Run({"SELECT", std::to_string(db)}) == "OK");
    std::string cursor = "0";
    do {
      Reply r = c.Run({"SCAN", cursor, "COUNT", "1000"});
      REQUIRE_MESSAGE(r.size() == 2, r.Dump());
      cursor = r[0].str;
      for (const Reply& k : r[1].elements) {
        std::string type = c.Run({"TYPE", k.str}).str;
        std::string v = type + " expire_at=" + c.Run({"PEXPIRETIME", k.str}).Dump() + " ";
        if (type == "string") v += c.Run({"GET", k.str}).str;
        if (type == "hash") v += Sorted(c.Run({"HGETALL", k.str}));
        if (type == "set") v += Sorted(c.Run({"SMEMBERS", k.str}));
        if (type == "list") v += c.Run({"LRANGE", k.str, "0", "-1"}).Dump();
        if (type == "stream") v += c.Run({"XINFO", "STREAM", k.str, "FULL"}).Dump();
        if (type == "zset") v += c.Run({"ZRANGE", k.str, "0", "-1", "WITHSCORES"}).Dump();
        out[std::to_string(db) + ":" + k.str] = v;
      }
    } while (cursor != "0");
  }
  REQUIRE(c.Run({"SELECT", "0"}) == "OK");
  return out;
}

// The keys whose values differ (at most 5 shown); "" if the dumps are the same.
std::string Diff(const std::map<std::string, std::string>& want,
                 const std::map<std::string, std::string>& got) {
  std::string out;
  int shown = 0;
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end() || it->second != v)
      if (shown++ < 5) out += "\n  " + k + ": want " + v.substr(0, 200) + "\n    got " +
                              (it == got.end() ? "(missing)" : it->second.substr(0, 200));
  }
  for (const auto& [k, v] : got)
    if (!want.contains(k) && shown++ < 5) out += "\n  " + k + ": unexpected " + v.substr(0, 200);
  if (want.size() != got.size())
    out += "\n  " + std::to_string(want.size()) + " keys wanted, " + std::to_string(got.size()) +
           " found";
  return out;
}

// Single-shard writes of every type in the current database, `n` of them from `base` on.
std::vector<Args> ShardWrites(int base, int n) {
  std::vector<Args> cmds;
  for (int i = base; i < base + n; ++i) {
    std::string s = std::to_string(i);
    switch (i % 8) {
      case 0: cmds.push_back({"SET", "k:" + s, "v" + s, "PX", "3600000"}); break;
      case 1: cmds.push_back({"SET", "k:" + s, std::string(40, 'a' + i % 26)}); break;
      case 2: cmds.push_back({"INCRBY", "n:" + std::to_string(i % 97), s}); break;
      case 3: cmds.push_back({"HSET", "h:" + std::to_string(i % 61), "f" + s, s}); break;
      case 4: cmds.push_back({"SADD", "set:" + std::to_string(i % 53), "m" + s}); break;
      case 5: cmds.push_back({"RPUSH", "l:" + std::to_string(i % 47), s}); break;
      case 6: cmds.push_back({"XADD", "st:" + std::to_string(i % 5), "*", "f", s}); break;
      default: cmds.push_back({"APPEND", "k:" + std::to_string(i - 6), "+"}); break;
    }
  }
  return cmds;
}

// Records across shards, and commands that depend on earlier ones of other records.
std::vector<Args> CrossShardWrites(int round) {
  std::string r = std::to_string(round);
  return {
      {"MSET", "ma:" + r, "1", "mb:" + r, "2", "mc:" + r, "3"},
      {"DEL", "ma:" + std::to_string(round - 1), "k:" + std::to_string(round * 8 + 1)},
      {"MULTI"},
      {"SET", "tx:a:" + r, r},
      {"INCR", "n:" + std::to_string(round % 97)},
      {"SELECT", "3"},
      {"XADD", "tx:stream", "*", "round", r},
      {"SADD", "tx:set:" + std::to_string(round % 3), r},
      {"SELECT", "0"},
      {"LPUSH", "l:" + std::to_string(round % 47), "tx" + r},
      {"EXEC"},
      {"RENAME", "mb:" + r, "renamed:" + r},
      {"SMOVE", "set:" + std::to_string((round * 8 + 4) % 53), "moved",
       "m" + std::to_string(round * 8 + 4)},
      {"LMOVE", "l:" + std::to_string(round % 47), "lmoved", "LEFT", "RIGHT"},
      {"PEXPIRE", "h:" + std::to_string(round % 61), "7200000"},
      {"PERSIST", "k:" + std::to_string(round * 8)},
      {"ZADD", "z:" + std::to_string(round % 4), r, "m" + r, "1.5", "shared"},
      {"ZINCRBY", "z:" + std::to_string((round + 1) % 4), "2", "shared"},
      {"ZUNIONSTORE", "zu:" + r, "3", "z:0", "z:1", "z:2"},
  };
}

// Consumer-group traffic on the streams ShardWrites fills.
std::vector<Args> GroupWrites(int round) {
  std::string r = std::to_string(round);
  std::string key = "st:" + std::to_string(round % 5);
  return {
      {"XGROUP", "CREATE", key, "g" + r, "0", "MKSTREAM"},
      {"XREADGROUP", "GROUP", "g" + r, "alice", "COUNT", "20", "STREAMS", key, ">"},
      {"XREADGROUP", "GROUP", "g" + r, "bob", "COUNT", "5", "STREAMS", key, ">"},
      {"XAUTOCLAIM", key, "g" + r, "carol", "0", "0-0", "COUNT", "3"},
      {"XGROUP", "CREATECONSUMER", key, "g" + r, "dave"},
      {"XGROUP", "SETID", key, "g" + r, "0"},
      {"XTRIM", key, "MAXLEN", "300"},
  };
}

// Writes the mixed log; the server's data is the reference. With `checkpoint`, a checkpoint
// is taken halfway, while another client writes.
void WriteMixedLog(int port, bool checkpoint) {
  Client c(port);
  // Wiped by the FLUSHALL below: must stay wiped whichever thread replays what.
  Pipeline(c, ShardWrites(100000, 600));
  REQUIRE(c.Run({"FLUSHALL"}) == "OK");
  int next = 0;
  for (int round = 1; round <= 12; ++round) {
    Pipeline(c, ShardWrites(next, 1500));
    next += 1500;
    Pipeline(c, CrossShardWrites(round));
    Pipeline(c, GroupWrites(round));
    if (round == 4 || round == 10) {
      // Database 2 gets data, loses it to FLUSHDB, gets more: only the later data remains.
      Pipeline(c, {{"SELECT", "2"}});
      Pipeline(c, ShardWrites(200000 + round, 800));
      Pipeline(c, {{"FLUSHDB"}});
      Pipeline(c, ShardWrites(300000 + round, 800));
      Pipeline(c, {{"SELECT", "0"}});
    }
    if (round == 6) {
      // Short-lived keys: gone before anyone looks, in every replay too.
      Pipeline(c, {{"SET", "brief:1", "x", "PX", "1"}, {"SET", "brief:2", "x", "PX", "1"}});
    }
    if (round == 8 && checkpoint) {
      // A checkpoint while another client writes: shards end with different checkpoint LSNs,
      // and the replay must skip exactly what each shard's checkpoint holds.
      std::thread writer([port] {
        Client w(port);
        Pipeline(w, {{"SELECT", "5"}});
        for (int i = 0; i < 6; ++i) Pipeline(w, ShardWrites(400000 + i * 400, 400));
      });
      REQUIRE(c.Run({"BGSAVE"}).str.find("started") != std::string::npos);
      writer.join();
      for (int i = 0; i < 500 && c.Run({"INFO", "persistence"}).str.find(
                                     "rdb_bgsave_in_progress:1") != std::string::npos;
           ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

// A copy of `dir` (the wal and checkpoint files) in a new temporary directory.
std::string CopyOf(const std::string& dir) {
  char tmpl[] = "/tmp/runnel-recovery-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != "server.log")
      fs::copy(e.path(), fs::path(tmpl) / e.path().filename(), fs::copy_options::recursive);
  return tmpl;
}

// Starts a server with `threads` on a copy of `dir` and returns its data and start-up log.
std::map<std::string, std::string> Recovered(const std::string& dir, int threads,
                                             std::string* log) {
  std::string copy = CopyOf(dir);
  Args args = kNoSave;
  args.insert(args.end(), {"--dir", copy, "--threads", std::to_string(threads)});
  std::map<std::string, std::string> data;
  {
    ServerProcess p(args);
    Client c(p.port());
    data = DumpAll(c);
    *log = ReadFile(p.log_path());
  }
  fs::remove_all(copy);
  return data;
}

bool Contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// Kills the server of `p` once the mixed log is written, restarts copies of its data on 1, 3
// and 4 threads, and compares all of them with the data before the kill.
void CheckMixedLog(bool checkpoint) {
  ServerProcess p(kNoSave);
  WriteMixedLog(p.port(), checkpoint);
  std::map<std::string, std::string> before;
  {
    Client c(p.port());
    before = DumpAll(c);
    // The log must be worth replaying: thousands of keys, streams with groups, four dbs.
    REQUIRE(before.size() > 3000);
    REQUIRE(before.contains("0:st:1"));
    REQUIRE(Contains(before["0:st:1"], "alice"));
    REQUIRE(before.contains("2:k:300016"));
    REQUIRE_FALSE(before.contains("2:k:200016"));
    REQUIRE(before.contains("3:tx:stream"));
    REQUIRE(before.contains("0:zu:12"));
    REQUIRE(before.contains("5:k:400000") == checkpoint);
    REQUIRE_FALSE(before.contains("0:k:100000"));
  }
  p.Stop(SIGKILL);
  REQUIRE(fs::exists(p.dir() + "/wal"));

  std::string log1, log3, log4;
  std::map<std::string, std::string> one = Recovered(p.dir(), 1, &log1);
  CHECK_MESSAGE(Contains(log1, "with 1 thread"), log1);
  CHECK_MESSAGE(Diff(before, one) == "", "one thread vs. before the kill");

  std::map<std::string, std::string> four = Recovered(p.dir(), 4, &log4);
  CHECK_MESSAGE(Contains(log4, "with 4 replay threads"), log4);
  CHECK_MESSAGE(Diff(one, four) == "", "4 threads vs. 1 thread");

  std::map<std::string, std::string> three = Recovered(p.dir(), 3, &log3);
  CHECK_MESSAGE(Diff(one, three) == "", "3 threads vs. 1 thread");
}

TEST_CASE("recovery: replaying the log on several threads gives exactly the data of one") {
  CheckMixedLog(false);
}

TEST_CASE("recovery: the same with a checkpoint taken halfway while clients write") {
  CheckMixedLog(true);
}

TEST_CASE("recovery: a checkpoint loads on several threads with the same data") {
  ServerProcess p(kNoSave);
  {
    Client c(p.port());
    Pipeline(c, ShardWrites(0, 4000));
    Pipeline(c, GroupWrites(1));
    REQUIRE(c.Run({"SAVE"}) == "OK");
    Pipeline(c, ShardWrites(4000, 500));  // and a log after it
  }
  std::map<std::string, std::string> before;
  {
    Client c(p.port());
    before = DumpAll(c);
  }
  p.Stop(SIGKILL);
  std::string log1, log4;
  std::map<std::string, std::string> one = Recovered(p.dir(), 1, &log1);
  std::map<std::string, std::string> four = Recovered(p.dir(), 4, &log4);
  CHECK(Diff(before, one) == "");
  CHECK(Diff(one, four) == "");
}

// Keys of many shards, so that a transaction's record spans shards on both sides of a flush.
std::vector<Args> Sets(const std::string& prefix, int n) {
  std::vector<Args> cmds;
  for (int i = 0; i < n; ++i) cmds.push_back({"SET", prefix + std::to_string(i), prefix});
  return cmds;
}

// Appends MULTI, `body` and EXEC to `cmds`.
void AddTransaction(std::vector<Args>* cmds, const std::vector<Args>& body) {
  cmds->push_back({"MULTI"});
  cmds->insert(cmds->end(), body.begin(), body.end());
  cmds->push_back({"EXEC"});
}

// A flush inside MULTI/EXEC must replay where it ran: after the transaction's earlier writes
// and before its later ones, whichever thread replays which shard.
void CheckFlushInTransaction(bool flushall) {
  ServerProcess p(kNoSave);
  {
    Client c(p.port());
    std::vector<Args> cmds = Sets("old:", 20);
    cmds.push_back({"SELECT", "1"});
    for (Args& a : Sets("old1:", 20)) cmds.push_back(a);
    cmds.push_back({"SELECT", "2"});
    for (Args& a : Sets("old2:", 20)) cmds.push_back(a);
    cmds.push_back({"SELECT", "1"});
    std::vector<Args> body = Sets("before1:", 20);  // database 1
    body.push_back({"SELECT", "0"});
    for (Args& a : Sets("before0:", 20)) body.push_back(a);
    body.push_back({"SELECT", "1"});
    body.push_back({flushall ? "FLUSHALL" : "FLUSHDB"});
    for (Args& a : Sets("after1:", 20)) body.push_back(a);
    body.push_back({"SELECT", "3"});
    for (Args& a : Sets("after3:", 20)) body.push_back(a);
    AddTransaction(&cmds, body);
    // Records after the transaction, on the same shards.
    for (Args& a : Sets("later3:", 5)) cmds.push_back(a);
    Pipeline(c, cmds);
  }
  std::map<std::string, std::string> before;
  {
    Client c(p.port());
    before = DumpAll(c);
  }
  // What the server holds is what the transaction meant; the replays must agree with it.
  CHECK(before.contains("1:after1:7"));
  CHECK(before.contains("3:after3:7"));
  CHECK(before.contains("3:later3:4"));
  CHECK_FALSE(before.contains("1:before1:7"));
  CHECK_FALSE(before.contains("1:old1:7"));
  CHECK(before.contains("0:before0:7") == !flushall);
  CHECK(before.contains("0:old:7") == !flushall);
  CHECK(before.contains("2:old2:7") == !flushall);
  CHECK(before.size() == (flushall ? 45u : 105u));
  p.Stop(SIGKILL);

  std::string log;
  std::map<std::string, std::string> one = Recovered(p.dir(), 1, &log);
  CHECK_MESSAGE(Diff(before, one) == "", "one thread vs. before the kill");
  std::map<std::string, std::string> three = Recovered(p.dir(), 3, &log);
  CHECK_MESSAGE(Contains(log, "with 3 replay threads"), log);
  CHECK_MESSAGE(Diff(before, three) == "", "3 threads vs. before the kill");
}

TEST_CASE("recovery: FLUSHALL inside MULTI/EXEC replays between the transaction's writes") {
  CheckFlushInTransaction(true);
}

TEST_CASE("recovery: FLUSHDB inside MULTI/EXEC replays between the transaction's writes") {
  CheckFlushInTransaction(false);
}

}  // namespace
}  // namespace runnel::test
