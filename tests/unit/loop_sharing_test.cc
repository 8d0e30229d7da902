#include "server/loop_sharing.h"

#include <doctest/doctest.h>

namespace runnel::server {
namespace {

// Feeds one window of `ms` in which the machine's CPUs were busy `machine` CPUs' worth and this
// process `ours` CPUs' worth; returns the policy's answer.
struct Feed {
  SharingPolicy policy{2};
  uint64_t now = 1000, busy = 0, process = 0;
  Feed() { policy.Update(now, busy, process, false); }
  bool Window(double machine, double ours, bool shared) {
    now += SharingPolicy::kWindowMs;
    busy += static_cast<uint64_t>(machine * SharingPolicy::kWindowMs);
    process += static_cast<uint64_t>(ours * SharingPolicy::kWindowMs);
    return policy.Update(now, busy, process, shared);
  }
};

TEST_CASE("SharingPolicy: shares when other processes leave less than 1.4 CPUs free") {
  Feed f;
  CHECK_FALSE(f.Window(0.0, 0.0, false));  // idle
  CHECK_FALSE(f.Window(1.5, 1.0, false));  // others 0.5: 1.5 free
  CHECK(f.Window(1.9, 0.8, false));        // others 1.1: 0.9 free (a client beside us)
  CHECK(f.Window(2.0, 0.0, false));        // something else takes both CPUs
}

TEST_CASE("SharingPolicy: splits only when CPUs are free and the shared thread is busy") {
  Feed f;
  CHECK(f.Window(1.9, 0.9, true));         // the client beside us still takes a CPU
  CHECK(f.Window(0.0, 0.0, true));         // idle: nothing changes
  CHECK(f.Window(0.5, 0.5, true));         // free CPUs, little load: nothing gained by splitting
  CHECK(f.Window(1.5, 1.0, true));         // 1.5 free: between the thresholds, stays
  CHECK_FALSE(f.Window(1.0, 1.0, true));   // a busy thread and nothing else running: split
  CHECK_FALSE(f.Window(1.5, 1.5, false));  // and stays split
}

TEST_CASE("SharingPolicy: decides once per window, from the whole window") {
  Feed f;
  const uint64_t half = SharingPolicy::kWindowMs / 2;
  // Half a window of others on both CPUs decides nothing yet.
  CHECK_FALSE(f.policy.Update(f.now + half, f.busy + 2 * half, f.process, false));
  // Over the whole window others took 1 CPU (2 for half of it).
  CHECK(f.policy.Update(f.now + 2 * half, f.busy + 2 * half, f.process, false));
}

}  // namespace
}  // namespace runnel::server
