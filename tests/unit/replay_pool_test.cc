// Tests for the log replay workers (ReplayPool): per-shard order, one worker per shard at a
// time, shards in parallel, barriers (partial and full drains), and failures in LSN order.
#include "server/replay_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace runnel::server {
namespace {

constexpr int kShards = 16;

// Records what the pool applies: per shard, the LSNs in the order applied, and whether two
// workers were ever on one shard at once. Each payload must be "p<lsn>".
struct Recorder {
  std::vector<std::vector<uint64_t>> applied{kShards};
  std::unique_ptr<std::atomic<int>[]> inside{new std::atomic<int>[kShards]()};
  std::atomic<bool> overlap{false};
  std::atomic<bool> bad_payload{false};

  bool Apply(int shard, const ReplayPool::Item& item) {
    if (inside[shard].fetch_add(1) != 0) overlap = true;
    if (item.payload != "p" + std::to_string(item.lsn)) bad_payload = true;
    applied[shard].push_back(item.lsn);
    inside[shard].fetch_sub(1);
    return true;
  }
};

ReplayPool::Item ItemOf(uint64_t lsn, const std::string& payload) {
  return ReplayPool::Item{lsn, 1, payload};
}

TEST_CASE("replay pool: every shard gets its records in order, one worker at a time") {
  Recorder rec;
  std::vector<std::vector<uint64_t>> expected(kShards);
  {
    ReplayPool pool(3, kShards, [&](int, int shard, const ReplayPool::Item& item, std::string*) {
      return rec.Apply(shard, item);
    });
    std::mt19937 rng(7);
    std::vector<std::string> payloads;
    for (uint64_t lsn = 1; lsn <= 20000; ++lsn) {
      // Skewed: shard 0 gets half the records, as one big stream would.
      int shard = rng() % 2 == 0 ? 0 : static_cast<int>(rng() % kShards);
      expected[shard].push_back(lsn);
      std::string payload = "p" + std::to_string(lsn);
      REQUIRE(pool.Submit(shard, ItemOf(lsn, payload)));
    }
    REQUIRE(pool.Drain());
    CHECK_FALSE(pool.failed());
  }
  CHECK_FALSE(rec.overlap.load());
  CHECK_FALSE(rec.bad_payload.load());
  for (int s = 0; s < kShards; ++s) CHECK(rec.applied[s] == expected[s]);
}

TEST_CASE("replay pool: a drain of some shards waits for exactly what was queued for them") {
  Recorder rec;
  ReplayPool pool(2, kShards, [&](int, int shard, const ReplayPool::Item& item, std::string*) {
    return rec.Apply(shard, item);
  });
  uint64_t lsn = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 300; ++i) {
      ++lsn;
      REQUIRE(pool.Submit(static_cast<int>(lsn % kShards), ItemOf(lsn, "p" + std::to_string(lsn))));
    }
    // A record across shards 3 and 5 (a barrier for them): everything queued for them before
    // it has been applied, and no worker is on them while the caller applies it.
    const int touched[] = {3, 5};
    REQUIRE(pool.Drain(touched));
    for (int s : touched) {
      REQUIRE_FALSE(rec.applied[s].empty());
      CHECK(rec.applied[s].back() == lsn - (lsn - s) % kShards);
      CHECK(rec.inside[s].load() == 0);
    }
  }
  REQUIRE(pool.Drain());
  for (int s = 0; s < kShards; ++s) {
    size_t expected = lsn / kShards + (s != 0 && s <= static_cast<int>(lsn % kShards) ? 1 : 0);
    CHECK(rec.applied[s].size() == expected);
  }
  CHECK_FALSE(rec.overlap.load());
}

TEST_CASE("replay pool: a full drain applies everything queued, including partial batches") {
  Recorder rec;
  ReplayPool pool(2, kShards, [&](int, int shard, const ReplayPool::Item& item, std::string*) {
    return rec.Apply(shard, item);
  });
  // Fewer records than a batch holds: only the drain hands them over.
  for (uint64_t lsn = 1; lsn <= 5; ++lsn)
    REQUIRE(pool.Submit(static_cast<int>(lsn), ItemOf(lsn, "p" + std::to_string(lsn))));
  REQUIRE(pool.Drain());
  for (int s = 1; s <= 5; ++s) CHECK(rec.applied[s] == std::vector<uint64_t>{static_cast<uint64_t>(s)});
  // A drain with nothing queued returns at once, and the pool goes on working afterwards.
  REQUIRE(pool.Drain());
  REQUIRE(pool.Submit(9, ItemOf(6, "p6")));
  REQUIRE(pool.Drain());
  CHECK(rec.applied[9] == std::vector<uint64_t>{6});
}

TEST_CASE("replay pool: payloads in kept-alive memory are handed over without copies") {
  // Two buffers standing in for mapped log segments, 1000 payloads each; each notes when freed.
  std::atomic<bool> freed[2] = {false, false};
  std::shared_ptr<const std::string> buffers[2];
  std::string_view raw[2];  // where each buffer's bytes are (compared, never read, after a free)
  for (int b = 0; b < 2; ++b) {
    std::string text;
    for (int i = 1; i <= 1000; ++i) text += "p" + std::to_string(b * 1000 + i) + ";";
    buffers[b].reset(new std::string(text), [&freed, b](const std::string* p) {
      freed[b] = true;
      delete p;
    });
    raw[b] = *buffers[b];
  }
  std::atomic<bool> copied{false}, used_after_free{false};
  Recorder rec;
  ReplayPool pool(2, kShards, [&](int, int shard, const ReplayPool::Item& item, std::string*) {
    int in = -1;
    for (int b = 0; b < 2; ++b)
      if (item.payload.data() >= raw[b].data() &&
          item.payload.data() + item.payload.size() <= raw[b].data() + raw[b].size())
        in = b;
    if (in < 0) copied = true;
    if (in >= 0 && freed[in]) used_after_free = true;
    return rec.Apply(shard, item);
  });
  uint64_t lsn = 1;
  for (int b = 0; b < 2; ++b) {
    pool.KeepAlive(buffers[b]);
    std::string_view text = raw[b];
    buffers[b].reset();  // from here on only the pool keeps it
    for (int i = 0; i < 1000; ++i, ++lsn) {
      size_t end = text.find(';');
      REQUIRE(pool.Submit(static_cast<int>(lsn % 3), ReplayPool::Item{lsn, 1, text.substr(0, end)}));
      text.remove_prefix(end + 1);
    }
  }
  pool.KeepAlive(nullptr);
  REQUIRE(pool.Drain());
  CHECK_FALSE(copied.load());
  CHECK_FALSE(used_after_free.load());
  CHECK_FALSE(rec.bad_payload.load());
  CHECK(rec.applied[0].size() == 666);
  CHECK(rec.applied[1].size() == 667);
  CHECK(rec.applied[2].size() == 667);
  // Once everything is applied, nothing holds the buffers any more.
  CHECK(freed[0].load());
  CHECK(freed[1].load());
}

TEST_CASE("replay pool: a slow shard does not hold the others up") {
  // Shard 0's first record waits until shard 1's records, queued after it, have all been
  // applied: that finishes only if another worker takes shard 1 meanwhile.
  std::mutex mu;
  std::condition_variable cv;
  int shard1_done = 0;
  bool timed_out = false;
  constexpr int kShard1Records = 1000;
  ReplayPool pool(2, kShards, [&](int, int shard, const ReplayPool::Item& item, std::string*) {
    std::unique_lock lock(mu);
    if (shard == 1 && ++shard1_done == kShard1Records) cv.notify_all();
    if (shard == 0 && item.lsn == 1 &&
        !cv.wait_for(lock, std::chrono::seconds(20), [&] { return shard1_done == kShard1Records; }))
      timed_out = true;
    return true;
  });
  uint64_t lsn = 0;
  for (int i = 0; i < 200; ++i) REQUIRE(pool.Submit(0, ItemOf(++lsn, "x")));
  for (int i = 0; i < kShard1Records; ++i) REQUIRE(pool.Submit(1, ItemOf(++lsn, "x")));
  REQUIRE(pool.Drain());
  CHECK_FALSE(timed_out);
  CHECK(shard1_done == kShard1Records);
}

TEST_CASE("replay pool: the failure reported is the first in LSN order") {
  // Shard 2 fails at LSN 900 and is applied quickly; shard 1 fails at LSN 500 but its worker
  // gets there late. Everything before LSN 500 must still be applied, nothing of shard 1 after.
  std::mutex mu;
  std::vector<std::vector<uint64_t>> applied(kShards), submitted(kShards);
  ReplayPool pool(2, kShards, [&](int, int shard, const ReplayPool::Item& item, std::string* e) {
    if (item.lsn == 1) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard lock(mu);
    if (item.lsn == 500 || item.lsn == 900) {
      *e = "failed at " + std::to_string(item.lsn);
      return false;
    }
    applied[shard].push_back(item.lsn);
    return true;
  });
  bool refused = false;
  for (uint64_t lsn = 1; lsn <= 3000 && !refused; ++lsn) {
    int shard = lsn == 500 ? 1 : lsn == 900 ? 2 : static_cast<int>(lsn % 3);
    refused = !pool.Submit(shard, ItemOf(lsn, "x"));
    if (!refused) submitted[shard].push_back(lsn);
    if (lsn % 700 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(pool.Drain());
  REQUIRE(pool.failed());
  CHECK(pool.failed_lsn() == 500);
  CHECK(pool.error() == "failed at 500");
  std::lock_guard lock(mu);
  auto below = [](const std::vector<uint64_t>& lsns, uint64_t limit) {
    std::vector<uint64_t> out;
    for (uint64_t lsn : lsns)
      if (lsn < limit) out.push_back(lsn);
    return out;
  };
  for (int s = 0; s < 3; ++s) CHECK(below(applied[s], 500) == below(submitted[s], 500));
  CHECK(below(applied[1], UINT64_MAX) == below(submitted[1], 500));
}

}  // namespace
}  // namespace runnel::server
