// DUMP / RESTORE, and values moved across shards surviving a restart.
#include <doctest/doctest.h>

#include "fixture.h"

using runnel::test::Client;
using runnel::test::Reply;
using runnel::test::ServerProcess;

TEST_CASE("dump: DUMP and RESTORE round trip strings and streams") {
  Client c;
  c.Run({"SET", "s", "hello"});
  Reply dump = c.Run({"DUMP", "s"});
  REQUIRE(dump.type == Reply::Type::kString);
  CHECK(c.Run({"RESTORE", "s2", "0", dump.str}) == "OK");
  CHECK(c.Run({"GET", "s2"}) == "hello");
  CHECK(c.Run({"PTTL", "s2"}).IsInt(-1));
  CHECK(c.Run({"RESTORE", "s2", "0", dump.str}).IsError("BUSYKEY Target key name already exists."));
  CHECK(c.Run({"RESTORE", "s2", "5000", dump.str, "REPLACE"}) == "OK");
  Reply pttl = c.Run({"PTTL", "s2"});
  CHECK(pttl.integer > 4000);
  CHECK(pttl.integer <= 5000);
  CHECK(c.Run({"DUMP", "missing"}).IsNil());

  c.Run({"XADD", "x", "1-1", "f", "v"});
  c.Run({"XADD", "x", "2-1", "g", "w"});
  Reply xdump = c.Run({"DUMP", "x"});
  CHECK(c.Run({"RESTORE", "x2", "0", xdump.str}) == "OK");
  CHECK(c.Run({"XRANGE", "x2", "-", "+"}).Dump() == c.Run({"XRANGE", "x", "-", "+"}).Dump());
  CHECK(c.Run({"TYPE", "x2"}) == "stream");
}

TEST_CASE("dump: RESTORE refuses damaged payloads and bad options") {
  Client c;
  c.Run({"SET", "s", "hello"});
  std::string payload = c.Run({"DUMP", "s"}).str;
  std::string flipped = payload;
  flipped[1] ^= 1;
  CHECK(c.Run({"RESTORE", "t", "0", flipped})
            .IsError("ERR DUMP payload version or checksum are wrong"));
  CHECK(c.Run({"RESTORE", "t", "0", "short"})
            .IsError("ERR DUMP payload version or checksum are wrong"));
  CHECK(c.Run({"RESTORE", "t", "-1", payload}).IsError("ERR Invalid TTL value, must be >= 0"));
  CHECK(c.Run({"RESTORE", "t", "abc", payload})
            .IsError("ERR value is not an integer or out of range"));
  CHECK(c.Run({"RESTORE", "t", "0", payload, "BOGUS"}).IsError("ERR syntax error"));
  CHECK(c.Run({"RESTORE", "t", "0", payload, "FREQ", "300"})
            .IsError("ERR Invalid FREQ value, must be >= 0 and <= 255"));
  CHECK(c.Run({"EXISTS", "t"}).IsInt(0));
  // ABSTTL in the past: the key is as good as expired.
  CHECK(c.Run({"RESTORE", "t", "1000", payload, "ABSTTL"}) == "OK");
  CHECK(c.Run({"EXISTS", "t"}).IsInt(0));
}

TEST_CASE("dump: RENAME and COPY across shards survive SIGKILL and a checkpoint") {
  ServerProcess p({"--appendfsync", "always"});
  {
    Client c(p.port(), false);
    // "a" and "b" hash to different slots, hence (almost surely) different shards; the hash
    // tags keep the third pair on one shard.
    c.Run({"SET", "a", "1"});
    c.Run({"PEXPIRE", "a", "100000"});
    CHECK(c.Run({"RENAME", "a", "b"}) == "OK");
    c.Run({"XADD", "xs", "5-5", "f", "v"});
    CHECK(c.Run({"COPY", "xs", "ys", "DB", "2"}).IsInt(1));
    CHECK(c.Run({"RENAME", "xs", "zs"}) == "OK");
    c.Run({"SET", "{t}1", "v"});
    CHECK(c.Run({"RENAME", "{t}1", "{t}2"}) == "OK");
  }
  p.Stop(9);
  ServerProcess q({"--dir", p.dir()});
  Client c(q.port(), false);
  CHECK(c.Run({"EXISTS", "a", "xs", "{t}1"}).IsInt(0));
  CHECK(c.Run({"GET", "b"}) == "1");
  CHECK(c.Run({"PTTL", "b"}).integer > 90000);
  CHECK(c.Run({"XRANGE", "zs", "-", "+"}).Dump() == "[[5-5, [f, v]]]");
  CHECK(c.Run({"GET", "{t}2"}) == "v");
  c.Run({"SELECT", "2"});
  CHECK(c.Run({"XLEN", "ys"}).IsInt(1));
  // Through a checkpoint as well.
  c.Run({"SELECT", "0"});
  CHECK(c.Run({"SAVE"}) == "OK");
  CHECK(c.Run({"RENAME", "b", "a"}) == "OK");
  q.Stop(9);
  ServerProcess r({"--dir", p.dir()});
  Client d(r.port(), false);
  CHECK_MESSAGE(d.Run({"GET", "a"}) == "1", d.Run({"KEYS", "*"}).Dump());
  CHECK(d.Run({"EXISTS", "b"}).IsInt(0));
}
