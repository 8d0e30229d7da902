// Consumer groups and their pending entries lists.
#include "engine/stream_group.h"

namespace runnel::engine {

Consumer* ConsumerGroup::FindConsumer(std::string_view name) {
  auto it = consumers_.find(name);
  return it == consumers_.end() ? nullptr : it->second.get();
}

Consumer* ConsumerGroup::CreateConsumer(std::string_view name, int64_t now_ms) {
  if (consumers_.find(name) != consumers_.end()) return nullptr;
  auto c = std::make_unique<Consumer>();
  c->name = std::string(name);
  c->seen_time = now_ms;
  if (free_slots_.empty()) {
    c->slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(c.get());
  } else {
    c->slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[c->slot] = c.get();
  }
  Consumer* raw = c.get();
  consumers_.emplace(raw->name, std::move(c));
  return raw;
}

int64_t ConsumerGroup::DeleteConsumer(std::string_view name) {
  auto it = consumers_.find(name);
  if (it == consumers_.end()) return -1;
  Consumer* c = it->second.get();
  int64_t pending = static_cast<int64_t>(c->pending.size());
  for (auto cur = c->pending.begin(); cur.Valid(); cur.Next()) pel_.Erase(*cur);
  slots_[c->slot] = nullptr;
  free_slots_.push_back(c->slot);
  consumers_.erase(it);
  return pending;
}

void ConsumerGroup::Deliver(StreamId id, Consumer* c, int64_t now_ms) { Assign(id, c, now_ms, 1); }

bool ConsumerGroup::Ack(StreamId id) {
  const PendingEntry* p = pel_.Find(id);
  if (p == nullptr) return false;
  slots_[p->consumer]->pending.Erase(id);
  pel_.Erase(id);
  return true;
}

void ConsumerGroup::Assign(StreamId id, Consumer* c, int64_t delivery_time,
                           uint64_t delivery_count) {
  PendingEntry* p = pel_.Find(id);
  if (p == nullptr) {
    pel_.Insert(PendingEntry{id, delivery_time, SaturatedCount(delivery_count), c->slot});
    c->pending.Insert(id);
    return;
  }
  if (p->consumer != c->slot) {
    slots_[p->consumer]->pending.Erase(id);
    p->consumer = c->slot;
    c->pending.Insert(id);
  }
  p->delivery_time = delivery_time;
  p->delivery_count = SaturatedCount(delivery_count);
}

void ConsumerGroup::Touch(StreamId id, int64_t delivery_time, uint64_t delivery_count) {
  if (PendingEntry* p = pel_.Find(id)) {
    p->delivery_time = delivery_time;
    p->delivery_count = SaturatedCount(delivery_count);
  }
}

size_t ConsumerGroup::MemoryUsage() const {
  size_t bytes = sizeof(*this) + pel_.MemoryUsage() + slots_.capacity() * sizeof(Consumer*) +
                 free_slots_.capacity() * sizeof(uint32_t);
  for (const auto& [name, c] : consumers_)
    bytes += sizeof(Consumer) + 64 + name.capacity() + c->pending.MemoryUsage();
  return bytes;
}

std::unique_ptr<ConsumerGroup> ConsumerGroup::Clone() const {
  auto g = std::make_unique<ConsumerGroup>(last_id, entries_read);
  g->pel_ = pel_;
  g->slots_.assign(slots_.size(), nullptr);
  g->free_slots_ = free_slots_;
  for (const auto& [name, c] : consumers_) {
    auto copy = std::make_unique<Consumer>(*c);
    g->slots_[copy->slot] = copy.get();
    g->consumers_.emplace(name, std::move(copy));
  }
  return g;
}

}  // namespace runnel::engine
