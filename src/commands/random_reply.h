// What the commands that pick at random share (RANDOMKEY, SPOP, SRANDMEMBER, HRANDFIELD,
// ZRANDMEMBER): the thread's generator and the cut-off of a reply drawn with repeats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>

#include "commands/context.h"
#include "common/config.h"

namespace runnel::commands {

// The calling thread's random generator.
inline std::mt19937_64& ThreadRng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

// A reply of elements drawn with repeats stops once it passes the normal clients' hard output
// limit (or 1 GB without one), and the client is then closed, as Redis closes a client over its
// output limit: a huge negative count must not exhaust the server's memory.
class RepeatsLimit {
 public:
  explicit RepeatsLimit(CommandContext& ctx) : ctx_(ctx) {
    const int64_t hard = GlobalConfig().GetOutputLimit(ClientClass::kNormal).hard;
    constexpr int64_t kCap = int64_t{1} << 30;
    max_bytes_ = static_cast<size_t>(hard > 0 && hard < kCap ? hard : kCap);
  }
  // After each element: false once the reply is to stop (the size is checked every 1024).
  bool Sent() {
    if (++sent_ % 1024 != 0 || ctx_.out().buffer()->size() < max_bytes_) return true;
    ctx_.session().close_after_reply = true;
    return false;
  }

 private:
  CommandContext& ctx_;
  size_t max_bytes_;
  uint64_t sent_ = 0;
};

}  // namespace runnel::commands
