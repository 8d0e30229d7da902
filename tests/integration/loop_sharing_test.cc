// loop-sharing: the event loops running on one thread (loop 0's) while the machine's CPUs are
// busy, each connection staying on its loop. Clients are spread over the loops in turn as they
// connect, so with N loops any N consecutive connections include one on every loop.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

namespace runnel::test {
namespace {

std::string LoopThreads(Client& c) {
  return InfoField(c.Run({"INFO", "stats"}).str, "loop_threads");
}

// Waits (up to 5 s) until INFO says `n` threads run the loops.
bool WaitLoopThreads(Client& c, int n) {
  for (int i = 0; i < 250; ++i) {
    if (LoopThreads(c) == std::to_string(n)) return true;
    SleepMs(20);
  }
  return false;
}

// `clients` connections, each running `each` INCRs of its own key (n0, n1, ...), which holds
// `base` before; counts wrong replies.
void Incr(int port, int clients, int each, std::atomic<int>* wrong, int base = 0) {
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([=] {
      Client c(port);
      const std::string key = "n" + std::to_string(t);
      for (int i = 1; i <= each; ++i)
        if (!c.Run({"INCR", key}).IsInt(base + i)) ++*wrong;
    });
  }
  for (auto& t : threads) t.join();
}

TEST_CASE("loop-sharing: yes runs every loop on one thread, no gives each its own") {
  ServerProcess p({"--threads", "3", "--loop-sharing", "yes"});
  Client c(p.port());
  CHECK(c.Run({"CONFIG", "GET", "loop-sharing"}).Dump() == "[loop-sharing, yes]");
  CHECK(c.Run({"CONFIG", "SET", "loop-sharing", "sometimes"})
            .IsErrorPrefix("ERR CONFIG SET failed (possibly related to argument 'loop-sharing')"));
  REQUIRE(WaitLoopThreads(c, 1));
  std::atomic<int> wrong{0};
  Incr(p.port(), 6, 200, &wrong);
  CHECK(wrong.load() == 0);

  CHECK(c.Run({"CONFIG", "SET", "loop-sharing", "no"}) == "OK");
  REQUIRE(WaitLoopThreads(c, 3));
  Incr(p.port(), 6, 200, &wrong, 200);
  CHECK(wrong.load() == 0);
  CHECK(c.Run({"CONFIG", "SET", "loop-sharing", "yes"}) == "OK");
  CHECK(WaitLoopThreads(c, 1));
  // Every client got its own key's count, whichever thread ran its loop.
  for (int t = 0; t < 6; ++t) CHECK(c.Run({"GET", "n" + std::to_string(t)}) == "400");
}

// What a guest loop's connections rely on, run by its host: timers (a blocking timeout),
// wake-ups from the other loop, Pub/Sub both ways, and replies that wait for the log.
TEST_CASE("loop-sharing: a guest loop keeps its timers, wake-ups, Pub/Sub and durable replies") {
  ServerProcess p({"--threads", "2", "--loop-sharing", "yes", "--appendfsync", "always"});
  Client a(p.port());
  Client b(p.port());  // the other loop
  REQUIRE(WaitLoopThreads(a, 1));
  for (Client* c : {&a, &b}) {
    // Each reply waits for its fsync, which the host's pass makes for both loops (the log's
    // writer thread would take 50 ms to do it).
    auto start = Clock::now();
    for (int i = 1; i <= 60; ++i) REQUIRE(c->Run({"INCR", "alone"}).IsInt(i + (c == &a ? 0 : 60)));
    CHECK(MsSince(start) < 1500);
    start = Clock::now();
    CHECK(c->Run({"BLPOP", "nothing", "0.2"}).IsNil());
    const int64_t ms = MsSince(start);
    CHECK(ms >= 150);
    CHECK(ms < 1000);
  }
  for (auto [waiter, pusher] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    SendNow(*waiter, {"BLPOP", "queue", "5"});
    REQUIRE(WaitBlocked(*pusher, 1));
    CHECK(pusher->Run({"RPUSH", "queue", "x"}).IsInt(1));
    CHECK(waiter->Read().Dump() == "[queue, x]");
  }
  for (auto [sub, pub] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    CHECK(sub->Run({"SUBSCRIBE", "news"}).Dump() == "[subscribe, news, :1]");
    CHECK(pub->Run({"PUBLISH", "news", "hello"}).IsInt(1));
    CHECK(sub->Read().Dump() == "[message, news, hello]");
    CHECK(sub->Run({"UNSUBSCRIBE"}).Dump() == "[unsubscribe, news, :0]");
  }
  // A reply bigger than the socket takes, waiting for the log first: the host writes what fits
  // and the guest's loop the rest.
  const std::string big(8 << 20, 'v');
  for (Client* c : {&a, &b}) {
    c->Send({"SET", "big", big});
    c->Send({"GET", "big"});
    CHECK(c->Read() == "OK");
    CHECK(c->Read() == big);
  }
}

// Every acknowledged write of clients on both loops is in the log when the loops share a
// thread and one commit covers both loops' records.
TEST_CASE("loop-sharing: shared loops lose no acknowledged write to kill -9") {
  auto p = std::make_unique<ServerProcess>(std::vector<std::string>{
      "--threads", "2", "--loop-sharing", "yes", "--appendfsync", "always"});
  const std::string dir = p->dir();
  {
    Client c(p->port());
    REQUIRE(WaitLoopThreads(c, 1));
  }
  std::atomic<int> wrong{0};
  Incr(p->port(), 8, 300, &wrong);
  CHECK(wrong.load() == 0);
  CHECK(p->Stop(SIGKILL) != 0);
  ServerProcess again({"--dir", dir});
  Client c(again.port());
  for (int t = 0; t < 8; ++t) CHECK(c.Run({"GET", "n" + std::to_string(t)}) == "300");
}

// Switching back and forth under load: no reply lost, doubled or out of order.
TEST_CASE("loop-sharing: switching while clients write") {
  ServerProcess p({"--threads", "3", "--appendfsync", "always"});
  std::atomic<bool> done{false};
  std::thread switcher([&] {
    Client c(p.port());
    for (int i = 0; !done.load(); ++i) {
      c.Run({"CONFIG", "SET", "loop-sharing", i % 2 == 0 ? "yes" : "no"});
      SleepMs(5 + i % 7);
    }
  });
  std::atomic<int> wrong{0};
  Incr(p.port(), 9, 500, &wrong);
  done = true;
  switcher.join();
  CHECK(wrong.load() == 0);
  Client c(p.port());
  for (int t = 0; t < 9; ++t) CHECK(c.Run({"GET", "n" + std::to_string(t)}) == "500");
}

TEST_CASE("loop-sharing: the server shuts down while loops are shared") {
  for (const char* how : {"SHUTDOWN", "SIGTERM"}) {
    CAPTURE(how);
    ServerProcess p({"--threads", "3", "--loop-sharing", "yes", "--save", ""});
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 6; ++i) clients.push_back(std::make_unique<Client>(p.port()));
    REQUIRE(WaitLoopThreads(*clients[0], 1));
    for (auto& c : clients) CHECK(c->Run({"PING"}) == "PONG");
    if (std::string(how) == "SHUTDOWN") {
      SendNow(*clients[1], {"SHUTDOWN", "NOSAVE"});
      CHECK(p.Stop(0) == 0);  // signal 0: only waits for the exit
    } else {
      CHECK(p.Stop(SIGTERM) == 0);
    }
  }
}

// auto: the loops share a thread while other processes keep the CPUs busy. (Named although it
// is the default, for runs of the suite with RUNNEL_SERVER_ARGS.)
TEST_CASE("loop-sharing: auto shares the thread while the CPUs are busy elsewhere") {
  ServerProcess p({"--threads", "2", "--loop-sharing", "auto"});
  Client c(p.port());
  CHECK(c.Run({"CONFIG", "GET", "loop-sharing"}).Dump() == "[loop-sharing, auto]");
  std::atomic<bool> stop{false};
  std::vector<std::thread> burners;
  for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i) {
    burners.emplace_back([&] {
      volatile uint64_t x = 0;
      while (!stop.load(std::memory_order_relaxed)) x = x + 1;
    });
  }
  const bool shared = WaitLoopThreads(c, 1);
  stop = true;
  for (auto& t : burners) t.join();
  CHECK(shared);
  CHECK(c.Run({"CONFIG", "SET", "loop-sharing", "no"}) == "OK");
  CHECK(WaitLoopThreads(c, 2));
}

}  // namespace
}  // namespace runnel::test
