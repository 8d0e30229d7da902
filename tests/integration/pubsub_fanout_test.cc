// Pub/Sub fan-out in batches: pipelined bursts from several publishers reach subscribers on
// every event-loop thread complete and in each publisher's order (RESP2 arrays, RESP3 pushes,
// pattern messages), the pubsub output-buffer limits still cut a subscriber that does not read
// while those that read get everything, and a message waits, like a reply, for the log.
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

// The bulk strings of a RESP array or push; empty if `raw` is not one.
std::vector<std::string> Parts(const std::string& raw, char* type) {
  std::vector<std::string> parts;
  if (raw.empty()) return parts;
  *type = raw[0];
  size_t pos = raw.find("\r\n");
  int n = std::stoi(raw.substr(1, pos - 1));
  pos += 2;
  for (int i = 0; i < n; ++i) {
    size_t end = raw.find("\r\n", pos);
    size_t len = std::stoul(raw.substr(pos + 1, end - pos - 1));
    parts.push_back(raw.substr(end + 2, len));
    pos = end + 2 + len + 2;
  }
  return parts;
}

// Sends `count` PUBLISHes of "<tag>:<i>" to `channel` in pipelined chunks; returns how many
// replies were not `receivers`.
int PublishBurst(int port, const std::string& channel, const std::string& tag, int count,
                 int receivers) {
  Client pub(port, false);
  int wrong = 0;
  for (int i = 0; i < count; i += 250) {
    for (int j = i; j < i + 250 && j < count; ++j)
      pub.Send({"PUBLISH", channel, tag + ":" + std::to_string(j)});
    for (int j = i; j < i + 250 && j < count; ++j)
      if (!pub.Read().IsInt(receivers)) ++wrong;
  }
  return wrong;
}

struct Subscriber {
  std::unique_ptr<RawClient> conn;
  int resp;
  bool pattern;
};

// Reads `total` messages; true if each is well formed for the subscriber and every publisher's
// sequence numbers come in order, none missing.
bool ReadsInOrder(Subscriber& s, int total, int publishers) {
  std::vector<int> next(static_cast<size_t>(publishers), 0);
  for (int i = 0; i < total; ++i) {
    char type = 0;
    std::vector<std::string> parts = Parts(s.conn->ReadValue(), &type);
    if (type != (s.resp == 3 ? '>' : '*')) return false;
    std::vector<std::string> want_head = s.pattern
                                             ? std::vector<std::string>{"pmessage", "b*st", "burst"}
                                             : std::vector<std::string>{"message", "burst"};
    if (parts.size() != want_head.size() + 1) return false;
    for (size_t k = 0; k < want_head.size(); ++k)
      if (parts[k] != want_head[k]) return false;
    const std::string& body = parts.back();
    size_t p = static_cast<size_t>(body[0] - 'a');
    if (p >= next.size() || body != std::string(1, body[0]) + ":" + std::to_string(next[p]))
      return false;
    ++next[p];
  }
  return true;
}

}  // namespace

TEST_CASE("pubsub fan-out: bursts of two publishers reach every thread complete, each in order") {
  constexpr int kMessages = 5000;  // per publisher
  ServerProcess p({"--threads", "4"});
  // Connections are spread over the threads in turn: the subscribers sit on all four, the
  // publishers on two of them, so messages go both to the publisher's own thread and across.
  std::vector<Subscriber> subs;
  for (int i = 0; i < 8; ++i) {
    Subscriber s{std::make_unique<RawClient>(p.port()), i % 2 == 0 ? 2 : 3, i >= 6};
    if (s.resp == 3) s.conn->Command({"HELLO", "3"});
    std::string reply = s.pattern ? s.conn->Command({"PSUBSCRIBE", "b*st"})
                                  : s.conn->Command({"SUBSCRIBE", "burst"});
    REQUIRE(reply.find("subscribe") != std::string::npos);
    subs.push_back(std::move(s));
  }
  int wrong_a = -1, wrong_b = -1;
  std::thread a([&] { wrong_a = PublishBurst(p.port(), "burst", "a", kMessages, 8); });
  std::thread b([&] { wrong_b = PublishBurst(p.port(), "burst", "b", kMessages, 8); });
  std::vector<int> complete;
  for (Subscriber& s : subs) complete.push_back(ReadsInOrder(s, 2 * kMessages, 2) ? 1 : 0);
  a.join();
  b.join();
  CHECK(wrong_a == 0);
  CHECK(wrong_b == 0);
  CHECK(complete == std::vector<int>(8, 1));
  // Nothing more than the bursts arrived.
  for (Subscriber& s : subs) CHECK(s.conn->ReadValue(100).empty());
}

TEST_CASE("pubsub fan-out: the hard limit cuts non-readers on two threads, readers get all") {
  ServerProcess p({"--threads", "3", "--client-output-buffer-limit", "pubsub 256kb 0 0"});
  // Three threads: reader, non-reader, reader, non-reader, publisher: each thread has some.
  std::vector<std::unique_ptr<RawClient>> conns;
  for (int i = 0; i < 4; ++i) {
    conns.push_back(std::make_unique<RawClient>(p.port()));
    if (i == 2) conns.back()->Command({"HELLO", "3"});
    conns.back()->Command({"SUBSCRIBE", "c"});
  }
  Client pub(p.port(), false);
  const std::string payload(2000, 'x');
  // 200 chunks of 50 pipelined PUBLISHes: 20 MB for each subscriber, more than the kernel's
  // socket buffers can hide; a reader has at most one chunk (100 KB) waiting at any time.
  int received[2] = {0, 0};
  long long last_reply = -1;
  for (int chunk = 0; chunk < 200; ++chunk) {
    for (int i = 0; i < 50; ++i) pub.Send({"PUBLISH", "c", std::to_string(chunk * 50 + i) + payload});
    for (int i = 0; i < 50; ++i) last_reply = pub.Read().integer;
    for (int r = 0; r < 2; ++r) {
      char type = 0;
      for (int i = 0; i < 50; ++i) {
        std::vector<std::string> parts = Parts(conns[r * 2]->ReadValue(), &type);
        if (parts.size() == 3 && parts[2] == std::to_string(chunk * 50 + i) + payload &&
            type == (r == 0 ? '*' : '>'))
          ++received[r];
      }
    }
  }
  CHECK(received[0] == 10000);
  CHECK(received[1] == 10000);
  CHECK(last_reply == 2);
  CHECK(pub.Run({"PUBSUB", "NUMSUB", "c"}).Dump() == "[c, :2]");
  CHECK(conns[1]->Closed(5000));
  CHECK(conns[3]->Closed(5000));
}

TEST_CASE("pubsub fan-out: the soft limit cuts a non-reader after its time, omem shows it") {
  ServerProcess p({"--threads", "2", "--client-output-buffer-limit", "pubsub 0 128kb 2"});
  RawClient reader(p.port()), slow(p.port());
  slow.Command({"CLIENT", "SETNAME", "slow"});
  reader.Command({"SUBSCRIBE", "c"});
  slow.Command({"SUBSCRIBE", "c"});
  Client pub(p.port(), false);
  const std::string payload(2000, 'x');
  auto slow_omem = [&] {
    std::string list = pub.Run({"CLIENT", "LIST"}).str;
    size_t line = list.find("name=slow ");
    if (line == std::string::npos) return -1LL;
    size_t at = list.find(" omem=", line);
    return std::stoll(list.substr(at + 6));
  };
  auto started = std::chrono::steady_clock::now();
  bool seen_over = false, still_subscribed_then = false, cut = false;
  std::chrono::steady_clock::time_point over_at;
  int received = 0, sent = 0;
  while (!cut && std::chrono::steady_clock::now() - started < std::chrono::seconds(30)) {
    for (int i = 0; i < 50; ++i) pub.Send({"PUBLISH", "c", std::to_string(sent + i) + payload});
    for (int i = 0; i < 50; ++i) pub.Read();
    for (int i = 0; i < 50; ++i) {
      char type = 0;
      std::vector<std::string> parts = Parts(reader.ReadValue(), &type);
      if (parts.size() == 3 && parts[2] == std::to_string(sent + i) + payload) ++received;
    }
    sent += 50;
    if (!seen_over && slow_omem() > 128 * 1024) {
      seen_over = true;
      over_at = std::chrono::steady_clock::now();
      still_subscribed_then = pub.Run({"PUBSUB", "NUMSUB", "c"}).Dump() == "[c, :2]";
    }
    cut = pub.Run({"PUBSUB", "NUMSUB", "c"}).Dump() == "[c, :1]";
  }
  CHECK(seen_over);
  CHECK(still_subscribed_then);
  CHECK(cut);
  CHECK(std::chrono::steady_clock::now() - over_at > std::chrono::seconds(1));
  CHECK(received == sent);
  CHECK(slow.Closed(5000));
}

TEST_CASE("pubsub fan-out: a message waits, like a reply, until the log is durable") {
  ServerProcess p({"--appendfsync", "always", "--save", "", "--checkpoint-interval", "0",
                   "--notify-keyspace-events", "K$", "--threads", "2"});
  RawClient sub(p.port()), sub2(p.port());  // one on each thread
  sub.Command({"SUBSCRIBE", "__keyspace@0__:k"});
  sub2.Command({"SUBSCRIBE", "__keyspace@0__:k"});
  Client admin(p.port());
  CHECK(admin.Run({"SET", "k", "old"}) == "OK");
  CHECK(sub.ReadValue() == "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n");
  CHECK(sub2.ReadValue() == "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n");
  // With fsyncs failing nothing becomes durable: the event of the next SET tells of a write a
  // crash could take back, so no subscriber may see it yet.
  CHECK(admin.Run({"DEBUG", "WAL-FAULT", "EIO", "FSYNC"}) == "OK");
  RawClient writer(p.port());
  writer.Write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nnew\r\n");
  CHECK(sub.ReadValue(1000).empty());
  CHECK(sub2.ReadValue(100).empty());
  CHECK(admin.Run({"DEBUG", "WAL-FAULT", "OFF"}) == "OK");
  CHECK(sub.ReadValue(10000) == "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n");
  CHECK(sub2.ReadValue(10000) == "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n");
}
