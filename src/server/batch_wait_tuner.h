// Whether an event loop's input-batching wait (io-batch-wait-us, EventLoop::WaitForMoreInput)
// pays on this machine. The wait trades a sleep and a wake-up for more sockets ready per poll.
// Where sleeping is cheap that saves CPU (a fifth per request on one 2-CPU VM); where it is dear
// it costs CPU (a fifth more per request on another VM of the same kind, whose timer and
// wake-up are slow). So a loop tries both now and then: it alternates short windows with and
// without the wait, compares the thread's CPU time per command in each, and keeps the cheaper for
// a few seconds. Light load decides nothing: the last decision stands (waiting, at first).
#pragma once

#include <cstdint>

namespace runnel::server {

class BatchWaitTuner {
 public:
  static constexpr uint64_t kWindowMs = 50;       // one window of one setting
  static constexpr int kProbeWindows = 6;         // on, off, on, off, on, off
  static constexpr uint64_t kSettleMs = 5000;     // how long a decision stands
  static constexpr uint64_t kMinCommands = 1000;  // per setting, for a probe to decide
  static constexpr double kMargin = 0.05;

  // Whether a pass that qualifies waits now.
  bool waiting() const { return waiting_; }
  // What the last probe that could tell chose (waiting, at first); a probe under way tries both.
  bool decision() const { return decision_; }

  // At every pass end: the loop's clock and how many commands it has run in all. `cpu_ns` gives
  // the thread's CPU time; it is called only when a window starts or ends.
  template <class CpuFn>
  void OnPass(uint64_t now_ms, uint64_t commands, CpuFn cpu_ns) {
    if (now_ms < (probe_window_ < 0 ? next_probe_ms_ : window_end_ms_)) return;
    // A window that ran over by more than its length measured something else (the loop stalled,
    // or did not call this while io-batch-wait-us was 0): the probe starts over.
    if (probe_window_ >= 0 && now_ms > window_end_ms_ + kWindowMs) probe_window_ = -1;
    const int64_t cpu = cpu_ns();
    if (probe_window_ < 0) {
      probe_window_ = 0;
      commands_[0] = commands_[1] = 0;
      cpu_[0] = cpu_[1] = 0;
    } else {
      commands_[probe_window_ % 2] += commands - window_commands_;
      cpu_[probe_window_ % 2] += cpu - window_cpu_;
      if (++probe_window_ == kProbeWindows) return Decide(now_ms);
    }
    waiting_ = probe_window_ % 2 == 0;  // even windows wait
    window_commands_ = commands;
    window_cpu_ = cpu;
    window_end_ms_ = now_ms + kWindowMs;
  }

 private:
  void Decide(uint64_t now_ms) {
    probe_window_ = -1;
    if (commands_[0] < kMinCommands || commands_[1] < kMinCommands) {
      // Too little load to tell: the last decision stands, and the next probe starts at once,
      // so that load arriving now is measured within a probe's length.
      waiting_ = decision_;
      next_probe_ms_ = now_ms;
      return;
    }
    // CPU per command with the wait (0) and without (1). The other setting must be cheaper by
    // kMargin to take over: noise alone should not flip it back and forth.
    const double with = static_cast<double>(cpu_[0]) / static_cast<double>(commands_[0]);
    const double without = static_cast<double>(cpu_[1]) / static_cast<double>(commands_[1]);
    decision_ = decision_ ? with <= without * (1 + kMargin) : with * (1 + kMargin) < without;
    waiting_ = decision_;
    next_probe_ms_ = now_ms + kSettleMs;
  }

  bool waiting_ = true;
  bool decision_ = true;   // of the last probe that could tell
  int probe_window_ = -1;  // the window of the probe under way, -1 when settled
  uint64_t next_probe_ms_ = 0;
  uint64_t window_end_ms_ = 0;
  uint64_t window_commands_ = 0;
  int64_t window_cpu_ = 0;
  uint64_t commands_[2] = {0, 0};  // per setting: [0] waiting, [1] not
  int64_t cpu_[2] = {0, 0};
};

}  // namespace runnel::server
