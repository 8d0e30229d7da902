// The lock of a shard. Commands hold it for well under a microsecond and 256 shards share two
// or so threads, so contention is rare: an uncontended lock is one atomic exchange, cheaper than
// a pthread mutex. A waiter spins briefly, then yields the CPU (a checkpoint may hold a shard
// for a while).
//
// The owning thread may lock it again (MULTI/EXEC holds all its shards while the queued commands
// run, and a whole-keyspace command among them locks shards itself).
#pragma once

#include <atomic>
#include <thread>

namespace runnel::engine {

class SpinLock {
 public:
  void lock() {
    const int me = ThreadToken();
    if (owner_.load(std::memory_order_relaxed) == me) {
      ++depth_;
      return;
    }
    while (flag_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; flag_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) {
          __builtin_ia32_pause();
        } else {
          std::this_thread::yield();
        }
      }
    }
    owner_.store(me, std::memory_order_relaxed);
    depth_ = 1;
  }
  void unlock() {
    if (--depth_ > 0) return;
    owner_.store(0, std::memory_order_relaxed);
    flag_.store(false, std::memory_order_release);
  }

 private:
  // A distinct non-zero number per thread.
  static int ThreadToken() {
    static std::atomic<int> next{1};
    thread_local const int token = next.fetch_add(1);
    return token;
  }

  std::atomic<bool> flag_{false};
  std::atomic<int> owner_{0};  // only ever equal to a thread's token while that thread owns it
  int depth_ = 0;              // touched by the owner only
};

}  // namespace runnel::engine
