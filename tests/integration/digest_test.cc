// DEBUG DIGEST and DEBUG DIGEST-VALUE over every type: the digest follows a value's contents,
// whatever its encoding (listpack, intset, hashtable, skiplist, quicklist) and whatever order it
// was built in; one changed element changes it; DEBUG RELOAD and a restart keep it.
#include <doctest/doctest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "fixture.h"

namespace runnel::test {
namespace {

using Args = std::vector<std::string>;

const std::string kZeros(40, '0');
const std::string kLong(100, 'x');  // past every *-max-listpack-value

std::string Digest(Client& c) { return c.Run({"DEBUG", "DIGEST"}).str; }

std::string DigestValue(Client& c, const std::string& key) {
  Reply r = c.Run({"DEBUG", "DIGEST-VALUE", key});
  REQUIRE(r.size() == 1);
  return r[0].str;
}

std::string Encoding(Client& c, const std::string& key) {
  return c.Run({"OBJECT", "ENCODING", key}).str;
}

void Ok(Client& c, const Args& cmd) {
  Reply r = c.Run(cmd);
  REQUIRE_MESSAGE(!r.IsError(), cmd[0] << " -> " << r.str);
}

// One key of each type, `<prefix><type>`, with the same contents either way: `compact` in the
// small encodings, else built in another order and in the big encodings (where a type has two).
void Build(Client& c, const std::string& prefix, bool compact) {
  const std::string hash = prefix + "hash", set = prefix + "set", strset = prefix + "strset",
                    zset = prefix + "zset", list = prefix + "list";
  if (compact) {
    Ok(c, {"HSET", hash, "f1", "v1", "f2", "v2", "f3", "3"});
    Ok(c, {"SADD", set, "1", "2", "3"});
    Ok(c, {"SADD", strset, "x", "y", "z"});
    Ok(c, {"ZADD", zset, "1", "m1", "2.5", "m2", "-3", "m3"});
    Ok(c, {"RPUSH", list, "e1", "e2", "e3", "e4", "e5"});
  } else {
    Ok(c, {"HSET", hash, "f3", "3", "big", kLong, "f2", "v2", "f1", "v1"});
    Ok(c, {"HDEL", hash, "big"});  // stays a hashtable
    Ok(c, {"SADD", set, "3", kLong, "2", "1"});
    Ok(c, {"SREM", set, kLong});
    Ok(c, {"SADD", strset, "z", kLong, "y", "x"});
    Ok(c, {"SREM", strset, kLong});
    Ok(c, {"ZADD", zset, "-3", "m3", "0", kLong, "2.5", "m2", "1", "m1"});
    Ok(c, {"ZREM", zset, kLong});
    Ok(c, {"CONFIG", "SET", "list-max-listpack-size", "2"});  // nodes of 2: a quicklist
    Ok(c, {"LPUSH", list, "e5", "e4", "e3", "e2", "e1"});
    Ok(c, {"CONFIG", "SET", "list-max-listpack-size", "-2"});
  }
  const std::string stream = prefix + "stream";
  Ok(c, {"XADD", stream, "1-1", "f", "v", "g", "w"});
  Ok(c, {"XADD", stream, "2-1", "other", "fields"});
  Ok(c, {"XADD", stream, "3-1", "f", "v3"});
  Ok(c, {"XGROUP", "CREATE", stream, "grp", "0"});
  Ok(c, {"XREADGROUP", "GROUP", "grp", "alice", "COUNT", "2", "STREAMS", stream, ">"});
}

void BuildPairs(Client& c) {
  Build(c, "a:", true);
  Build(c, "b:", false);
}

const std::vector<std::string> kTypes = {"hash", "set", "strset", "zset", "list", "stream"};

TEST_CASE("digest: the same contents in other encodings and orders give the same digest") {
  ServerProcess p;
  Client c(p.port());
  CHECK(Digest(c) == kZeros);  // as Redis, for an empty keyspace
  CHECK(DigestValue(c, "missing") == kZeros);
  BuildPairs(c);
  CHECK(Encoding(c, "a:hash") == "listpack");
  CHECK(Encoding(c, "b:hash") == "hashtable");
  CHECK(Encoding(c, "a:set") == "intset");
  CHECK(Encoding(c, "b:set") == "hashtable");
  CHECK(Encoding(c, "a:strset") == "listpack");
  CHECK(Encoding(c, "b:strset") == "hashtable");
  CHECK(Encoding(c, "a:zset") == "listpack");
  CHECK(Encoding(c, "b:zset") == "skiplist");
  CHECK(Encoding(c, "a:list") == "listpack");
  CHECK(Encoding(c, "b:list") == "quicklist");
  for (const std::string& t : kTypes) {
    std::string a = DigestValue(c, "a:" + t);
    CHECK_MESSAGE(a != kZeros, t);
    CHECK_MESSAGE(a == DigestValue(c, "b:" + t), t);
  }
  // Different types with "the same" elements differ.
  CHECK(DigestValue(c, "a:set") != DigestValue(c, "a:strset"));
  CHECK(DigestValue(c, "a:hash") != DigestValue(c, "a:zset"));

  // The whole keyspace: the b: keys replaced by compact ones with the same contents.
  std::string whole = Digest(c);
  CHECK(whole != kZeros);
  for (const std::string& t : kTypes) Ok(c, {"DEL", "b:" + t});
  std::string only_a = Digest(c);
  CHECK(only_a != whole);
  for (const std::string& t : kTypes) Ok(c, {"RENAME", "a:" + t, "b:" + t});
  CHECK(Digest(c) != only_a);  // key names count
  Build(c, "a:", true);
  CHECK(Encoding(c, "b:hash") == "listpack");
  CHECK(Digest(c) == whole);
  // The same data in another database is other data.
  Ok(c, {"MOVE", "b:hash", "2"});
  CHECK(Digest(c) != whole);
}

TEST_CASE("digest: one changed element of any type changes the digest") {
  ServerProcess p;
  Client c(p.port());
  BuildPairs(c);
  std::string whole = Digest(c);
  // (change, undo) for each type.
  std::vector<std::pair<Args, Args>> edits = {
      {{"HSET", "a:hash", "f2", "v2x"}, {"HSET", "a:hash", "f2", "v2"}},
      {{"HSET", "b:hash", "f3", "4"}, {"HSET", "b:hash", "f3", "3"}},
      {{"SADD", "a:set", "4"}, {"SREM", "a:set", "4"}},
      {{"SREM", "b:strset", "y"}, {"SADD", "b:strset", "y"}},
      {{"ZADD", "a:zset", "2.75", "m2"}, {"ZADD", "a:zset", "2.5", "m2"}},
      {{"ZADD", "b:zset", "1", "m0"}, {"ZREM", "b:zset", "m0"}},
      {{"LSET", "a:list", "2", "E3"}, {"LSET", "a:list", "2", "e3"}},
      {{"LSET", "b:list", "4", "e"}, {"LSET", "b:list", "4", "e5"}},
      {{"XACK", "a:stream", "grp", "1-1"},
       {"XCLAIM", "a:stream", "grp", "alice", "0", "1-1", "FORCE", "RETRYCOUNT", "1"}},
      {{"XGROUP", "SETID", "b:stream", "grp", "3-1"},
       {"XGROUP", "SETID", "b:stream", "grp", "2-1", "ENTRIESREAD", "2"}},
      {{"SET", "a:str", "1"}, {"DEL", "a:str"}},
  };
  for (const auto& [change, undo] : edits) {
    std::string key = change[0] == "XGROUP" ? change[2] : change[1];
    std::string before = DigestValue(c, key);
    Ok(c, change);
    CHECK_MESSAGE(DigestValue(c, key) != before, change[0] << " " << key);
    CHECK_MESSAGE(Digest(c) != whole, change[0] << " " << key);
    Ok(c, undo);
    CHECK_MESSAGE(DigestValue(c, key) == before, undo[0] << " " << key);
    CHECK_MESSAGE(Digest(c) == whole, undo[0] << " " << key);
  }
  // Stream entries: a value, and the same entries under other IDs.
  Ok(c, {"DEL", "b:stream"});
  Ok(c, {"XADD", "b:stream", "1-1", "f", "v", "g", "W"});
  CHECK(DigestValue(c, "b:stream") != DigestValue(c, "a:stream"));
  Ok(c, {"DEL", "b:stream"});
  Ok(c, {"XADD", "b:stream", "1-2", "f", "v", "g", "w"});
  CHECK(DigestValue(c, "b:stream") != DigestValue(c, "a:stream"));
  // A list's order counts; a hash pair is not its field and value swapped.
  Ok(c, {"RPUSH", "l1", "x", "y"});
  Ok(c, {"RPUSH", "l2", "y", "x"});
  CHECK(DigestValue(c, "l1") != DigestValue(c, "l2"));
  Ok(c, {"HSET", "h1", "k", "v"});
  Ok(c, {"HSET", "h2", "v", "k"});
  CHECK(DigestValue(c, "h1") != DigestValue(c, "h2"));
  // A TTL counts in both digests.
  std::string now = Digest(c);
  std::string value = DigestValue(c, "a:set");
  Ok(c, {"PEXPIRE", "a:set", "1000000"});
  CHECK(Digest(c) != now);
  CHECK(DigestValue(c, "a:set") != value);
}

TEST_CASE("digest: unchanged across DEBUG RELOAD and a restart after kill -9") {
  ServerProcess p({"--appendfsync", "always"});
  std::string whole;
  std::vector<std::string> values;
  {
    Client c(p.port());
    BuildPairs(c);
    Ok(c, {"SELECT", "4"});
    BuildPairs(c);
    Ok(c, {"PEXPIRE", "a:zset", "100000000"});
    Ok(c, {"SELECT", "0"});
    whole = Digest(c);
    for (const std::string& t : kTypes) values.push_back(DigestValue(c, "a:" + t));
    CHECK(c.Run({"DEBUG", "RELOAD"}) == "OK");
    CHECK(Digest(c) == whole);
    Ok(c, {"SET", "after-reload", "1"});  // and a log after the checkpoint
    CHECK(Digest(c) != whole);
    Ok(c, {"DEL", "after-reload"});
    CHECK(Digest(c) == whole);
  }
  p.Stop(SIGKILL);
  ServerProcess q({"--dir", p.dir(), "--appendfsync", "always"});
  Client c(q.port());
  CHECK(Digest(c) == whole);
  for (size_t i = 0; i < kTypes.size(); ++i)
    CHECK_MESSAGE(DigestValue(c, "a:" + kTypes[i]) == values[i], kTypes[i]);
}

}  // namespace
}  // namespace runnel::test
