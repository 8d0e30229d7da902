// The message-store scenario runnel's first users run: topics split into partitions kept as
// streams, producers adding in pipelines with MAXLEN ~ retention, one consumer group per topic
// whose consumers read every partition with XREADGROUP BLOCK and acknowledge, a consumer that
// dies holding entries which the others take over with XAUTOCLAIM, offsets checked with
// XPENDING and XINFO GROUPS, and retention by XTRIM MINID. It depends on blocking reads, hence
// the "streams-blocking:" name.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

namespace runnel::test {
namespace {

constexpr int kTopics = 4;
constexpr int kPartitions = 8;
constexpr int kPerPartition = 300;
constexpr int kPerTopic = kPartitions * kPerPartition;
constexpr int kConsumers = 3;

std::string Partition(int topic, int p) {
  return "topic" + std::to_string(topic) + ":p" + std::to_string(p);
}
std::string Group(int topic) { return "readers" + std::to_string(topic); }

// What the consumers of one topic did, checked by the test thread afterwards.
struct Topic {
  int index = 0;
  std::atomic<int> acked{0};         // sum of XACK replies
  std::atomic<int> errors{0};        // unexpected replies
  std::atomic<int> claimed{0};       // entries taken over with XAUTOCLAIM
  std::atomic<int> died_holding{0};  // entries the dying consumer never acknowledged
  std::atomic<bool> died{false};     // the others start once it died, so it surely gets work
  std::mutex mu;
  std::multiset<std::string> acked_messages;  // message bodies, once per acknowledgement
};

// Producer: every message of one topic, pipelined, spread round-robin over the partitions.
void Produce(int topic) {
  auto c = Connect();
  for (int i = 0; i < kPerTopic; ++i) {
    c->Send({"XADD", Partition(topic, i % kPartitions), "MAXLEN", "~", "1000", "*", "body",
             "t" + std::to_string(topic) + "-m" + std::to_string(i), "pad", std::string(16, 'x')});
  }
  for (int i = 0; i < kPerTopic; ++i) c->Read();
}

// Acknowledges the entries of one XREADGROUP / XAUTOCLAIM reply's partition.
void Ack(Client& c, Topic& t, const std::string& key, const Reply& entries) {
  std::vector<std::string> ack{"XACK", key, Group(t.index)};
  std::vector<std::string> bodies;
  for (const Reply& e : entries.elements) {
    ack.push_back(e[0].str);
    if (e[1].IsArray() && e[1].size() >= 2) bodies.push_back(e[1][1].str);
  }
  if (ack.size() == 3) return;
  Reply r = c.Run(ack);
  if (r.type != Reply::Type::kInteger || r.integer != static_cast<long long>(ack.size() - 3)) {
    ++t.errors;
    return;
  }
  t.acked += static_cast<int>(r.integer);
  std::lock_guard lock(t.mu);
  t.acked_messages.insert(bodies.begin(), bodies.end());
}

// Takes over entries idle for 300 ms on every partition of the topic, and acknowledges them.
void Reclaim(Client& c, Topic& t, const std::string& me) {
  for (int p = 0; p < kPartitions; ++p) {
    std::string key = Partition(t.index, p), cursor = "0-0";
    do {
      Reply r = c.Run({"XAUTOCLAIM", key, Group(t.index), me, "300", cursor, "COUNT", "50"});
      if (!r.IsArray() || r.size() != 3 || r[2].size() != 0) {
        ++t.errors;
        return;
      }
      cursor = r[0].str;
      t.claimed += static_cast<int>(r[1].size());
      Ack(c, t, key, r[1]);
    } while (cursor != "0-0");
  }
}

// A consumer of every partition of its topic. One with die_after > 0 stops after that many
// batches, leaving its last batch unacknowledged, and disconnects; the others wait for that.
void Consume(Topic& t, const std::string& me, int die_after) {
  while (die_after == 0 && !t.died.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto c = Connect();
  std::vector<std::string> read{"XREADGROUP", "GROUP", Group(t.index), me,       "COUNT",
                                "20",         "BLOCK", "100",          "STREAMS"};
  for (int p = 0; p < kPartitions; ++p) read.push_back(Partition(t.index, p));
  for (int p = 0; p < kPartitions; ++p) read.push_back(">");
  int batches = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (t.acked.load() < kPerTopic && std::chrono::steady_clock::now() < deadline) {
    Reply r = c->Run(read);
    if (r.IsNil()) {
      Reclaim(*c, t, me);
      continue;
    }
    if (!r.IsArray()) {
      ++t.errors;
      t.died = true;
      return;
    }
    if (die_after > 0 && ++batches > die_after) {
      for (const Reply& kv : r.elements) t.died_holding += static_cast<int>(kv[1].size());
      t.died = true;
      return;
    }
    for (const Reply& kv : r.elements) Ack(*c, t, kv[0].str, kv[1]);
  }
  t.died = true;  // (a consumer that could not die still lets the others start)
}

// Runs producers and consumers until every message is acknowledged (or a minute passes).
void RunScenario(std::vector<std::unique_ptr<Topic>>& topics) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kTopics; ++t) {
    for (int k = 0; k < kConsumers; ++k) {
      threads.emplace_back(Consume, std::ref(*topics[t]), "c" + std::to_string(k), k == 0 ? 3 : 0);
    }
  }
  for (int t = 0; t < kTopics; ++t) threads.emplace_back(Produce, t);
  for (auto& th : threads) th.join();
}

}  // namespace

TEST_CASE("streams-blocking: message store scenario") {
  Client admin;
  for (int t = 0; t < kTopics; ++t)
    for (int p = 0; p < kPartitions; ++p)
      REQUIRE(admin.Run({"XGROUP", "CREATE", Partition(t, p), Group(t), "$", "MKSTREAM"}) == "OK");
  std::vector<std::unique_ptr<Topic>> topics;
  for (int t = 0; t < kTopics; ++t) {
    topics.push_back(std::make_unique<Topic>());
    topics.back()->index = t;
  }
  RunScenario(topics);

  for (auto& topic : topics) {
    CAPTURE(topic->index);
    CHECK(topic->errors.load() == 0);
    CHECK(topic->acked.load() == kPerTopic);  // every message acknowledged exactly once
    CHECK(topic->died_holding.load() > 0);
    CHECK(topic->claimed.load() >= topic->died_holding.load());
    std::set<std::string> distinct(topic->acked_messages.begin(), topic->acked_messages.end());
    CHECK(distinct.size() == static_cast<size_t>(kPerTopic));
    CHECK(topic->acked_messages.size() == static_cast<size_t>(kPerTopic));
    int t = topic->index;
    for (int p = 0; p < kPartitions; ++p) {
      std::string key = Partition(t, p);
      CAPTURE(key);
      CHECK(admin.Run({"XLEN", key}).integer == kPerPartition);
      CHECK(admin.Run({"XPENDING", key, Group(t)}).Dump() == "[:0, (nil), (nil), (nil)]");
      Reply groups = admin.Run({"XINFO", "GROUPS", key});
      REQUIRE(groups.size() == 1);
      CHECK(groups[0][9].integer == kPerPartition);  // entries-read
      CHECK(groups[0][11].integer == 0);             // lag
      // The consumer that died has nothing left: its entries were claimed.
      CHECK(admin.Run({"XGROUP", "DELCONSUMER", key, Group(t), "c0"}).integer == 0);
    }
  }

  // Retention: keep the newest 100 entries of each partition with XTRIM MINID.
  for (int t = 0; t < kTopics; ++t) {
    for (int p = 0; p < kPartitions; ++p) {
      std::string key = Partition(t, p);
      Reply tail = admin.Run({"XREVRANGE", key, "+", "-", "COUNT", "100"});
      REQUIRE(tail.size() == 100);
      std::string oldest_kept = tail[99][0].str;
      CHECK(admin.Run({"XTRIM", key, "MINID", oldest_kept}).integer == kPerPartition - 100);
      CHECK(admin.Run({"XRANGE", key, "-", "+", "COUNT", "1"})[0][0].str == oldest_kept);
      Reply groups = admin.Run({"XINFO", "GROUPS", key});
      CHECK(groups[0][11].integer == 0);  // trimming read entries leaves the lag at 0
    }
  }
  // Producers keep going with MAXLEN ~ 150: whole chunks go, so a partition keeps at least 150
  // entries and less than a chunk more.
  std::string key = Partition(0, 0);
  for (int i = 0; i < 500; ++i)
    admin.Send({"XADD", key, "MAXLEN", "~", "150", "*", "body", "late" + std::to_string(i)});
  for (int i = 0; i < 500; ++i) REQUIRE(admin.Read().type == Reply::Type::kString);
  long long len = admin.Run({"XLEN", key}).integer;
  CHECK(len >= 150);
  CHECK(len < 250);
  Reply groups = admin.Run({"XINFO", "GROUPS", key});
  CHECK(groups[0][11].integer == 500);  // the new entries are the group's lag
}

}  // namespace runnel::test
