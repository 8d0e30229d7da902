#include "server/pubsub.h"

#include <algorithm>
#include <mutex>

#include "common/glob.h"
#include "server/connection.h"
#include "server/event_loop.h"
#include "server/server.h"

namespace runnel::server {

namespace {

void PutBulk(std::string* out, std::string_view s) {
  out->push_back('$');
  out->append(std::to_string(s.size()));
  out->append("\r\n");
  out->append(s);
  out->append("\r\n");
}

// A message in both protocols: RESP2 arrays, RESP3 pushes.
std::shared_ptr<const Message> Encode(std::initializer_list<std::string_view> parts) {
  auto m = std::make_shared<Message>();
  std::string body;
  for (auto p : parts) PutBulk(&body, p);
  std::string n = std::to_string(parts.size());
  m->resp2 = "*" + n + "\r\n" + body;
  m->resp3 = ">" + n + "\r\n" + body;
  return m;
}

}  // namespace

bool PubSub::Subscribe(Channel kind, const std::string& name, int thread, uint64_t client_id) {
  std::unique_lock lock(mu_);
  auto& list = table(kind)[name];
  for (const Subscriber& s : list)
    if (s.client_id == client_id) return false;
  list.push_back({thread, client_id});
  return true;
}

bool PubSub::Unsubscribe(Channel kind, const std::string& name, uint64_t client_id) {
  std::unique_lock lock(mu_);
  Table& t = table(kind);
  auto it = t.find(name);
  if (it == t.end()) return false;
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(),
                          [&](const Subscriber& s) { return s.client_id == client_id; });
  if (pos == list.end()) return false;
  list.erase(pos);
  if (list.empty()) t.erase(it);
  return true;
}

int PubSub::Publish(Channel kind, std::string_view channel, std::string_view message) {
  // Per thread: (client, message) pairs, handed over in one mailbox post.
  std::vector<std::vector<std::pair<uint64_t, std::shared_ptr<const Message>>>> batches(
      static_cast<size_t>(server_->Threads()));
  int receivers = 0;
  {
    std::shared_lock lock(mu_);
    Table& t = kind == Channel::kShard ? shard_ : channels_;
    if (auto it = t.find(channel); it != t.end()) {
      auto msg = Encode({kind == Channel::kShard ? "smessage" : "message", channel, message});
      for (const Subscriber& s : it->second) batches[s.thread].emplace_back(s.client_id, msg);
      receivers += static_cast<int>(it->second.size());
    }
    if (kind == Channel::kChannel) {
      for (auto& [pattern, subs] : patterns_) {
        if (!GlobMatch(pattern, channel)) continue;
        auto msg = Encode({"pmessage", pattern, channel, message});
        for (const Subscriber& s : subs) batches[s.thread].emplace_back(s.client_id, msg);
        receivers += static_cast<int>(subs.size());
      }
    }
  }
  for (size_t thread = 0; thread < batches.size(); ++thread) {
    if (batches[thread].empty()) continue;
    server_->Deliver(static_cast<int>(thread), std::move(batches[thread]));
  }
  return receivers;
}

std::vector<std::string> PubSub::Channels(Channel kind, std::string_view pattern) {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (auto& [name, subs] : table(kind))
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  return out;
}

int PubSub::Subscribers(Channel kind, const std::string& name) {
  std::shared_lock lock(mu_);
  Table& t = table(kind);
  auto it = t.find(name);
  return it == t.end() ? 0 : static_cast<int>(it->second.size());
}

int PubSub::Patterns() {
  std::shared_lock lock(mu_);
  return static_cast<int>(patterns_.size());
}

}  // namespace runnel::server
