#include "commands/notify.h"

#include <string>
#include <utility>

namespace runnel::commands {

namespace {

constexpr int kChannelKind = 0;  // ServerApi::Publish: an ordinary channel

void Publish(ServerApi& server, uint32_t flags, int db, std::string_view event,
             std::string_view key) {
  std::string channel;
  if (flags & kNotifyKeyspace) {
    channel.append("__keyspace@").append(std::to_string(db)).append("__:").append(key);
    server.Publish(kChannelKind, channel, event);
  }
  if (flags & kNotifyKeyevent) {
    channel.clear();
    channel.append("__keyevent@").append(std::to_string(db)).append("__:").append(event);
    server.Publish(kChannelKind, channel, key);
  }
}

}  // namespace

void CommandContext::QueueEvent(uint32_t type, std::string_view event, std::string_view key,
                                int db) {
  if (replay_) return;
  CollectEngineEvents();
  events_.push_back({db, std::string(event), std::string(key)});
}

void CommandContext::CollectEngineEvents() {
  uint32_t flags = KeyspaceEvents();
  if (flags & kNotifyExpired) {
    for (size_t i = expired_announced_; i < changes_.expired.size(); ++i)
      events_.push_back({changes_.expired[i].first, "expired", changes_.expired[i].second});
  }
  expired_announced_ = changes_.expired.size();
  // A key found expired is gone before one can be created in its place: these come second.
  if (flags & kNotifyNew) {
    for (auto& [db, key] : changes_.created) events_.push_back({db, "new", std::move(key)});
  }
  changes_.created.clear();
}

std::vector<CommandContext::KeyspaceEvent> CommandContext::TakeEvents() {
  if (!replay_) CollectEngineEvents();
  return std::exchange(events_, {});
}

void CommandContext::AdoptEvents(CommandContext& sub) {
  for (KeyspaceEvent& e : sub.TakeEvents()) events_.push_back(std::move(e));
}

void PublishEvents(CommandContext& ctx) {
  std::vector<CommandContext::KeyspaceEvent> events = ctx.TakeEvents();
  if (events.empty()) return;
  uint32_t flags = KeyspaceEvents();
  for (const auto& e : events) Publish(ctx.server(), flags, e.db, e.event, e.key);
}

void PublishEvent(ServerApi& server, uint32_t type, int db, std::string_view event,
                  std::string_view key) {
  uint32_t flags = KeyspaceEvents();
  if (flags & type) Publish(server, flags, db, event, key);
}

}  // namespace runnel::commands
