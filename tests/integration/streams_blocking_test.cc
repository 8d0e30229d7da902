// Integration tests of blocking stream reads (XREAD / XREADGROUP with BLOCK) against the real
// server: readers and writers on different connections (spread over the event-loop threads),
// timeouts in RESP2 and RESP3, deletion of the stream or group while blocked, FIFO service,
// CLIENT UNBLOCK, and disconnects. Named "streams-blocking: ..." so they can run separately.
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fixture.h"

namespace runnel::test {
TEST_CASE("streams-blocking: XREAD BLOCK is woken by XADD from another connection") {
  Client w;
  CHECK(w.Run({"XADD", "s", "1-0", "f", "old"}) == "1-0");
  std::vector<std::unique_ptr<Client>> readers;
  for (int i = 0; i < 6; ++i) {  // several connections, so several event-loop threads
    readers.push_back(Connect());
    SendNow(*readers.back(), {"XREAD", "BLOCK", "5000", "STREAMS", "s", "$"});
  }
  REQUIRE(WaitBlocked(w, 6));
  auto start = Clock::now();
  CHECK(w.Run({"XADD", "s", "2-0", "f", "new"}) == "2-0");
  for (auto& r : readers) CHECK(r->Read().Dump() == "[[s, [[2-0, [f, new]]]]]");
  CHECK(MsSince(start) < 4000);
  CHECK(WaitBlocked(w, 0));
}

TEST_CASE("streams-blocking: BLOCK 0 waits until an entry arrives, on any of the keys") {
  Client w;
  CHECK(w.Run({"XADD", "a", "1-0", "f", "v"}) == "1-0");
  auto r = Connect();
  SendNow(*r, {"XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "a", "b", "$", "$"});
  REQUIRE(WaitBlocked(w, 1));
  SleepMs(300);
  CHECK(w.Run({"XADD", "b", "7-0", "g", "w"}) == "7-0");
  CHECK(r->Read().Dump() == "[[b, [[7-0, [g, w]]]]]");
}

TEST_CASE("streams-blocking: timeouts reply a null array in RESP2 and a null in RESP3") {
  Client w;
  CHECK(w.Run({"XADD", "s", "1-0", "f", "v"}) == "1-0");
  CHECK(w.Run({"XGROUP", "CREATE", "s", "g", "$"}) == "OK");
  auto start = Clock::now();
  CHECK(w.Run({"XREAD", "BLOCK", "150", "STREAMS", "s", "$"}).IsNil());
  CHECK(MsSince(start) >= 140);
  start = Clock::now();
  CHECK(w.Run({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "150", "STREAMS", "s", ">"}).IsNil());
  CHECK(MsSince(start) >= 140);
  RawClient r2, r3;
  CHECK(r2.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(r2.Command({"XREAD", "BLOCK", "100", "STREAMS", "s", "$"}) == "*-1\r\n");
  REQUIRE(r3.Command({"HELLO", "3"}).starts_with("%"));
  CHECK(r3.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(r3.Command({"XREAD", "BLOCK", "100", "STREAMS", "s", "$"}) == "_\r\n");
  CHECK(r3.Command({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "100", "STREAMS", "s", ">"}) ==
        "_\r\n");
  // A reply that comes after blocking is a RESP3 map.
  r3.Write(
      "*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$4\r\n5000\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n$\r\n");
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"XADD", "s", "2-0", "f", "v2"}) == "2-0");
  CHECK(r3.ReadValue() ==
        "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$2\r\nv2\r\n");
}

TEST_CASE("streams-blocking: XREADGROUP BLOCK delivers into the consumer's PEL") {
  Client w;
  CHECK(w.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}) == "OK");
  auto r = Connect();
  SendNow(*r, {"XREADGROUP", "GROUP", "g", "alice", "BLOCK", "5000", "STREAMS", "s", ">"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"XADD", "s", "1-0", "f", "v"}) == "1-0");
  CHECK(r->Read().Dump() == "[[s, [[1-0, [f, v]]]]]");
  CHECK(w.Run({"XPENDING", "s", "g"}).Dump() == "[:1, 1-0, 1-0, [[alice, 1]]]");
  CHECK(w.Run({"XINFO", "GROUPS", "s"})[0][7] == "1-0");
}

TEST_CASE("streams-blocking: blocked clients are served in the order they blocked") {
  Client w;
  CHECK(w.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}) == "OK");
  std::vector<std::unique_ptr<Client>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(Connect());
    SendNow(*readers.back(), {"XREADGROUP", "GROUP", "g", "c" + std::to_string(i), "COUNT", "1",
                              "BLOCK", "5000", "STREAMS", "s", ">"});
    REQUIRE(WaitBlocked(w, i + 1));
  }
  for (int i = 0; i < 3; ++i) {
    std::string id = std::to_string(i + 1) + "-0";
    CHECK(w.Run({"XADD", "s", id, "f", "v"}) == id);
    CHECK(readers[i]->Read().Dump() == "[[s, [[" + id + ", [f, v]]]]]");
    CHECK(WaitBlocked(w, 2 - i));  // the others still wait
  }
  Reply p = w.Run({"XPENDING", "s", "g", "-", "+", "10"});
  REQUIRE(p.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(p[i][1] == "c" + std::to_string(i));
}

TEST_CASE("streams-blocking: deleting the stream or its group fails a blocked XREADGROUP") {
  Client w;
  CHECK(w.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}) == "OK");
  auto r = Connect();
  SendNow(*r, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"DEL", "s"}).IsInt(1));
  CHECK(r->Read().IsError("UNBLOCKED the stream key no longer exists"));

  CHECK(w.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}) == "OK");
  SendNow(*r, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"XGROUP", "DESTROY", "s", "g"}).IsInt(1));
  CHECK(
      r->Read().IsError("NOGROUP the consumer group this client was blocked on no longer exists"));

  CHECK(w.Run({"XGROUP", "CREATE", "s", "g", "$"}) == "OK");
  SendNow(*r, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "5000", "STREAMS", "s", ">"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"SET", "s", "now a string"}) == "OK");
  CHECK(r->Read().IsError("UNBLOCKED the stream key no longer exists"));
}

TEST_CASE("streams-blocking: a blocked XREAD outlives its key and keeps its $ position") {
  Client w;
  CHECK(w.Run({"XADD", "s", "5-0", "f", "v"}) == "5-0");
  auto r = Connect();
  SendNow(*r, {"XREAD", "BLOCK", "5000", "STREAMS", "s", "$"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"DEL", "s"}).IsInt(1));
  CHECK(w.Run({"XADD", "s", "3-0", "f", "v"}) == "3-0");  // before the position: not served
  SleepMs(100);
  CHECK(WaitBlocked(w, 1));
  CHECK(w.Run({"XADD", "s", "6-0", "f", "v6"}) == "6-0");
  CHECK(r->Read().Dump() == "[[s, [[6-0, [f, v6]]]]]");
}

TEST_CASE("streams-blocking: CLIENT UNBLOCK with TIMEOUT or ERROR") {
  Client w;
  CHECK(w.Run({"XADD", "s", "1-0", "f", "v"}) == "1-0");
  auto r = Connect();
  long long id = r->Run({"CLIENT", "ID"}).integer;
  SendNow(*r, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"CLIENT", "UNBLOCK", std::to_string(id)}).IsInt(1));
  CHECK(r->Read().IsNil());
  CHECK(w.Run({"CLIENT", "UNBLOCK", std::to_string(id)}).IsInt(0));  // not blocked now
  SendNow(*r, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"CLIENT", "UNBLOCK", std::to_string(id), "ERROR"}).IsInt(1));
  CHECK(r->Read().IsError("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  CHECK(r->Run({"PING"}) == "PONG");
}

TEST_CASE("streams-blocking: a client that disconnects while blocked leaves nothing behind") {
  Client w;
  CHECK(w.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}) == "OK");
  {
    auto a = Connect();
    auto b = Connect();
    SendNow(*a, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"});
    SendNow(*b, {"XREADGROUP", "GROUP", "g", "gone", "BLOCK", "0", "STREAMS", "s", ">"});
    REQUIRE(WaitBlocked(w, 2));
  }  // both disconnect
  CHECK(WaitBlocked(w, 0));
  CHECK(w.Run({"XADD", "s", "1-0", "f", "v"}) == "1-0");
  // Nobody was served: the entry is still new to the group, and no consumer was created.
  CHECK(w.Run({"XPENDING", "s", "g"}).Dump() == "[:0, (nil), (nil), (nil)]");
  CHECK(w.Run({"XINFO", "CONSUMERS", "s", "g"}).Dump() == "[]");
  CHECK(w.Run({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}).Dump() ==
        "[[s, [[1-0, [f, v]]]]]");
}

TEST_CASE("streams-blocking: a reader woken with nothing new for it keeps waiting") {
  Client w;
  CHECK(w.Run({"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}) == "OK");
  auto a = Connect();
  auto b = Connect();
  SendNow(*a,
          {"XREADGROUP", "GROUP", "g", "a", "COUNT", "10", "BLOCK", "5000", "STREAMS", "s", ">"});
  REQUIRE(WaitBlocked(w, 1));
  SendNow(*b,
          {"XREADGROUP", "GROUP", "g", "b", "COUNT", "10", "BLOCK", "5000", "STREAMS", "s", ">"});
  REQUIRE(WaitBlocked(w, 2));
  CHECK(w.Run({"XADD", "s", "1-0", "f", "v"}) == "1-0");
  CHECK(a->Read().Dump() == "[[s, [[1-0, [f, v]]]]]");  // a took it; b found nothing
  CHECK(WaitBlocked(w, 1));
  CHECK(w.Run({"XTRIM", "s", "MAXLEN", "0"}).IsInt(1));  // a write, but nothing to read
  SleepMs(50);
  CHECK(WaitBlocked(w, 1));
  CHECK(w.Run({"XADD", "s", "2-0", "f", "v"}) == "2-0");
  CHECK(b->Read().Dump() == "[[s, [[2-0, [f, v]]]]]");
}

}  // namespace runnel::test
