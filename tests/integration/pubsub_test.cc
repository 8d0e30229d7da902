// Pub/Sub: subscriptions, RESP2 subscriber mode and RESP3 pushes, delivery across threads in
// publish order, PUBSUB introspection, and the pubsub output-buffer limit.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

using runnel::test::Client;
using runnel::test::RawClient;
using runnel::test::Reply;
using runnel::test::ServerProcess;
using runnel::test::SharedServer;

namespace {

std::string Msg(std::initializer_list<std::string_view> parts, char type = '*') {
  std::string out = type + std::to_string(parts.size()) + "\r\n";
  for (auto p : parts) out += "$" + std::to_string(p.size()) + "\r\n" + std::string(p) + "\r\n";
  return out;
}

}  // namespace

TEST_CASE("pubsub: subscribe, publish, unsubscribe in RESP2") {
  RawClient sub;
  CHECK(sub.Command({"SUBSCRIBE", "news", "sports"}) == "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
  CHECK(sub.ReadValue() == "*3\r\n$9\r\nsubscribe\r\n$6\r\nsports\r\n:2\r\n");
  CHECK(sub.Command({"PSUBSCRIBE", "n*"}) == "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n");
  Client pub;
  CHECK(pub.Run({"PUBLISH", "news", "hello"}).IsInt(2));  // the channel and the pattern
  CHECK(pub.Run({"PUBLISH", "nothing-here", "x"}).IsInt(1));
  CHECK(pub.Run({"PUBLISH", "other", "x"}).IsInt(0));
  CHECK(sub.ReadValue() == Msg({"message", "news", "hello"}));
  CHECK(sub.ReadValue() == Msg({"pmessage", "n*", "news", "hello"}));
  CHECK(sub.ReadValue() == Msg({"pmessage", "n*", "nothing-here", "x"}));
  CHECK(sub.Command({"GET", "k"}) ==
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
        "are allowed in this context\r\n");
  CHECK(sub.Command({"PING"}) == "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  CHECK(pub.Run({"PUBSUB", "NUMSUB", "news", "none"}).Dump() == "[news, :1, none, :0]");
  CHECK(pub.Run({"PUBSUB", "NUMPAT"}).IsInt(1));
  CHECK(sub.Command({"UNSUBSCRIBE"}) == "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:2\r\n");
  CHECK(sub.ReadValue() == "*3\r\n$11\r\nunsubscribe\r\n$6\r\nsports\r\n:1\r\n");
  CHECK(sub.Command({"PUNSUBSCRIBE"}) == "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n");
  CHECK(sub.Command({"UNSUBSCRIBE"}) == "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  CHECK(sub.Command({"PING"}) == "+PONG\r\n");  // out of subscriber mode
}

TEST_CASE("pubsub: RESP3 pushes next to ordinary replies, shard channels") {
  RawClient sub;
  sub.Command({"HELLO", "3"});
  CHECK(sub.Command({"SSUBSCRIBE", "s1"}) == ">3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n");
  CHECK(sub.Command({"SUBSCRIBE", "c1"}) == ">3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:1\r\n");
  CHECK(sub.Command({"GET", "nokey"}) == "_\r\n");  // RESP3 clients may run anything
  Client pub;
  CHECK(pub.Run({"SPUBLISH", "s1", "hi"}).IsInt(1));
  CHECK(pub.Run({"PUBLISH", "s1", "not-shard"}).IsInt(0));
  CHECK(sub.ReadValue() == Msg({"smessage", "s1", "hi"}, '>'));
  CHECK(pub.Run({"PUBSUB", "SHARDCHANNELS"}).Dump() == "[s1]");
  CHECK(pub.Run({"PUBSUB", "SHARDNUMSUB", "s1"}).Dump() == "[s1, :1]");
  CHECK(pub.Run({"PUBSUB", "CHANNELS", "c*"}).Dump() == "[c1]");
}

TEST_CASE("pubsub: a subscriber per thread gets every message of a burst, in order") {
  constexpr int kSubscribers = 4, kMessages = 20000;
  std::vector<std::unique_ptr<RawClient>> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(std::make_unique<RawClient>());
    subs.back()->Command({"SUBSCRIBE", "burst"});
  }
  std::thread publisher([] {
    Client pub;
    for (int i = 0; i < kMessages; i += 1000) {
      for (int j = i; j < i + 1000; ++j) pub.Send({"PUBLISH", "burst", std::to_string(j)});
      for (int j = i; j < i + 1000; ++j) pub.Read();
    }
  });
  std::vector<int> in_order(kSubscribers, 0);
  for (int s = 0; s < kSubscribers; ++s) {
    for (int i = 0; i < kMessages; ++i) {
      if (subs[s]->ReadValue() != Msg({"message", "burst", std::to_string(i)})) break;
      ++in_order[s];
    }
  }
  publisher.join();
  for (int s = 0; s < kSubscribers; ++s) CHECK(in_order[s] == kMessages);
}

TEST_CASE("pubsub: a slow subscriber is cut off at the pubsub limit, the others go on") {
  ServerProcess p({"--client-output-buffer-limit", "pubsub 256kb 0 0"});
  RawClient slow(p.port()), fast(p.port());
  slow.Command({"SUBSCRIBE", "c"});
  fast.Command({"SUBSCRIBE", "c"});
  Client pub(p.port(), false);
  std::string payload(20000, 'x');
  int received = 0;
  // 20 MB: more than the kernel's socket buffers can hide.
  for (int i = 0; i < 1000; ++i) {
    pub.Run({"PUBLISH", "c", payload});
    if (fast.ReadValue() == Msg({"message", "c", payload})) ++received;  // slow never reads
  }
  CHECK(received == 1000);
  CHECK(pub.Run({"PUBSUB", "NUMSUB", "c"}).Dump() == "[c, :1]");
  CHECK(slow.Closed(5000));
}

TEST_CASE("pubsub: disconnecting and RESET drop subscriptions") {
  Client pub;
  {
    RawClient sub;
    sub.Command({"SUBSCRIBE", "gone"});
    CHECK(pub.Run({"PUBSUB", "NUMSUB", "gone"}).Dump() == "[gone, :1]");
  }
  for (int i = 0; i < 100 && pub.Run({"PUBSUB", "NUMSUB", "gone"}).Dump() != "[gone, :0]"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(pub.Run({"PUBSUB", "NUMSUB", "gone"}).Dump() == "[gone, :0]");
  RawClient sub;
  sub.Command({"PSUBSCRIBE", "r*"});
  CHECK(sub.Command({"RESET"}) == "+RESET\r\n");
  CHECK(pub.Run({"PUBSUB", "NUMPAT"}).IsInt(0));
  CHECK(pub.Run({"PUBLISH", "rx", "m"}).IsInt(0));
}
