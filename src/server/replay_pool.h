// Worker threads for replaying the log at start-up. The thread that reads the log queues each
// record that touches one shard on that shard's queue, in batches; a worker takes a shard that
// has records queued and no other worker on it, and applies what is queued, in order. So every
// shard sees its records in LSN order, shards are applied in parallel, and the load balances
// itself (one busy shard, such as a big stream, keeps one worker while the others take the
// rest). A record no single shard owns (a flush, a transaction across shards) is a barrier:
// the reader waits until the shards it touches (or all) are drained, then applies it itself.
//
// The pool knows nothing of commands: what "apply" means is the caller's function.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace runnel::server {

class ReplayPool {
 public:
  struct Item {
    uint64_t lsn = 0;
    uint8_t type = 0;
    std::string_view payload;
  };
  // Applies one item of `shard` on a worker's thread (`worker` is its index); false (with
  // *error) stops the replay.
  using ApplyFn =
      std::function<bool(int worker, int shard, const Item& item, std::string* error)>;

  ReplayPool(int workers, int shards, ApplyFn apply);
  // Stops the workers; items still queued are dropped (call Drain first to apply them).
  ~ReplayPool();
  ReplayPool(const ReplayPool&) = delete;
  ReplayPool& operator=(const ReplayPool&) = delete;

  // Queues `item`, which touches `shard` only. Items of one shard are applied in the order
  // queued. Blocks while the workers are too far behind. False once an item failed. The payload
  // is copied, unless it lies in memory given to KeepAlive.
  bool Submit(int shard, const Item& item);
  // Payloads submitted from now on lie in memory that `keep` owns (a mapped log segment): they
  // are not copied, and batches hold `keep` until applied. Null: copy them again.
  void KeepAlive(std::shared_ptr<const void> keep);
  // Hands over what is queued for `shards` and waits until it is all applied and no worker is
  // on any of them: the caller may then apply a record touching them itself. False if an item
  // failed.
  bool Drain(std::span<const int> shards);
  // The same for every shard.
  bool Drain();

  bool failed() const { return failed_lsn_.load() != kNone; }
  // After a failure: the LSN of the item that failed (the lowest, if several did) and why. Once
  // Drain has returned, every item queued with a lower LSN has been applied.
  uint64_t failed_lsn() const { return failed_lsn_.load(); }
  const std::string& error() const { return error_; }

 private:
  struct Batch;
  struct ShardQueue;
  static constexpr uint64_t kNone = UINT64_MAX;
  void Publish(int shard);
  void Run(int worker);
  void ApplyBatch(int worker, int shard, const Batch& batch);
  void Fail(uint64_t lsn, const std::string& error);

  ApplyFn apply_;
  std::shared_ptr<const void> keep_;  // the reader's: what payloads lie in (null: copy them)
  uint64_t keep_generation_ = 0;      // raised by KeepAlive
  std::vector<std::unique_ptr<ShardQueue>> shards_;
  std::vector<std::thread> threads_;
  std::mutex mu_;                   // guards everything below but the reader's batches
  std::condition_variable work_cv_;  // workers wait for a ready shard
  std::condition_variable idle_cv_;  // the reader waits for room, or for shards to drain
  std::deque<int> ready_;           // shards with batches queued and no worker on them
  std::vector<std::unique_ptr<Batch>> spare_;
  size_t queued_bytes_ = 0;  // of batches handed over and not yet applied
  int busy_ = 0;             // shards a worker is on
  bool stop_ = false;
  std::atomic<uint64_t> failed_lsn_{kNone};
  std::mutex error_mu_;  // guards error_ and the lowering of failed_lsn_
  std::string error_;
};

}  // namespace runnel::server
