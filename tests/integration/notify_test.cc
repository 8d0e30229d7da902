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

// "k set, k expire" -> the keyspace then the keyevent message of each event, in database `db`.
std::string KE(std::string_view events, int db = 9) {
  std::string out;
  std::string d = std::to_string(db);
  size_t pos = 0;
  while (pos < events.size()) {
    size_t end = events.find(", ", pos);
    if (end == std::string_view::npos) end = events.size();
    std::string_view one = events.substr(pos, end - pos);
    size_t space = one.find(' ');
    std::string key(one.substr(0, space)), event(one.substr(space + 1));
    out += (out.empty() ? "" : ", ") + ("__keyspace@" + d + "__:" + key + "=" + event) +
           ", __keyevent@" + d + "__:" + event + "=" + key;
    pos = end + 2;
  }
  return out;
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
