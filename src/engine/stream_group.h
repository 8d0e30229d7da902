// Consumer groups: a group's last-delivered ID and entries-read counter, its consumers, and its
// pending entries list (PEL): entries delivered to a consumer and not yet acknowledged. The PEL
// is indexed twice, per group (with delivery time, count and consumer) and per consumer (IDs
// only), both as IdIndex, so XACK, XPENDING and XCLAIM are O(log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/stream_id.h"
#include "engine/stream_index.h"

namespace runnel::engine {

// entries-read when the group cannot know how many entries it has read.
inline constexpr int64_t kUnknownEntriesRead = -1;

// One pending entry in a group's PEL: 32 bytes. Delivery counts saturate at UINT32_MAX.
struct PendingEntry {
  StreamId id;
  int64_t delivery_time = 0;  // ms
  uint32_t delivery_count = 0;
  uint32_t consumer = 0;  // the owning consumer's slot in its group
};
static_assert(sizeof(PendingEntry) == 32);
inline StreamId IdOf(const PendingEntry& p) { return p.id; }

struct Consumer {
  std::string name;
  int64_t seen_time = 0;     // last attempted interaction (ms)
  int64_t active_time = -1;  // last successful interaction (ms), -1 if none
  uint32_t slot = 0;
  IdIndex<StreamId> pending;  // this consumer's share of the group PEL
};

class ConsumerGroup {
 public:
  using ConsumerMap = std::map<std::string, std::unique_ptr<Consumer>, std::less<>>;

  ConsumerGroup(StreamId last_id, int64_t entries_read)
      : last_id(last_id), entries_read(entries_read) {}

  StreamId last_id;
  int64_t entries_read;

  const IdIndex<PendingEntry>& pel() const { return pel_; }
  const ConsumerMap& consumers() const { return consumers_; }
  Consumer* FindConsumer(std::string_view name);
  // Creates a consumer; nullptr if one with this name exists.
  Consumer* CreateConsumer(std::string_view name, int64_t now_ms);
  // Deletes a consumer and its pending entries; returns how many were pending, -1 if no such
  // consumer.
  int64_t DeleteConsumer(std::string_view name);
  Consumer* ConsumerAt(uint32_t slot) const { return slots_[slot]; }
  const PendingEntry* FindPending(StreamId id) const { return pel_.Find(id); }

  // Records a delivery of `id` to `c` by XREADGROUP: a new pending entry with count 1, or an
  // existing one moved to `c` with its count reset to 1.
  void Deliver(StreamId id, Consumer* c, int64_t now_ms);
  // Removes a pending entry (XACK); false if it was not pending.
  bool Ack(StreamId id);
  // Gives the pending entry `id` (creating it if missing) to `c` with this time and count.
  void Assign(StreamId id, Consumer* c, int64_t delivery_time, uint64_t delivery_count);
  // Updates the time and count of an existing pending entry, keeping its owner.
  void Touch(StreamId id, int64_t delivery_time, uint64_t delivery_count);

  size_t MemoryUsage() const;
  std::unique_ptr<ConsumerGroup> Clone() const;

 private:
  IdIndex<PendingEntry> pel_;
  ConsumerMap consumers_;
  std::vector<Consumer*> slots_;  // by slot; null where free
  std::vector<uint32_t> free_slots_;
};

inline uint32_t SaturatedCount(uint64_t n) {
  return n > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(n);
}

}  // namespace runnel::engine
