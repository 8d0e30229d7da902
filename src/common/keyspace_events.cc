#include "common/keyspace_events.h"

#include <utility>

namespace runnel {

namespace {

// The letters of the type classes, in the order CONFIG GET lists them when not all are set.
constexpr std::pair<char, uint32_t> kClassLetters[] = {
    {'g', kNotifyGeneric}, {'$', kNotifyString},  {'l', kNotifyList},  {'s', kNotifySet},
    {'h', kNotifyHash},    {'z', kNotifyZset},    {'x', kNotifyExpired}, {'e', kNotifyEvicted},
    {'t', kNotifyStream},  {'d', kNotifyModule},  {'n', kNotifyNew},
};

}  // namespace

bool ParseKeyspaceEvents(std::string_view s, uint32_t* out) {
  uint32_t flags = 0;
  for (char c : s) {
    uint32_t bit = 0;
    switch (c) {
      case 'A': bit = kNotifyAll; break;
      case 'K': bit = kNotifyKeyspace; break;
      case 'E': bit = kNotifyKeyevent; break;
      case 'm': bit = kNotifyKeyMiss; break;
      default:
        for (auto [letter, value] : kClassLetters)
          if (c == letter) bit = value;
    }
    if (bit == 0) return false;
    flags |= bit;
  }
  *out = flags;
  return true;
}

std::string FormatKeyspaceEvents(uint32_t flags) {
  std::string s;
  // As Redis does, "A" stands for all of its classes and then hides 'n' too.
  if ((flags & kNotifyAll) == kNotifyAll) {
    s += 'A';
  } else {
    for (auto [letter, value] : kClassLetters)
      if (flags & value) s += letter;
  }
  if (flags & kNotifyKeyspace) s += 'K';
  if (flags & kNotifyKeyevent) s += 'E';
  if (flags & kNotifyKeyMiss) s += 'm';
  return s;
}

}  // namespace runnel
