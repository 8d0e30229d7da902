// Keyspace notifications (notify-keyspace-events): the exact (channel, message) sequence each
// family's commands publish, as Debian's redis-server 7.0 publishes them; filtering by class;
// RESP3 pushes; subscribers on other threads; expiry, lazy and active; CONFIG SET validation.
//
// A subscriber PSUBSCRIBEs to every keyspace channel; the writer runs commands and then
// publishes an end marker, which reaches the subscriber after every event the commands caused
// (the same thread publishes both, and delivery keeps a publisher's order).
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

using runnel::test::Client;
using runnel::test::RawClient;
using runnel::test::ServerProcess;

namespace {

constexpr std::string_view kEndChannel = "__keyend__:marker";

// A private server: the setting is server-wide, and the shared server's other tests should
// not publish events. Four threads, so that connections land on different ones.
ServerProcess& NotifyServer() {
  static ServerProcess server({"--threads", "4"});
  return server;
}

// The bulk strings of one RESP2 array or RESP3 push of bulk strings.
std::vector<std::string> Bulks(std::string_view raw) {
  std::vector<std::string> out;
  size_t pos = raw.find("\r\n") + 2;
  while (pos < raw.size() && raw[pos] == '$') {
    size_t eol = raw.find("\r\n", pos);
    size_t len = std::stoul(std::string(raw.substr(pos + 1, eol - pos - 1)));
    out.emplace_back(raw.substr(eol + 2, len));
    pos = eol + 2 + len + 2;
  }
  return out;
}

class Subscriber {
 public:
  explicit Subscriber(int resp = 2) : raw_(NotifyServer().port()) {
    if (resp == 3) raw_.Command({"HELLO", "3"});
    raw_.Command({"PSUBSCRIBE", "__key*__:*"});
  }

  // The events that arrived before the writer's end marker, as "channel=message, ...".
  std::string Until(Client& writer) {
    writer.Run({"PUBLISH", kEndChannel, "end"});
    std::string events;
    while (true) {
      std::string value = raw_.ReadValue();
      if (value.empty()) return events + " (timed out)";
      std::vector<std::string> parts = Bulks(value);
      if (parts.size() != 4 || parts[0] != "pmessage") return events + " (bad message)";
      if (parts[2] == kEndChannel) return events;
      events += (events.empty() ? "" : ", ") + parts[2] + "=" + parts[3];
    }
  }
  // The next message's raw bytes (RESP3 checks).
  std::string NextRaw(int timeout_ms = 5000) { return raw_.ReadValue(timeout_ms); }

 private:
  RawClient raw_;
};

// "k set, k expire, k2 move_to@10" -> the keyspace then the keyevent message of each event, in
// database 9 unless the event names another.
std::string KE(std::string_view events) {
  std::string out;
  size_t pos = 0;
  while (pos < events.size()) {
    size_t end = events.find(", ", pos);
    if (end == std::string_view::npos) end = events.size();
    std::string_view one = events.substr(pos, end - pos);
    size_t space = one.find(' '), at = one.find('@');
    std::string key(one.substr(0, space));
    std::string event(one.substr(space + 1, at == std::string_view::npos ? at : at - space - 1));
    std::string d = at == std::string_view::npos ? "9" : std::string(one.substr(at + 1));
    out += (out.empty() ? "" : ", ") + ("__keyspace@" + d + "__:" + key + "=" + event) +
           ", __keyevent@" + d + "__:" + event + "=" + key;
    pos = end + 2;
  }
  return out;
}

// Runs each command on `c`, ignoring the replies (the family tests check those).
void RunAll(Client& c, std::initializer_list<std::vector<std::string>> commands) {
  for (const auto& cmd : commands) c.Run(cmd);
}

// A writer on database 9 (flushed) with the setting applied, and a subscriber.
struct Session {
  explicit Session(std::string_view flags = "KEA", int resp = 2)
      : writer(NotifyServer().port(), true), sub(resp) {
    writer.Run({"CONFIG", "SET", "notify-keyspace-events", flags});
  }
  Client writer;
  Subscriber sub;
};

}  // namespace

TEST_CASE("notify: CONFIG SET validates and CONFIG GET shows the canonical form") {
  Client c(NotifyServer().port());
  // Each input and what redis-server 7.0 reads back.
  const std::pair<const char*, const char*> cases[] = {
      {"KEA", "AKE"},       {"AKE", "AKE"},         {"", ""},
      {"K", "K"},           {"E", "E"},             {"A", "A"},
      {"gK", "gK"},         {"Kx", "xK"},           {"n", "n"},
      {"KEAn", "AKE"},      {"KEAmn", "AKEm"},      {"Kg$lshzxe", "g$lshzxeK"},
      {"KEg$lshzxet", "g$lshzxetKE"}, {"KEg$lshzxetd", "AKE"}, {"KEA$lshzxetmdn", "AKEm"},
  };
  for (auto [in, out] : cases) {
    CAPTURE(in);
    CHECK(c.Run({"CONFIG", "SET", "notify-keyspace-events", in}) == "OK");
    CHECK(c.Run({"CONFIG", "GET", "notify-keyspace-events"}).Dump() ==
          std::string("[notify-keyspace-events, ") + out + "]");
  }
  for (const char* bad : {"q", "KEAq", "kea", "K E"}) {
    CAPTURE(bad);
    CHECK(c.Run({"CONFIG", "SET", "notify-keyspace-events", bad})
              .IsError("ERR CONFIG SET failed (possibly related to argument "
                       "'notify-keyspace-events') - Invalid event class character. Use "
                       "'Ag$lshzxeKEtmdn'."));
  }
  // A failed CONFIG SET leaves the setting as it was.
  CHECK(c.Run({"CONFIG", "GET", "notify-keyspace-events"}).Dump() ==
        "[notify-keyspace-events, AKEm]");
  CHECK(c.Run({"CONFIG", "SET", "notify-keyspace-events", ""}) == "OK");
}

TEST_CASE("notify: the command line sets it too") {
  ServerProcess server({"--notify-keyspace-events", "Ex"});
  Client c(server.port());
  CHECK(c.Run({"CONFIG", "GET", "notify-keyspace-events"}).Dump() ==
        "[notify-keyspace-events, xE]");
}

TEST_CASE("notify: strings") {
  Session s;
  Client& w = s.writer;
  w.Run({"SET", "k", "v"});
  w.Run({"SET", "k", "v2", "EX", "100"});
  w.Run({"SET", "k", "v3", "KEEPTTL"});
  w.Run({"SET", "k", "v", "NX"});  // not set: no event
  w.Run({"SET", "k", "v4", "XX", "GET"});
  CHECK(s.sub.Until(w) == KE("k set, k set, k expire, k set, k set"));

  w.Run({"SETNX", "k", "x"});
  w.Run({"SETNX", "n", "x"});
  w.Run({"SETEX", "s", "10", "v"});
  w.Run({"PSETEX", "s", "10000", "v"});
  w.Run({"GETSET", "s", "w"});
  w.Run({"MSET", "m1", "1", "m2", "2"});
  w.Run({"MSETNX", "m3", "1", "m1", "2"});  // m1 exists: nothing
  w.Run({"MSETNX", "m3", "1", "m4", "2"});
  CHECK(s.sub.Until(w) == KE("n set, s set, s expire, s set, s expire, s set, m1 set, m2 set, "
                             "m3 set, m4 set"));

  w.Run({"INCR", "c"});
  w.Run({"DECR", "c"});
  w.Run({"INCRBY", "c", "5"});
  w.Run({"DECRBY", "c", "2"});
  w.Run({"INCRBYFLOAT", "f", "1.5"});
  w.Run({"INCR", "k"});  // not an integer: no event
  w.Run({"APPEND", "a", "x"});
  w.Run({"SETRANGE", "a", "3", "y"});
  w.Run({"SETRANGE", "a", "0", ""});  // writes nothing
  CHECK(s.sub.Until(w) == KE("c incrby, c incrby, c incrby, c incrby, f incrbyfloat, a append, "
                             "a setrange"));

  w.Run({"GETEX", "a", "EX", "100"});
  w.Run({"GETEX", "a", "PERSIST"});
  w.Run({"GETEX", "a", "PERSIST"});  // no TTL left: nothing
  w.Run({"GETEX", "a"});
  w.Run({"GETEX", "a", "PXAT", "1"});  // in the past: deleted
  w.Run({"GETDEL", "c"});
  w.Run({"GETDEL", "c"});
  CHECK(s.sub.Until(w) == KE("a expire, a persist, a del, c del"));
}

TEST_CASE("notify: sorted sets") {
  Session s;
  Client& w = s.writer;
  w.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c"});
  w.Run({"ZADD", "z", "1", "a"});             // nothing changed: no event
  w.Run({"ZADD", "z", "XX", "5", "nosuch"});  // nothing changed
  w.Run({"ZADD", "z", "INCR", "1", "a"});
  w.Run({"ZINCRBY", "z", "1", "b"});
  w.Run({"ZREM", "z", "nosuch"});  // nothing removed
  w.Run({"ZREM", "z", "a"});
  w.Run({"ZREMRANGEBYSCORE", "z", "100", "200"});
  CHECK(s.sub.Until(w) == KE("z zadd, z zincr, z zincr, z zrem"));

  w.Run({"ZADD", "z", "1", "a", "2", "b", "4", "d"});
  w.Run({"ZREMRANGEBYRANK", "z", "0", "0"});
  w.Run({"ZREMRANGEBYSCORE", "z", "(3", "4"});
  w.Run({"ZREMRANGEBYLEX", "z", "-", "+"});  // empties it
  CHECK(s.sub.Until(w) ==
        KE("z zadd, z zremrangebyrank, z zremrangebyscore, z zremrangebylex, z del"));

  w.Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"});
  w.Run({"ZPOPMIN", "z"});
  w.Run({"ZPOPMAX", "z", "1"});
  w.Run({"ZMPOP", "1", "z", "MIN", "COUNT", "10"});
  w.Run({"ZADD", "z", "1", "a", "2", "b"});
  w.Run({"BZPOPMAX", "z", "0"});
  w.Run({"BZMPOP", "0", "1", "z", "MIN"});
  CHECK(s.sub.Until(w) == KE("z zadd, z zpopmin, z zpopmax, z zpopmin, z del, z zadd, z zpopmax, "
                             "z zpopmin, z del"));

  w.Run({"ZADD", "z", "1", "a"});
  w.Run({"ZUNIONSTORE", "u", "1", "z"});
  w.Run({"ZINTERSTORE", "i", "1", "z"});
  w.Run({"ZDIFFSTORE", "d", "1", "z"});
  w.Run({"ZRANGESTORE", "r", "z", "0", "-1"});
  w.Run({"ZINTERSTORE", "u", "2", "z", "nosuch"});  // empty result: the key goes
  w.Run({"ZRANGESTORE", "r", "z", "5", "6"});
  w.Run({"ZRANGESTORE", "none", "nosuch", "0", "1"});  // nothing there before or after
  CHECK(s.sub.Until(w) == KE("z zadd, u zunionstore, i zinterstore, d zdiffstore, r zrangestore, "
                             "u del, r del"));
}

TEST_CASE("notify: classes filter what is published") {
  SUBCASE("K only: keyspace channels") {
    Session s("K$");
    s.writer.Run({"SET", "k", "v"});
    CHECK(s.sub.Until(s.writer) == "__keyspace@9__:k=set");
  }
  SUBCASE("E only: keyevent channels") {
    Session s("E$");
    s.writer.Run({"SET", "k", "v"});
    CHECK(s.sub.Until(s.writer) == "__keyevent@9__:set=k");
  }
  SUBCASE("a class subset: generic without strings") {
    Session s("KEg");
    s.writer.Run({"SET", "k", "v"});
    s.writer.Run({"GETEX", "k", "EX", "10"});
    s.writer.Run({"GETDEL", "k"});
    CHECK(s.sub.Until(s.writer) == KE("k expire, k del"));
  }
  SUBCASE("classes without K or E publish nothing") {
    Session s("A");
    s.writer.Run({"SET", "k", "v"});
    CHECK(s.sub.Until(s.writer) == "");
  }
  SUBCASE("empty: nothing") {
    Session s("");
    s.writer.Run({"SET", "k", "v"});
    s.writer.Run({"GETDEL", "k"});
    CHECK(s.sub.Until(s.writer) == "");
  }
  SUBCASE("n: new keys, before the event that created them; A leaves it out") {
    Session s("KEAn");
    s.writer.Run({"SET", "k", "v"});
    s.writer.Run({"SET", "k", "w"});
    s.writer.Run({"INCR", "c"});
    CHECK(s.sub.Until(s.writer) == KE("k new, k set, k set, c new, c incrby"));
    s.writer.Run({"CONFIG", "SET", "notify-keyspace-events", "KEA"});
    s.writer.Run({"SET", "k2", "v"});
    CHECK(s.sub.Until(s.writer) == KE("k2 set"));
  }
}

TEST_CASE("notify: RESP3 subscribers get pushes") {
  Session s("KEA", 3);
  s.writer.Run({"SET", "k", "v"});
  CHECK(s.sub.NextRaw() ==
        ">4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@9__:k\r\n$3\r\nset\r\n");
  CHECK(s.sub.NextRaw() ==
        ">4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@9__:set\r\n$1\r\nk\r\n");
}

TEST_CASE("notify: subscribers on every thread get the events, channel subscribers too") {
  Session s("KEA");
  // The server hands connections to its four threads in turn: among five, some share the
  // writer's thread and some do not.
  std::vector<std::unique_ptr<Subscriber>> subs;
  for (int i = 0; i < 5; ++i) subs.push_back(std::make_unique<Subscriber>());
  RawClient channel(NotifyServer().port());
  channel.Command({"SUBSCRIBE", "__keyevent@9__:set"});
  s.writer.Run({"SET", "k", "v"});
  for (auto& sub : subs) CHECK(sub->Until(s.writer) == KE("k set"));
  CHECK(channel.ReadValue() == "*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@9__:set\r\n$1\r\nk\r\n");
}

TEST_CASE("notify: MULTI/EXEC publishes its commands' events in order when it runs") {
  Session s("KEA");
  Client& w = s.writer;
  w.Run({"MULTI"});
  w.Run({"SET", "a", "1"});
  w.Run({"INCR", "a"});
  w.Run({"SETEX", "b", "10", "x"});
  Client other(NotifyServer().port());
  CHECK(s.sub.Until(other) == "");  // queued, not run
  w.Run({"EXEC"});
  CHECK(s.sub.Until(w) == KE("a set, a incrby, b set, b expire"));
}

TEST_CASE("notify: expiry publishes expired, lazily and from the active cycle") {
  Session s("KEx");
  Client& w = s.writer;
  SUBCASE("lazy: the access that finds the key expired") {
    w.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "0"});
    w.Run({"SET", "k", "v", "PX", "5"});
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CHECK(w.Run({"GET", "k"}).IsNil());
    w.Run({"SET", "k2", "v", "PX", "5"});
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    w.Run({"CONFIG", "SET", "notify-keyspace-events", "KEA"});
    w.Run({"SET", "k2", "w"});  // expired first, then the new value
    CHECK(s.sub.Until(w) == KE("k expired, k2 expired, k2 set"));
    w.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "1"});
  }
  SUBCASE("active: nobody touches the key") {
    w.Run({"SET", "k", "v", "PX", "20"});
    std::string raw = s.sub.NextRaw(3000);
    CHECK(raw == "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@9__:k\r\n"
                 "$7\r\nexpired\r\n");
    CHECK(s.sub.Until(w) == "__keyevent@9__:expired=k");
  }
}

TEST_CASE("notify: keys") {
  Session s;
  Client& w = s.writer;
  RunAll(w, {{"SET", "k", "v"}, {"DEL", "k", "nokey"}, {"SET", "a", "1"}, {"SET", "b", "2"},
             {"UNLINK", "a", "b", "c"}});
  CHECK(s.sub.Until(w) == KE("k set, k del, a set, b set, a del, b del"));

  RunAll(w, {{"SET", "k", "v"}, {"RENAME", "k", "k2"}, {"SET", "k3", "v"}, {"RENAME", "k2", "k3"},
             {"RENAME", "k3", "k3"}, {"RENAMENX", "k3", "k4"}, {"SET", "k5", "v"},
             {"RENAMENX", "k4", "k5"}});
  CHECK(s.sub.Until(w) == KE("k set, k rename_from, k2 rename_to, k3 set, k2 rename_from, "
                             "k3 rename_to, k3 rename_from, k4 rename_to, k5 set"));

  RunAll(w, {{"COPY", "k4", "k6"}, {"COPY", "k4", "k6"}, {"COPY", "k4", "k6", "REPLACE"},
             {"EXPIRE", "k4", "100"}, {"PEXPIRE", "k4", "99000", "GT"},
             {"EXPIRE", "k4", "10", "GT"}, {"PERSIST", "k4"}, {"PERSIST", "k4"},
             {"EXPIREAT", "k4", "1"}, {"EXPIRE", "nokey", "100"}});
  CHECK(s.sub.Until(w) == KE("k6 copy_to, k6 copy_to, k4 expire, k4 persist, k4 del"));

  // Across databases: each event names the database it happened in.
  w.Run({"SELECT", "10"});
  w.Run({"FLUSHDB"});
  w.Run({"SELECT", "9"});
  RunAll(w, {{"COPY", "k6", "k7", "DB", "10"}, {"COPY", "k6", "k7", "DB", "10"},
             {"MOVE", "k7", "10"}, {"MOVE", "k6", "10"}, {"MOVE", "k6", "10"}});
  CHECK(s.sub.Until(w) == KE("k7 copy_to@10, k6 move_from, k6 move_to@10"));

  // RESTORE: "restore", or "del" when an already expired TTL replaces a key.
  std::string payload = w.Run({"DUMP", "k5"}).str;
  RunAll(w, {{"RESTORE", "r", "0", payload}, {"RESTORE", "r", "0", payload, "REPLACE"},
             {"RESTORE", "r2", "1", payload, "ABSTTL"},
             {"RESTORE", "k5", "1", payload, "ABSTTL", "REPLACE"},
             {"RESTORE", "r3", "100000", payload}});
  CHECK(s.sub.Until(w) == KE("r restore, r restore, k5 del, r3 restore"));
  w.Run({"FLUSHDB"});  // FLUSHDB announces nothing, as in Redis
  CHECK(s.sub.Until(w) == "");
}

TEST_CASE("notify: hashes") {
  Session s;
  Client& w = s.writer;
  RunAll(w, {{"HSET", "h", "a", "1", "b", "2"}, {"HSET", "h", "a", "1"}, {"HMSET", "h", "c", "3"},
             {"HSETNX", "h", "a", "5"}, {"HSETNX", "h", "d", "4"}, {"HINCRBY", "h", "n", "1"},
             {"HINCRBYFLOAT", "h", "f", "1.5"}, {"HINCRBY", "h", "a", "x"},
             {"HDEL", "h", "a", "nofield"}, {"HDEL", "h", "nofield"},
             {"HDEL", "h", "b", "c", "d", "n", "f"}, {"HDEL", "h", "x"}});
  CHECK(s.sub.Until(w) == KE("h hset, h hset, h hset, h hset, h hincrby, h hincrbyfloat, h hdel, "
                             "h hdel, h del"));
}

TEST_CASE("notify: sets") {
  Session s;
  Client& w = s.writer;
  RunAll(w, {{"SADD", "s", "a", "b"}, {"SADD", "s", "a"}, {"SREM", "s", "a", "x"},
             {"SREM", "s", "x"}, {"SADD", "s", "c", "d", "e"}, {"SPOP", "s", "0"},
             {"SPOP", "s", "1"}, {"SPOP", "s", "10"}, {"SADD", "x", "1"}, {"SPOP", "x"}});
  CHECK(s.sub.Until(w) == KE("s sadd, s srem, s sadd, s spop, s spop, s del, x sadd, x spop, "
                             "x del"));

  RunAll(w, {{"SADD", "s1", "a", "b"}, {"SADD", "s2", "b", "c"}, {"SMOVE", "s1", "s2", "a"},
             {"SMOVE", "s1", "s2", "b"}, {"SMOVE", "s2", "s3", "c"}, {"SMOVE", "s2", "s2", "a"}});
  CHECK(s.sub.Until(w) == KE("s1 sadd, s2 sadd, s1 srem, s2 sadd, s1 srem, s1 del, s2 srem, "
                             "s3 sadd"));

  RunAll(w, {{"SINTERSTORE", "d", "s2", "s3"}, {"SINTERSTORE", "d", "s2", "s2"},
             {"SUNIONSTORE", "d", "s2", "s3"}, {"SDIFFSTORE", "d", "s2", "s2"},
             {"SDIFFSTORE", "d", "s2", "s2"}});
  CHECK(s.sub.Until(w) == KE("d sinterstore, d sunionstore, d del"));
}

TEST_CASE("notify: lists") {
  Session s;
  Client& w = s.writer;
  RunAll(w, {{"RPUSH", "l", "a", "b", "c", "d", "e"}, {"LPUSHX", "l", "z"}, {"RPUSHX", "l", "y"},
             {"LPUSHX", "nol", "z"}, {"LPOP", "l"}, {"RPOP", "l", "2"}, {"LPOP", "l", "0"},
             {"RPOP", "nol"}});
  CHECK(s.sub.Until(w) == KE("l rpush, l lpush, l rpush, l lpop, l rpop"));

  RunAll(w, {{"LSET", "l", "0", "q"}, {"LINSERT", "l", "BEFORE", "q", "w"},
             {"LINSERT", "l", "BEFORE", "nothere", "w"}, {"LREM", "l", "1", "w"},
             {"LREM", "l", "1", "notthere"}, {"LTRIM", "l", "0", "-1"}, {"LTRIM", "l", "0", "0"}});
  CHECK(s.sub.Until(w) == KE("l lset, l linsert, l lrem, l ltrim, l ltrim"));

  // Moves announce the push first, then the pop (and the source's deletion).
  RunAll(w, {{"LMOVE", "l", "l2", "LEFT", "RIGHT"}, {"RPUSH", "l3", "x", "y"},
             {"LMPOP", "2", "nol", "l3", "LEFT", "COUNT", "5"}, {"RPUSH", "l5", "a"},
             {"LMOVE", "l5", "l5", "LEFT", "RIGHT"}, {"RPOPLPUSH", "l5", "l6"}});
  CHECK(s.sub.Until(w) == KE("l2 rpush, l lpop, l del, l3 rpush, l3 lpop, l3 del, l5 rpush, "
                             "l5 rpush, l5 lpop, l6 lpush, l5 rpop, l5 del"));
}

TEST_CASE("notify: blocked list pops announce when they are served") {
  Session s;
  Client& w = s.writer;
  // Raw clients: the blocking commands must reach the server before the pushes.
  auto blocked = [](std::initializer_list<std::string_view> args) {
    auto c = std::make_unique<RawClient>(NotifyServer().port());
    c->Command({"SELECT", "9"});
    std::string req = "*" + std::to_string(args.size()) + "\r\n";
    for (auto a : args) req += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
    c->Write(req);
    return c;
  };
  auto blpop = blocked({"BLPOP", "bl", "0"});
  auto blmove = blocked({"BLMOVE", "bm", "dst", "RIGHT", "LEFT", "0"});
  auto blmpop = blocked({"BLMPOP", "0", "1", "bz", "RIGHT"});
  bool all_blocked = false;
  for (int i = 0; i < 500 && !all_blocked; ++i) {
    all_blocked = w.Run({"INFO", "clients"}).str.find("blocked_clients:3") != std::string::npos;
    if (!all_blocked) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(all_blocked);
  RunAll(w, {{"RPUSH", "bl", "a"}, {"RPUSH", "bm", "a"}, {"RPUSH", "bz", "a", "b"}});
  CHECK(blpop->ReadValue() == "*2\r\n$2\r\nbl\r\n$1\r\na\r\n");
  CHECK(blmove->ReadValue() == "$1\r\na\r\n");
  CHECK(blmpop->ReadValue() == "*2\r\n$2\r\nbz\r\n*1\r\n$1\r\nb\r\n");
  CHECK(s.sub.Until(w) == KE("bl rpush, bl lpop, bl del, bm rpush, dst lpush, bm rpop, bm del, "
                             "bz rpush, bz rpop"));
}

TEST_CASE("notify: streams") {
  Session s;
  Client& w = s.writer;
  RunAll(w, {{"XADD", "st", "1-1", "f", "v"}, {"XADD", "st", "MAXLEN", "1", "2-1", "f", "v"},
             {"XADD", "st", "NOMKSTREAM", "3-1", "f", "v"},
             {"XADD", "nost", "NOMKSTREAM", "3-1", "f", "v"}, {"XTRIM", "st", "MAXLEN", "0"},
             {"XADD", "st", "4-1", "f", "v"}, {"XTRIM", "st", "MAXLEN", "5"},
             {"XDEL", "st", "4-1", "9-9"}, {"XDEL", "st", "9-9"}, {"XSETID", "st", "10-0"}});
  CHECK(s.sub.Until(w) == KE("st xadd, st xadd, st xtrim, st xadd, st xtrim, st xadd, st xdel, "
                             "st xsetid"));

  RunAll(w, {{"XGROUP", "CREATE", "st", "g", "0"}, {"XGROUP", "CREATE", "st2", "g", "$", "MKSTREAM"},
             {"XGROUP", "SETID", "st", "g", "0"}, {"XGROUP", "CREATECONSUMER", "st", "g", "c1"},
             {"XGROUP", "CREATECONSUMER", "st", "g", "c1"}, {"XADD", "st", "11-0", "a", "b"}});
  CHECK(s.sub.Until(w) == KE("st xgroup-create, st2 xgroup-create, st xgroup-setid, "
                             "st xgroup-createconsumer, st xadd"));

  // Consumers that reading or claiming creates are announced; the reads and claims are not.
  RunAll(w, {{"XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "st", ">"},
             {"XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "st", ">"},
             {"XCLAIM", "st", "g", "c3", "0", "11-0"}, {"XCLAIM", "st", "g", "c3", "0", "11-0"},
             {"XAUTOCLAIM", "st", "g", "c4", "0", "0"}, {"XACK", "st", "g", "11-0"},
             {"XGROUP", "DELCONSUMER", "st", "g", "nobody"},
             {"XGROUP", "DELCONSUMER", "st", "g", "c1"}, {"XGROUP", "DESTROY", "st", "g"},
             {"XGROUP", "DESTROY", "st", "g"}});
  CHECK(s.sub.Until(w) == KE("st xgroup-createconsumer, st xgroup-createconsumer, "
                             "st xgroup-createconsumer, st xgroup-delconsumer, "
                             "st xgroup-destroy"));
}

TEST_CASE("notify: new keys across families (n)") {
  Session s("KEAn");
  Client& w = s.writer;
  RunAll(w, {{"RPUSH", "l", "a"}, {"LMOVE", "l", "l2", "LEFT", "RIGHT"}, {"HSET", "h", "a", "1"},
             {"XGROUP", "CREATE", "st", "g", "$", "MKSTREAM"}});
  CHECK(s.sub.Until(w) == KE("l new, l rpush, l2 new, l2 rpush, l lpop, l del, h new, h hset, "
                             "st new, st xgroup-create"));
  // A key that replaces another is new, except where Redis overwrites in place (SET, *STORE).
  RunAll(w, {{"SET", "k", "v"}, {"SET", "k2", "v"}, {"RENAME", "k", "k2"}, {"COPY", "k2", "k3"},
             {"COPY", "k2", "k3", "REPLACE"}, {"SADD", "s", "a"}, {"SADD", "s2", "b"},
             {"SINTERSTORE", "s2", "s", "s"}, {"SMOVE", "s", "s4", "a"}});
  CHECK(s.sub.Until(w) == KE("k new, k set, k2 new, k2 set, k2 new, k rename_from, k2 rename_to, "
                             "k3 new, k3 copy_to, k3 new, k3 copy_to, s new, s sadd, s2 new, "
                             "s2 sadd, s2 sinterstore, s srem, s del, s4 new, s4 sadd"));
  // An expired key written again: expired, then new.
  w.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "0"});
  w.Run({"SET", "e", "v", "PX", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  w.Run({"SET", "e", "w"});
  w.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "1"});
  CHECK(s.sub.Until(w) == KE("e new, e set, e expire, e expired, e new, e set"));
}

TEST_CASE("notify: read misses (m), after the expiry that caused one") {
  Session s("KEm");
  Client& w = s.writer;
  RunAll(w, {{"GET", "nokey"}, {"MGET", "a", "b"}, {"EXISTS", "nokey"}, {"TTL", "nokey"},
             {"LRANGE", "nol", "0", "1"}, {"HGET", "noh", "f"}, {"SMEMBERS", "nos"},
             {"INCR", "counter"}, {"SET", "k", "v"}, {"GET", "k"}});
  CHECK(s.sub.Until(w) == KE("nokey keymiss, a keymiss, b keymiss, nokey keymiss, nokey keymiss, "
                             "nol keymiss, noh keymiss, nos keymiss"));
  w.Run({"CONFIG", "SET", "notify-keyspace-events", "KEAm"});
  w.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "0"});
  w.Run({"SET", "e", "v", "PX", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  w.Run({"GET", "e"});
  w.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "1"});
  CHECK(s.sub.Until(w) == KE("e set, e expire, e expired, e keymiss"));
}

TEST_CASE("notify: replaying the log on start-up announces nothing") {
  constexpr int kKeys = 200000, kPerMset = 100;
  ServerProcess p({"--appendfsync", "no", "--save", "", "--notify-keyspace-events", "KEA"});
  {
    Client c(p.port());
    for (int i = 0; i < kKeys; i += kPerMset) {
      std::vector<std::string> mset = {"MSET"};
      for (int j = i; j < i + kPerMset; ++j) {
        mset.push_back("key:" + std::to_string(j));
        mset.push_back(std::to_string(j));
      }
      c.Send(mset);
    }
    for (int i = 0; i < kKeys; i += kPerMset) c.Read();
    c.Run({"SHUTDOWN", "NOSAVE"});
  }
  p.Stop(0);
  ServerProcess q({"--dir", p.dir(), "--save", "", "--notify-keyspace-events", "KEA"},
                  /*wait_until_loaded=*/false);
  RawClient sub(q.port());
  sub.Command({"PSUBSCRIBE", "*"});
  Client c(q.port(), false);
  // The subscription was in place while the log was being replayed.
  CHECK(c.Run({"INFO", "persistence"}).str.find("loading:1") != std::string::npos);
  while (c.Run({"DBSIZE"}).IsError()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(c.Run({"DBSIZE"}).IsInt(kKeys));
  c.Run({"PUBLISH", "end", "x"});
  CHECK(sub.ReadValue() == "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$3\r\nend\r\n$1\r\nx\r\n");
}
