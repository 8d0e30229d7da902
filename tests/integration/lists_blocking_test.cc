// Integration tests of the blocking list commands (BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH)
// against the real server: pops woken by pushes from other connections spread over the
// event-loop threads, FIFO service among several blocked clients, timeouts in RESP2 and RESP3,
// BLMOVE writing its destination (and waking its waiters), CLIENT UNBLOCK, disconnects, MULTI,
// and what a served blocking pop leaves in the log. Named "lists-blocking: ...".
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/keyspace.h"
#include "fixture.h"

namespace runnel::test {
TEST_CASE("lists-blocking: BLPOP clients on every thread are woken by RPUSH, in FIFO order") {
  Client w;
  std::vector<std::unique_ptr<Client>> readers;
  for (int i = 0; i < 6; ++i) {  // several connections, so several event-loop threads
    readers.push_back(Connect());
    SendNow(*readers.back(), {"BLPOP", "nothing", "q", "5"});
    REQUIRE(WaitBlocked(w, i + 1));  // so the order they blocked in is known
  }
  auto start = Clock::now();
  CHECK(w.Run({"RPUSH", "q", "a", "b", "c", "d", "e", "f", "g"}).IsInt(7));
  const char* expect[] = {"a", "b", "c", "d", "e", "f"};
  for (int i = 0; i < 6; ++i)
    CHECK(readers[i]->Read().Dump() == std::string("[q, ") + expect[i] + "]");
  CHECK(MsSince(start) < 4000);
  CHECK(WaitBlocked(w, 0));
  CHECK(w.Run({"LRANGE", "q", "0", "-1"}).Dump() == "[g]");
}

TEST_CASE("lists-blocking: one push serves one waiter; the others keep waiting in order") {
  Client w;
  std::vector<std::unique_ptr<Client>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(Connect());
    SendNow(*readers.back(), {"BRPOP", "q", "0"});
    REQUIRE(WaitBlocked(w, i + 1));
  }
  for (int i = 0; i < 3; ++i) {
    std::string v = "v" + std::to_string(i);
    CHECK(w.Run({"LPUSH", "q", v}).IsInt(1));
    CHECK(readers[i]->Read().Dump() == "[q, " + v + "]");
    CHECK(WaitBlocked(w, 2 - i));
    CHECK(w.Run({"EXISTS", "q"}).IsInt(0));  // popped by the waiter: deleted
  }
}

TEST_CASE("lists-blocking: BLMPOP with COUNT, and BLPOP serving the first non-empty key") {
  Client w;
  CHECK(w.Run({"RPUSH", "b", "1"}).IsInt(1));
  CHECK(w.Run({"BLPOP", "a", "b", "0"}).Dump() == "[b, 1]");
  auto r = Connect();
  SendNow(*r, {"BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"RPUSH", "b", "x", "y", "z"}).IsInt(3));
  CHECK(r->Read().Dump() == "[b, [z, y]]");
  CHECK(w.Run({"LRANGE", "b", "0", "-1"}).Dump() == "[x]");
  CHECK(w.Run({"BLMPOP", "0", "1", "b", "LEFT", "COUNT", "5"}).Dump() == "[b, [x]]");
}

TEST_CASE("lists-blocking: timeouts reply a null array in RESP2 and a null in RESP3") {
  Client w;
  auto start = Clock::now();
  CHECK(w.Run({"BLPOP", "q", "0.15"}).IsNil());
  CHECK(MsSince(start) >= 140);
  CHECK(w.Run({"BRPOPLPUSH", "q", "d", "0.05"}).IsNil());
  CHECK(w.Run({"BLMPOP", "0.05", "1", "q", "LEFT"}).IsNil());
  RawClient r2, r3;
  CHECK(r2.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(r2.Command({"BLPOP", "q", "0.05"}) == "*-1\r\n");
  CHECK(r2.Command({"BLMOVE", "q", "d", "LEFT", "LEFT", "0.05"}) == "*-1\r\n");
  REQUIRE(r3.Command({"HELLO", "3"}).starts_with("%"));
  CHECK(r3.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(r3.Command({"BRPOP", "q", "0.05"}) == "_\r\n");
  CHECK(r3.Command({"BLMPOP", "0.05", "1", "q", "LEFT"}) == "_\r\n");
  r3.Write("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n5\r\n");
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"RPUSH", "q", "v"}).IsInt(1));
  CHECK(r3.ReadValue() == "*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
}

TEST_CASE("lists-blocking: timeout argument errors") {
  Client c;
  const char* kNotFloat = "!ERR timeout is not a float or out of range";
  const char* kNegative = "!ERR timeout is negative";
  CHECK(c.Run({"BLPOP", "q", "x"}).Dump() == kNotFloat);
  CHECK(c.Run({"BLPOP", "q", "nan"}).Dump() == kNotFloat);
  CHECK(c.Run({"BLPOP", "q", " 1"}).Dump() == kNotFloat);
  CHECK(c.Run({"BLPOP", "q", "1 "}).Dump() == kNotFloat);
  CHECK(c.Run({"BLPOP", "q", ""}).Dump() == kNotFloat);
  CHECK(c.Run({"BLPOP", "q", "-1"}).Dump() == kNegative);
  CHECK(c.Run({"BRPOP", "q", "-0.5"}).Dump() == kNegative);
  CHECK(c.Run({"BLPOP", "q", "inf"}).Dump() == kNegative);  // what Redis 7.0 says
  CHECK(c.Run({"BLPOP", "q", "1e20"}).Dump() == kNegative);
  CHECK(c.Run({"BLMOVE", "q", "d", "LEFT", "LEFT", "x"}).Dump() == kNotFloat);
  CHECK(c.Run({"BLMOVE", "q", "d", "UP", "LEFT", "x"}).Dump() == "!ERR syntax error");
  CHECK(c.Run({"BRPOPLPUSH", "q", "d", "-1"}).Dump() == kNegative);
  CHECK(c.Run({"BLMPOP", "x", "1", "q", "LEFT"}).Dump() == kNotFloat);
  CHECK(c.Run({"BLMPOP", "x", "1", "q", "UP"}).Dump() == "!ERR syntax error");
  CHECK(c.Run({"BLMPOP", "0", "0", "q", "LEFT"}).Dump() == "!ERR numkeys should be greater than 0");
  CHECK(c.Run({"BLMPOP", "0", "1", "q", "LEFT", "COUNT", "0"}).Dump() ==
        "!ERR count should be greater than 0");
  CHECK(c.Run({"BLPOP", "q", "1e-9"}).IsNil());      // rounds up to 1 ms
  CHECK(c.Run({"BLPOP", "q", "0x0.1p-3"}).IsNil());  // hex floats parse, as in Redis
}

TEST_CASE("lists-blocking: a served BLMOVE writes its destination and wakes its waiters") {
  Client w;
  REQUIRE(engine::Keyspace::ShardOf("src") != engine::Keyspace::ShardOf("dst"));
  auto mover = Connect();
  auto popper = Connect();
  SendNow(*popper, {"BLPOP", "dst", "5"});
  REQUIRE(WaitBlocked(w, 1));
  SendNow(*mover, {"BLMOVE", "src", "dst", "RIGHT", "LEFT", "5"});
  REQUIRE(WaitBlocked(w, 2));
  CHECK(w.Run({"RPUSH", "src", "a", "b"}).IsInt(2));
  CHECK(mover->Read() == "b");
  CHECK(popper->Read().Dump() == "[dst, b]");  // the move woke the client blocked on dst
  CHECK(w.Run({"LRANGE", "src", "0", "-1"}).Dump() == "[a]");
  CHECK(w.Run({"EXISTS", "dst"}).IsInt(0));
  SendNow(*mover, {"BRPOPLPUSH", "empty", "dst", "0"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"RPUSH", "empty", "x", "y"}).IsInt(2));
  CHECK(mover->Read() == "y");
  CHECK(w.Run({"LRANGE", "dst", "0", "-1"}).Dump() == "[y]");
  CHECK(w.Run({"LRANGE", "empty", "0", "-1"}).Dump() == "[x]");
}

TEST_CASE("lists-blocking: a key that becomes another type keeps waiters waiting") {
  Client w;
  auto r = Connect();
  SendNow(*r, {"BLPOP", "k", "5"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"SET", "k", "string"}) == "OK");
  SleepMs(50);
  CHECK(WaitBlocked(w, 1));
  CHECK(w.Run({"DEL", "k"}).IsInt(1));
  CHECK(w.Run({"RPUSH", "k", "v"}).IsInt(1));
  CHECK(r->Read().Dump() == "[k, v]");
  // A destination of another type fails the served BLMOVE, and nothing is popped.
  CHECK(w.Run({"SET", "d", "string"}) == "OK");
  SendNow(*r, {"BLMOVE", "k", "d", "LEFT", "LEFT", "5"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"RPUSH", "k", "v2"}).IsInt(1));
  CHECK(r->Read().IsError("WRONGTYPE Operation against a key holding the wrong kind of value"));
  CHECK(w.Run({"LRANGE", "k", "0", "-1"}).Dump() == "[v2]");
}

TEST_CASE("lists-blocking: CLIENT UNBLOCK with TIMEOUT or ERROR") {
  Client w;
  auto r = Connect();
  long long id = r->Run({"CLIENT", "ID"}).integer;
  SendNow(*r, {"BLPOP", "q", "0"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"CLIENT", "UNBLOCK", std::to_string(id)}).IsInt(1));
  CHECK(r->Read().IsNil());
  CHECK(w.Run({"CLIENT", "UNBLOCK", std::to_string(id)}).IsInt(0));
  SendNow(*r, {"BLMOVE", "q", "d", "LEFT", "LEFT", "0"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"CLIENT", "UNBLOCK", std::to_string(id), "ERROR"}).IsInt(1));
  CHECK(r->Read().IsError("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  CHECK(w.Run({"RPUSH", "q", "v"}).IsInt(1));  // nobody waits any more
  CHECK(w.Run({"LLEN", "q"}).IsInt(1));
  CHECK(r->Run({"PING"}) == "PONG");
}

TEST_CASE("lists-blocking: a client that disconnects while blocked takes nothing") {
  Client w;
  {
    auto a = Connect();
    auto b = Connect();
    SendNow(*a, {"BLPOP", "q", "0"});
    SendNow(*b, {"BLMOVE", "q", "d", "LEFT", "LEFT", "0"});
    REQUIRE(WaitBlocked(w, 2));
  }  // both disconnect
  CHECK(WaitBlocked(w, 0));
  CHECK(w.Run({"RPUSH", "q", "v"}).IsInt(1));
  CHECK(w.Run({"LRANGE", "q", "0", "-1"}).Dump() == "[v]");
  CHECK(w.Run({"EXISTS", "d"}).IsInt(0));
}

TEST_CASE("lists-blocking: BLPOP inside MULTI returns null at once") {
  Client c;
  auto start = Clock::now();
  CHECK(c.Run({"MULTI"}) == "OK");
  CHECK(c.Run({"BLPOP", "q", "0"}) == "QUEUED");
  CHECK(c.Run({"BLMPOP", "0", "1", "q", "LEFT"}) == "QUEUED");
  CHECK(c.Run({"RPUSH", "q", "v"}) == "QUEUED");
  CHECK(c.Run({"BRPOP", "q", "0"}) == "QUEUED");
  CHECK(c.Run({"EXEC"}).Dump() == "[(nil), (nil), :1, [q, v]]");
  CHECK(MsSince(start) < 2000);
  RawClient r;
  CHECK(r.Command({"SELECT", "9"}) == "+OK\r\n");
  CHECK(r.Command({"MULTI"}) == "+OK\r\n");
  CHECK(r.Command({"BLMOVE", "q", "d", "LEFT", "LEFT", "0"}) == "+QUEUED\r\n");
  CHECK(r.Command({"BRPOPLPUSH", "q", "d", "0"}) == "+QUEUED\r\n");
  CHECK(r.Command({"BLPOP", "q", "0"}) == "+QUEUED\r\n");
  CHECK(r.Command({"EXEC"}) == "*3\r\n$-1\r\n$-1\r\n*-1\r\n");  // as Redis 7.0
  CHECK(WaitBlocked(c, 0));
}

TEST_CASE("lists-blocking: a push inside MULTI wakes a waiter after EXEC") {
  Client w;
  auto r = Connect();
  SendNow(*r, {"BLPOP", "q", "5"});
  REQUIRE(WaitBlocked(w, 1));
  CHECK(w.Run({"MULTI"}) == "OK");
  CHECK(w.Run({"RPUSH", "q", "a"}) == "QUEUED");
  CHECK(w.Run({"RPUSH", "q", "b"}) == "QUEUED");
  CHECK(w.Run({"EXEC"}).Dump() == "[:1, :2]");
  CHECK(r->Read().Dump() == "[q, a]");
  CHECK(w.Run({"LRANGE", "q", "0", "-1"}).Dump() == "[b]");
}

TEST_CASE("lists-blocking: served blocking pops and moves replay after kill -9") {
  ServerProcess p({"--appendfsync", "always"});
  REQUIRE(engine::Keyspace::ShardOf("src") != engine::Keyspace::ShardOf("dst"));
  {
    auto writer = Connect(p.port());
    Client& w = *writer;
    auto popper = Connect(p.port());
    auto mover = Connect(p.port());
    auto mpopper = Connect(p.port());
    SendNow(*popper, {"BRPOP", "q", "0"});
    SendNow(*mover, {"BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"});
    SendNow(*mpopper, {"BLMPOP", "0", "1", "m", "LEFT", "COUNT", "2"});
    auto near = Connect(p.port());  // a move within one shard logs itself
    SendNow(*near, {"BLMOVE", "{s}a", "{s}b", "RIGHT", "LEFT", "0"});
    REQUIRE(WaitBlocked(w, 4));
    CHECK(w.Run({"RPUSH", "{s}a", "1", "2"}).IsInt(2));
    CHECK(near->Read() == "2");
    CHECK(w.Run({"RPUSH", "q", "1", "2"}).IsInt(2));
    CHECK(w.Run({"RPUSH", "src", "a", "b"}).IsInt(2));
    CHECK(w.Run({"RPUSH", "m", "x", "y", "z"}).IsInt(3));
    CHECK(popper->Read().Dump() == "[q, 2]");
    CHECK(mover->Read() == "a");
    CHECK(mpopper->Read().Dump() == "[m, [x, y]]");
  }
  p.Stop(9);
  ServerProcess q({"--dir", p.dir()});
  auto reader = Connect(q.port());
  Client& c = *reader;
  CHECK(c.Run({"LRANGE", "q", "0", "-1"}).Dump() == "[1]");
  CHECK(c.Run({"LRANGE", "src", "0", "-1"}).Dump() == "[b]");
  CHECK(c.Run({"LRANGE", "dst", "0", "-1"}).Dump() == "[a]");
  CHECK(c.Run({"LRANGE", "m", "0", "-1"}).Dump() == "[z]");
  CHECK(c.Run({"LRANGE", "{s}a", "0", "-1"}).Dump() == "[1]");
  CHECK(c.Run({"LRANGE", "{s}b", "0", "-1"}).Dump() == "[2]");
}

}  // namespace runnel::test
