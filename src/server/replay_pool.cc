// The replay workers: per-shard batch queues, the ready list workers take shards from,
// draining for barriers, and the first failure in LSN order.
//
// Invariant (under mu_): a shard with batches queued is either on ready_ or claimed by a
// worker; so nothing is queued anywhere once ready_ is empty and no worker is busy.
#include "server/replay_pool.h"

#include <cassert>

namespace runnel::server {

namespace {

// A shard's batch is handed over when it holds this many records or bytes: big enough that
// the lock and wake-up per batch cost nothing next to applying its records.
constexpr size_t kBatchItems = 128;
constexpr size_t kBatchBytes = 16 << 10;
// Payload bytes handed over and not yet applied before the reader waits: far enough ahead that
// one busy shard and the rest are worked on at the same time, bounded all the same.
constexpr size_t kMaxQueuedBytes = 64 << 20;

}  // namespace

struct ReplayPool::Batch {
  struct Entry {
    uint64_t lsn;
    uint8_t type;
    const char* data;  // the payload where it lies, or null: copied into `bytes` at `offset`
    size_t offset;
    size_t size;
  };
  // Sized for a full batch up front: batches are reused, and growing them would cost more.
  Batch() {
    bytes.reserve(kBatchBytes + 512);
    entries.reserve(kBatchItems);
  }
  std::string bytes;  // copied payloads, one after another
  std::vector<Entry> entries;
  size_t payload_bytes = 0;                       // of all entries, copied or not
  std::vector<std::shared_ptr<const void>> keep;  // what the uncopied payloads lie in
  uint64_t keep_generation = 0;                   // of keep.back()
  bool full() const { return entries.size() >= kBatchItems || payload_bytes >= kBatchBytes; }
  std::string_view payload(const Entry& e) const {
    return e.data != nullptr ? std::string_view(e.data, e.size)
                             : std::string_view(bytes).substr(e.offset, e.size);
  }
  void Clear() {
    bytes.clear();
    entries.clear();
    payload_bytes = 0;
    keep.clear();
    keep_generation = 0;
  }
};

struct ReplayPool::ShardQueue {
  std::deque<std::unique_ptr<Batch>> queued;  // handed over, in order
  bool claimed = false;                       // a worker is on this shard
  bool on_ready = false;
  std::unique_ptr<Batch> filling;  // the reader's, not handed over yet (reader only)
};

ReplayPool::ReplayPool(int workers, int shards, ApplyFn apply) : apply_(std::move(apply)) {
  assert(workers >= 1 && shards >= 1);
  for (int i = 0; i < shards; ++i) shards_.push_back(std::make_unique<ShardQueue>());
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { Run(i); });
}

ReplayPool::~ReplayPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool ReplayPool::Submit(int shard, const Item& item) {
  if (failed()) return false;
  ShardQueue& q = *shards_[shard];
  if (q.filling == nullptr) q.filling = std::make_unique<Batch>();
  Batch& b = *q.filling;
  if (keep_ == nullptr) {
    b.entries.push_back({item.lsn, item.type, nullptr, b.bytes.size(), item.payload.size()});
    b.bytes.append(item.payload);
  } else {
    // Held once per batch and buffer, not per record: reference counts are shared cache lines.
    if (b.keep_generation != keep_generation_) {
      b.keep.push_back(keep_);
      b.keep_generation = keep_generation_;
    }
    b.entries.push_back({item.lsn, item.type, item.payload.data(), 0, item.payload.size()});
  }
  b.payload_bytes += item.payload.size();
  if (b.full()) Publish(shard);
  return true;
}

void ReplayPool::KeepAlive(std::shared_ptr<const void> keep) {
  keep_ = std::move(keep);
  ++keep_generation_;
}

// Hands the reader's batch of `shard` over (waiting for room) and takes a spare one to fill.
void ReplayPool::Publish(int shard) {
  ShardQueue& q = *shards_[shard];
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queued_bytes_ < kMaxQueuedBytes; });
  queued_bytes_ += q.filling->payload_bytes;
  q.queued.push_back(std::move(q.filling));
  bool wake = !q.claimed && !q.on_ready;
  if (wake) {
    ready_.push_back(shard);
    q.on_ready = true;
  }
  if (!spare_.empty()) {
    q.filling = std::move(spare_.back());
    spare_.pop_back();
  }
  lock.unlock();
  if (wake) work_cv_.notify_one();
}

bool ReplayPool::Drain(std::span<const int> shards) {
  for (int s : shards)
    if (shards_[s]->filling != nullptr && !shards_[s]->filling->entries.empty()) Publish(s);
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] {
    for (int s : shards)
      if (!shards_[s]->queued.empty() || shards_[s]->claimed) return false;
    return true;
  });
  return !failed();
}

bool ReplayPool::Drain() {
  for (size_t s = 0; s < shards_.size(); ++s)
    if (shards_[s]->filling != nullptr && !shards_[s]->filling->entries.empty())
      Publish(static_cast<int>(s));
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return ready_.empty() && busy_ == 0; });
  return !failed();
}

void ReplayPool::Run(int worker) {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !ready_.empty(); });
    if (stop_) return;
    int shard = ready_.front();
    ready_.pop_front();
    ShardQueue& q = *shards_[shard];
    q.on_ready = false;
    q.claimed = true;
    ++busy_;
    // Stay on the shard while the reader keeps queuing for it: no other worker may take it.
    while (!q.queued.empty() && !stop_) {
      std::deque<std::unique_ptr<Batch>> todo;
      todo.swap(q.queued);
      lock.unlock();
      size_t bytes = 0;
      for (const auto& b : todo) {
        ApplyBatch(worker, shard, *b);
        bytes += b->payload_bytes;
        b->Clear();
      }
      lock.lock();
      queued_bytes_ -= bytes;
      for (auto& b : todo) spare_.push_back(std::move(b));
      idle_cv_.notify_all();  // room for the reader
    }
    q.claimed = false;
    --busy_;
    idle_cv_.notify_all();  // the shard, maybe everything, is drained
  }
}

void ReplayPool::ApplyBatch(int worker, int shard, const Batch& batch) {
  std::string error;
  for (const Batch::Entry& e : batch.entries) {
    // Items after a failure are moot; those before it still run, so that the failure reported
    // is the first in LSN order, as if one thread had replayed the log.
    if (e.lsn > failed_lsn_.load(std::memory_order_relaxed)) continue;
    Item item{e.lsn, e.type, batch.payload(e)};
    error.clear();
    if (!apply_(worker, shard, item, &error)) Fail(e.lsn, error);
  }
}

void ReplayPool::Fail(uint64_t lsn, const std::string& error) {
  std::lock_guard lock(error_mu_);
  if (lsn < failed_lsn_.load()) {
    failed_lsn_.store(lsn);
    error_ = error;
  }
}

}  // namespace runnel::server
