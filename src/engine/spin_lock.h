// The lock of a shard. Commands hold it for well under a microsecond and 256 shards share two
// or so threads, so contention is rare: an uncontended lock is one atomic exchange, cheaper than
// a pthread mutex. A waiter spins briefly, then yields the CPU (a checkpoint may hold a shard
// for a while).
#pragma once

#include <atomic>
#include <thread>

namespace runnel::engine {

class SpinLock {
 public:
  void lock() {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; flag_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) {
          __builtin_ia32_pause();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() { return !flag_.exchange(true, std::memory_order_acquire); }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace runnel::engine
