// Pub/Sub across event-loop threads: who is subscribed to which channel, pattern or shard
// channel, and delivery of published messages to subscribers on every thread. A message is
// encoded once per protocol and handed to each subscriber thread's mailbox once, with the ids
// of its subscribers there, so messages from one publisher arrive in publish order.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace runnel::server {

class Server;

enum class Channel { kChannel, kPattern, kShard };

// A published message, encoded once for each protocol.
struct Message {
  std::string resp2;
  std::string resp3;
};

class PubSub {
 public:
  explicit PubSub(Server* server) : server_(server) {}

  // Returns false if the client was already subscribed to `name`.
  bool Subscribe(Channel kind, const std::string& name, int thread, uint64_t client_id);
  bool Unsubscribe(Channel kind, const std::string& name, uint64_t client_id);
  // Delivers `message` to every subscriber of `channel` (and of matching patterns for ordinary
  // channels); returns how many receivers it reached.
  int Publish(Channel kind, std::string_view channel, std::string_view message);

  // Introspection (PUBSUB, INFO).
  std::vector<std::string> Channels(Channel kind, std::string_view pattern);
  int Subscribers(Channel kind, const std::string& name);
  int Patterns();

 private:
  struct Subscriber {
    int thread;
    uint64_t client_id;
  };
  using Table = std::map<std::string, std::vector<Subscriber>, std::less<>>;
  Table& table(Channel kind) {
    return kind == Channel::kPattern ? patterns_ : kind == Channel::kShard ? shard_ : channels_;
  }

  Server* server_;
  std::shared_mutex mu_;
  Table channels_, patterns_, shard_;
};

}  // namespace runnel::server
