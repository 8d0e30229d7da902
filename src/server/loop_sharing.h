// Whether the event loops should share one thread (loop-sharing auto; Server::BalanceThreads).
// A loop per CPU pays when the CPUs are free for them. When other processes keep the CPUs busy
// (a client on the same machine, as redis-benchmark on a 2-CPU VM takes one), the loops only
// take turns on what is left: each wakes for fewer sockets, sleeps and wakes more, and with
// appendfsync always each makes its own batch durable. One thread running every loop is then
// cheaper per command and faster (docs/PERFORMANCE.md). So, from the CPU time the machine
// spent and what this process spent over each window: share when the others leave less than
// kShareBelow CPUs free; go back to a thread per loop when they leave kSplitFrom or more and
// the shared thread is busy (kBusy of a CPU or more). In between, and when idle, nothing changes.
#pragma once

#include <cstdint>

namespace runnel::server {

class SharingPolicy {
 public:
  static constexpr uint64_t kWindowMs = 200;
  static constexpr double kShareBelow = 1.4;  // CPUs left free by other processes
  static constexpr double kSplitFrom = 1.7;
  static constexpr double kBusy = 0.8;  // CPUs this process used, to split

  explicit SharingPolicy(int cpus) : cpus_(cpus) {}

  // Whether Update would use a sample taken now (the first one, or a window's end): the caller
  // reads the CPU counters only then.
  bool Due(uint64_t now_ms) const { return !started_ || now_ms >= at_ms_ + kWindowMs; }

  // One sample: the clock, the CPU time every CPU of the machine spent busy and this process's
  // CPU time (both in ms). Returns whether the loops should share a thread now, given whether
  // they do (`shared`).
  bool Update(uint64_t now_ms, uint64_t machine_busy_ms, uint64_t process_ms, bool shared) {
    if (!started_) {
      Restart(now_ms, machine_busy_ms, process_ms);
      return shared;
    }
    if (!Due(now_ms)) return shared;
    const double wall = static_cast<double>(now_ms - at_ms_);
    const double ours = static_cast<double>(process_ms - process_ms_) / wall;
    // Clamped: the two clocks tick at different moments.
    double others = static_cast<double>(machine_busy_ms - machine_busy_ms_) / wall - ours;
    if (others < 0) others = 0;
    Restart(now_ms, machine_busy_ms, process_ms);
    const double free = cpus_ - others;
    if (!shared) return free < kShareBelow;
    return !(free >= kSplitFrom && ours >= kBusy);
  }

 private:
  void Restart(uint64_t now_ms, uint64_t machine_busy_ms, uint64_t process_ms) {
    started_ = true;
    at_ms_ = now_ms;
    machine_busy_ms_ = machine_busy_ms;
    process_ms_ = process_ms;
  }

  const int cpus_;
  bool started_ = false;
  uint64_t at_ms_ = 0;
  uint64_t machine_busy_ms_ = 0;
  uint64_t process_ms_ = 0;
};

}  // namespace runnel::server
