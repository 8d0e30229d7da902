// The notify-keyspace-events setting: which classes of keyspace events are published, as bits,
// with Redis's letters for them. Kept apart from Config so that every write command can test it
// with one relaxed load and no call.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace runnel {

enum KeyspaceEventClass : uint32_t {
  kNotifyKeyspace = 1u << 0,   // K: __keyspace@<db>__:<key> carries the event
  kNotifyKeyevent = 1u << 1,   // E: __keyevent@<db>__:<event> carries the key
  kNotifyGeneric = 1u << 2,    // g: DEL, EXPIRE, RENAME, ...
  kNotifyString = 1u << 3,     // $
  kNotifyList = 1u << 4,       // l
  kNotifySet = 1u << 5,        // s
  kNotifyHash = 1u << 6,       // h
  kNotifyZset = 1u << 7,       // z
  kNotifyExpired = 1u << 8,    // x
  kNotifyEvicted = 1u << 9,    // e
  kNotifyStream = 1u << 10,    // t
  kNotifyKeyMiss = 1u << 11,   // m (not part of A)
  kNotifyModule = 1u << 12,    // d
  kNotifyNew = 1u << 13,       // n (not part of A)
  // A: every class but key misses and new keys.
  kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet | kNotifyHash |
               kNotifyZset | kNotifyExpired | kNotifyEvicted | kNotifyStream | kNotifyModule,
};

// The current setting; 0 (the default) publishes nothing.
inline std::atomic<uint32_t> g_keyspace_events{0};
inline uint32_t KeyspaceEvents() { return g_keyspace_events.load(std::memory_order_relaxed); }

// "KEA" -> bits; false on a character that names no class.
bool ParseKeyspaceEvents(std::string_view s, uint32_t* out);
// Bits -> the canonical string CONFIG GET shows ("AKE" for "KEA").
std::string FormatKeyspaceEvents(uint32_t flags);

}  // namespace runnel
