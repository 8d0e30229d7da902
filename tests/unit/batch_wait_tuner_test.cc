#include "server/batch_wait_tuner.h"

#include <doctest/doctest.h>

#include <cstdint>

using runnel::server::BatchWaitTuner;

namespace {

// A loop under steady load: `per_ms` commands a millisecond, costing `with_ns` each while the
// tuner waits and `without_ns` while it does not. One pass a millisecond.
struct Sim {
  BatchWaitTuner tuner;
  uint64_t now_ms = 0;
  uint64_t commands = 0;
  int64_t cpu = 0;
  int cpu_reads = 0;
  void Run(uint64_t ms, uint64_t per_ms, int64_t with_ns, int64_t without_ns) {
    for (uint64_t i = 0; i < ms; ++i) {
      ++now_ms;
      commands += per_ms;
      cpu += static_cast<int64_t>(per_ms) * (tuner.waiting() ? with_ns : without_ns);
      tuner.OnPass(now_ms, commands, [&] {
        ++cpu_reads;
        return cpu;
      });
    }
  }
};

constexpr uint64_t kProbeMs = BatchWaitTuner::kWindowMs * BatchWaitTuner::kProbeWindows;

}  // namespace

TEST_CASE("batch wait tuner: waits at first and keeps waiting where waiting is cheaper") {
  Sim sim;
  CHECK(sim.tuner.waiting());
  sim.Run(kProbeMs + 10, 100, 900, 1000);
  CHECK(sim.tuner.waiting());
  sim.Run(BatchWaitTuner::kSettleMs, 100, 900, 1000);
  CHECK(sim.tuner.waiting());
}

TEST_CASE("batch wait tuner: stops waiting where waiting costs more, and probes again later") {
  Sim sim;
  sim.Run(kProbeMs + 10, 100, 1200, 1000);
  CHECK_FALSE(sim.tuner.waiting());
  // The decision stands between probes: the CPU clock is not read meanwhile.
  const int reads = sim.cpu_reads;
  sim.Run(BatchWaitTuner::kSettleMs - kProbeMs, 100, 1200, 1000);
  CHECK_FALSE(sim.tuner.waiting());
  CHECK(sim.cpu_reads == reads);
  // The machine changes: the next probe finds waiting cheaper and turns it back on.
  sim.Run(kProbeMs * 2 + 20, 100, 800, 1000);
  sim.Run(BatchWaitTuner::kSettleMs + kProbeMs + 20, 100, 800, 1000);
  CHECK(sim.tuner.waiting());
}

TEST_CASE("batch wait tuner: a probe alternates the two settings") {
  Sim sim;
  sim.Run(1, 100, 1000, 1000);  // the probe starts, waiting
  for (int w = 0; w < BatchWaitTuner::kProbeWindows; ++w) {
    CHECK(sim.tuner.waiting() == (w % 2 == 0));
    sim.Run(BatchWaitTuner::kWindowMs, 100, 1000, 1000);
  }
}

TEST_CASE("batch wait tuner: a difference within the margin does not flip the decision") {
  Sim sim;
  sim.Run(kProbeMs + 10, 100, 1030, 1000);  // 3% dearer: keeps waiting
  CHECK(sim.tuner.waiting());
  Sim off;
  off.Run(kProbeMs + 10, 100, 1200, 1000);
  REQUIRE_FALSE(off.tuner.waiting());
  off.Run(BatchWaitTuner::kSettleMs + kProbeMs, 100, 970, 1000);  // 3% cheaper: stays off
  CHECK_FALSE(off.tuner.waiting());
}

TEST_CASE("batch wait tuner: light load decides nothing and the next probe follows at once") {
  Sim sim;
  sim.Run(kProbeMs + 10, 100, 1200, 1000);
  REQUIRE_FALSE(sim.tuner.waiting());
  sim.Run(BatchWaitTuner::kSettleMs, 1, 100, 1000);  // idle-ish: far fewer commands than needed
  // Probes keep starting; between them the decision (not waiting) stands.
  sim.Run(kProbeMs, 1, 100, 1000);
  const int reads = sim.cpu_reads;
  sim.Run(kProbeMs, 1, 100, 1000);
  CHECK(sim.cpu_reads > reads);
  // Load arrives where waiting now pays: within two probes the loop waits again.
  sim.Run(2 * kProbeMs + 10, 100, 800, 1000);
  CHECK(sim.tuner.waiting());
}

TEST_CASE("batch wait tuner: a window that runs long starts the probe over") {
  Sim sim;
  sim.Run(BatchWaitTuner::kWindowMs + 1, 100, 1200, 1000);  // into window 1, without the wait
  REQUIRE_FALSE(sim.tuner.waiting());
  // 10 s without a call (io-batch-wait-us was 0), with 5 s of CPU over few commands: counted in
  // that window, it would make not waiting look dear.
  sim.now_ms += 10000;
  sim.cpu += 5'000'000'000;
  sim.commands += 1000;
  sim.Run(kProbeMs + 10, 100, 1200, 1000);
  CHECK_FALSE(sim.tuner.waiting());  // measured afresh: waiting costs more
}
