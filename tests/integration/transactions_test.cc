// MULTI / EXEC / DISCARD / WATCH / UNWATCH.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "fixture.h"

using runnel::test::Client;
using runnel::test::RawClient;
using runnel::test::Reply;
using runnel::test::ServerProcess;

TEST_CASE("transactions: queued commands run at EXEC, errors inside do not roll back") {
  Client c;
  CHECK(c.Run({"MULTI"}) == "OK");
  CHECK(c.Run({"SET", "a", "1"}) == "QUEUED");
  CHECK(c.Run({"INCR", "a"}) == "QUEUED");
  CHECK(c.Run({"SET", "s", "text"}) == "QUEUED");
  CHECK(c.Run({"INCR", "s"}) == "QUEUED");
  CHECK(c.Run({"GET", "a"}) == "QUEUED");
  CHECK(c.Run({"EXEC"}).Dump() == "[OK, :2, OK, !ERR value is not an integer or out of range, 2]");
  CHECK(c.Run({"GET", "s"}) == "text");
}

TEST_CASE("transactions: errors while queueing abort EXEC") {
  Client c;
  CHECK(c.Run({"MULTI"}) == "OK");
  CHECK(c.Run({"SET", "a", "1"}) == "QUEUED");
  CHECK(c.Run({"NOSUCHCMD"}).IsErrorPrefix("ERR unknown command 'NOSUCHCMD'"));
  CHECK(c.Run({"GET"}).IsError("ERR wrong number of arguments for 'get' command"));
  CHECK(c.Run({"EXEC"}).IsError("EXECABORT Transaction discarded because of previous errors."));
  CHECK(c.Run({"EXISTS", "a"}).IsInt(0));
  CHECK(c.Run({"EXEC"}).IsError("ERR EXEC without MULTI"));
  CHECK(c.Run({"DISCARD"}).IsError("ERR DISCARD without MULTI"));
}

TEST_CASE("transactions: MULTI nesting, DISCARD, WATCH inside MULTI") {
  Client c;
  CHECK(c.Run({"MULTI"}) == "OK");
  CHECK(c.Run({"MULTI"}).IsError("ERR MULTI calls can not be nested"));
  CHECK(c.Run({"WATCH", "x"}).IsError("ERR WATCH inside MULTI is not allowed"));
  CHECK(c.Run({"SET", "a", "1"}) == "QUEUED");
  CHECK(c.Run({"DISCARD"}) == "OK");
  CHECK(c.Run({"EXISTS", "a"}).IsInt(0));
  // A nested MULTI does not doom the transaction (as in Redis).
  CHECK(c.Run({"MULTI"}) == "OK");
  CHECK(c.Run({"MULTI"}).IsError());
  CHECK(c.Run({"SET", "a", "1"}) == "QUEUED");
  CHECK(c.Run({"EXEC"}).Dump() == "[OK]");
}

TEST_CASE("transactions: a WATCHed key written by another client aborts EXEC") {
  Client c, other;
  c.Run({"SET", "w", "1"});
  CHECK(c.Run({"WATCH", "w"}) == "OK");
  other.Run({"SET", "w", "2"});
  c.Run({"MULTI"});
  c.Run({"SET", "w", "3"});
  CHECK(c.Run({"EXEC"}).IsNil());
  CHECK(c.Run({"GET", "w"}) == "2");
  // An unrelated write, even in the same shard, does not abort.
  CHECK(c.Run({"WATCH", "{t}w"}) == "OK");
  other.Run({"SET", "{t}other", "x"});
  c.Run({"MULTI"});
  c.Run({"SET", "{t}w", "3"});
  CHECK(c.Run({"EXEC"}).Dump() == "[OK]");
  // UNWATCH forgets; EXEC forgets too.
  CHECK(c.Run({"WATCH", "w"}) == "OK");
  CHECK(c.Run({"UNWATCH"}) == "OK");
  other.Run({"SET", "w", "9"});
  c.Run({"MULTI"});
  c.Run({"GET", "w"});
  CHECK(c.Run({"EXEC"}).Dump() == "[9]");
}

TEST_CASE("transactions: WATCH fails on expiry, FLUSHALL and DEL of the key") {
  Client c, other;
  c.Run({"SET", "e", "1", "PX", "50"});
  c.Run({"WATCH", "e"});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  c.Run({"MULTI"});
  c.Run({"SET", "x", "1"});
  CHECK(c.Run({"EXEC"}).IsNil());

  c.Run({"SET", "f", "1"});
  c.Run({"WATCH", "f"});
  other.Run({"FLUSHDB"});
  c.Run({"MULTI"});
  c.Run({"SET", "x", "1"});
  CHECK(c.Run({"EXEC"}).IsNil());

  c.Run({"SET", "d", "1"});
  c.Run({"WATCH", "d"});
  other.Run({"DEL", "d"});
  c.Run({"MULTI"});
  c.Run({"SET", "x", "1"});
  CHECK(c.Run({"EXEC"}).IsNil());
}

TEST_CASE("transactions: whole-keyspace and blocking commands inside MULTI") {
  Client c;
  c.Run({"SET", "a", "1"});
  c.Run({"MULTI"});
  c.Run({"DBSIZE"});
  c.Run({"KEYS", "*"});
  c.Run({"XREAD", "BLOCK", "0", "STREAMS", "nostream", "$"});
  c.Run({"FLUSHDB"});
  c.Run({"DBSIZE"});
  CHECK(c.Run({"EXEC"}).Dump() == "[:1, [a], (nil), OK, :0]");
}

TEST_CASE("transactions: EXEC is atomic across shards and threads") {
  Client setup;
  setup.Run({"MSET", "ta", "0", "tb", "0"});
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  // Clients made here: Client() flushes the test database, which must not race the writers.
  Client r(runnel::test::SharedServer().port(), false);
  r.Run({"SELECT", "9"});
  std::thread reader([&] {
    while (!stop) {
      Reply v = r.Run({"MGET", "ta", "tb"});
      if (v.size() == 2 && v[0].str != v[1].str) ++torn;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([] {
      Client c(runnel::test::SharedServer().port(), false);
      c.Run({"SELECT", "9"});
      for (int i = 0; i < 300; ++i) {
        c.Run({"MULTI"});
        c.Run({"INCR", "ta"});
        c.Run({"INCR", "tb"});
        c.Run({"EXEC"});
      }
    });
  }
  for (auto& t : writers) t.join();
  stop = true;
  reader.join();
  CHECK(torn == 0);
  CHECK(setup.Run({"MGET", "ta", "tb"}).Dump() == "[1200, 1200]");
}

TEST_CASE("transactions: a transaction survives kill -9 whole") {
  ServerProcess p({"--appendfsync", "always"});
  {
    Client c(p.port(), false);
    c.Run({"MULTI"});
    c.Run({"SET", "a", "1"});
    c.Run({"INCR", "b"});
    c.Run({"XADD", "s", "1-1", "f", "v"});
    c.Run({"SELECT", "3"});
    c.Run({"SET", "c", "3"});
    CHECK(c.Run({"EXEC"}).Dump() == "[OK, :1, 1-1, OK, OK]");
  }
  p.Stop(9);
  ServerProcess q({"--dir", p.dir()});
  Client c(q.port(), false);
  CHECK(c.Run({"MGET", "a", "b"}).Dump() == "[1, 1]");
  CHECK(c.Run({"XLEN", "s"}).IsInt(1));
  c.Run({"SELECT", "3"});
  CHECK(c.Run({"GET", "c"}) == "3");
}
