// Pub/Sub across event-loop threads.
//
// PubSub is the registry all threads share: how many subscribers each channel, pattern and shard
// channel has on each thread. LocalPubSub is one thread's side: the connections of that thread
// that subscribe to what, and the messages published on the thread during the current loop
// iteration, queued per destination thread (Outbox). At the end of the iteration each
// destination thread gets its queue in one mailbox post and fans each message out to its own
// subscribers' output buffers; a connection with new output is written once per iteration.
//
// A message is formatted once (the RESP3 push differs from the RESP2 array only in its first
// byte) and copied into each subscriber's output buffer, where the output-buffer limits see it.
// A queue goes from one thread to another in FIFO order, so every subscriber receives each
// publisher's messages in publish order.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace runnel::resp {
class OutBuffer;
}

namespace runnel::server {

class Connection;
class LocalPubSub;
class Server;

enum class Channel { kChannel, kPattern, kShard };

// Messages on their way to one thread. Their RESP2 frames lie back to back in `frames`, so a
// run of messages to the same name reaches a RESP2 subscriber in one append.
struct DeliveryBatch {
  struct Item {
    Channel kind;      // the receiver's table to look the name up in (a pmessage's is kPattern)
    uint64_t version;  // registry version at publish time; later subscriptions do not get it
    uint64_t lsn;      // the log's last position at publish time (0: no log): see Publish
    size_t name_offset, frame_offset;  // in `names` and `frames`
    uint32_t name_len, frame_len;
  };
  std::string names;
  std::string frames;
  std::vector<Item> items;  // in publish order, so `version` and `lsn` never decrease

  void Add(Channel kind, uint64_t version, uint64_t lsn, std::string_view name,
           std::string_view frame);
  bool empty() const { return items.empty(); }
  void Clear();
  std::string_view name(const Item& i) const { return {names.data() + i.name_offset, i.name_len}; }
  // Appends messages [first, last) to `out` in protocol `resp` (2 or 3).
  void AppendTo(resp::OutBuffer* out, int resp, size_t first, size_t last) const;
};

// The messages one thread published in the current loop iteration, by destination thread.
class Outbox {
 public:
  // Queues the message made of `parts` for every thread with subscribers in `per_thread`.
  void Add(const std::vector<int>& per_thread, Channel kind, uint64_t version, uint64_t lsn,
           std::string_view name, std::initializer_list<std::string_view> parts);
  // Fans the queue for `own`'s thread out there (if `own`), and posts every other queue to its
  // thread's mailbox.
  void HandOver(Server* server, LocalPubSub* own);

 private:
  std::vector<DeliveryBatch> batches_;  // by thread
  std::string frame_;                   // formatting scratch
};

class PubSub {
 public:
  explicit PubSub(Server* server) : server_(server) {}

  // Counts a subscriber on `thread`; returns the registry version that includes it.
  uint64_t Add(Channel kind, std::string_view name, int thread);
  void Remove(Channel kind, std::string_view name, int thread);
  // Queues `message` for every subscriber of `channel` (and of matching patterns for ordinary
  // channels); returns how many receivers it has. The calling loop thread sends the queue at
  // the end of its iteration; any other thread sends it at once. A message may tell of a write
  // (keyspace events are published once the write is logged), so like a reply it reaches a
  // subscriber only once the log is durable up to where it was when the message was published.
  int Publish(Channel kind, std::string_view channel, std::string_view message);

  // Introspection (PUBSUB, INFO).
  std::vector<std::string> Channels(Channel kind, std::string_view pattern);
  int Subscribers(Channel kind, std::string_view name);
  int Patterns();

 private:
  struct Entry {
    int total = 0;
    std::vector<int> per_thread;
  };
  using Table = std::map<std::string, Entry, std::less<>>;
  Table& table(Channel kind) {
    return kind == Channel::kPattern ? patterns_ : kind == Channel::kShard ? shard_ : channels_;
  }

  Server* server_;
  std::shared_mutex mu_;
  Table channels_, patterns_, shard_;
  uint64_t version_ = 0;  // bumped by every Add (under mu_)
};

// One event-loop thread's Pub/Sub side; used on that thread only.
class LocalPubSub {
 public:
  LocalPubSub(Server* server, int thread) : server_(server), thread_(thread) {}

  // The calling loop thread's LocalPubSub (nullptr on any other thread).
  static LocalPubSub* Current();
  void BindToThisThread();

  int thread() const { return thread_; }
  Outbox& outbox() { return outbox_; }

  // Return false if nothing changed. Subscribe also counts the subscriber in the registry.
  bool Subscribe(Channel kind, std::string_view name, Connection* c, uint64_t client_id);
  bool Unsubscribe(Channel kind, std::string_view name, uint64_t client_id);

  // End of a loop iteration: the messages published on this thread go to their threads.
  void HandOver() { outbox_.HandOver(server_, this); }
  // Messages from some thread's Outbox: into the output buffers of their subscribers here.
  void FanOut(const DeliveryBatch& batch);

 private:
  struct Subscriber {
    Connection* connection;
    uint64_t client_id;
    uint64_t since;  // registry version of the subscription
  };
  using List = std::vector<Subscriber>;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Table = std::unordered_map<std::string, List, NameHash, std::equal_to<>>;
  const List* Find(Channel kind, std::string_view name) const;

  Server* server_;
  int thread_;
  Table tables_[3];  // by Channel
  Outbox outbox_;
};

}  // namespace runnel::server
