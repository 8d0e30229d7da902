#include "server/pubsub.h"

#include <algorithm>
#include <charconv>
#include <mutex>

#include "commands/wal_log.h"
#include "common/glob.h"
#include "persist/wal.h"
#include "resp/out_buffer.h"
#include "server/connection.h"
#include "server/server.h"

namespace runnel::server {

namespace {

thread_local LocalPubSub* current_local = nullptr;

void PutLength(std::string* out, char type, size_t n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out->push_back(type);
  out->append(digits, end);
  out->append("\r\n");
}

// The RESP2 form of a message: an array of bulk strings.
void Format(std::string* out, std::initializer_list<std::string_view> parts) {
  out->clear();
  PutLength(out, '*', parts.size());
  for (auto p : parts) {
    PutLength(out, '$', p.size());
    out->append(p);
    out->append("\r\n");
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Queues between threads
// ---------------------------------------------------------------------------------------------

void DeliveryBatch::Add(Channel kind, uint64_t version, uint64_t lsn, std::string_view name,
                        std::string_view frame) {
  // Consecutive messages to one name share its copy.
  if (!items.empty() && items.back().kind == kind && this->name(items.back()) == name) {
    const Item& last = items.back();
    items.push_back({kind, version, lsn, last.name_offset, frames.size(), last.name_len,
                     static_cast<uint32_t>(frame.size())});
  } else {
    items.push_back({kind, version, lsn, names.size(), frames.size(),
                     static_cast<uint32_t>(name.size()), static_cast<uint32_t>(frame.size())});
    names.append(name);
  }
  frames.append(frame);
}

void DeliveryBatch::Clear() {
  names.clear();
  frames.clear();
  items.clear();
}

void DeliveryBatch::AppendTo(resp::OutBuffer* out, int resp, size_t first, size_t last) const {
  if (resp == 2) {
    size_t begin = items[first].frame_offset;
    size_t end = items[last - 1].frame_offset + items[last - 1].frame_len;
    out->Append(frames.data() + begin, end - begin);
    return;
  }
  for (size_t i = first; i < last; ++i) {
    // A push instead of an array; the rest is the same.
    out->Append('>');
    out->Append(frames.data() + items[i].frame_offset + 1, items[i].frame_len - 1);
  }
}

void Outbox::Add(const std::vector<int>& per_thread, Channel kind, uint64_t version,
                 uint64_t lsn, std::string_view name,
                 std::initializer_list<std::string_view> parts) {
  if (batches_.size() < per_thread.size()) batches_.resize(per_thread.size());
  Format(&frame_, parts);
  for (size_t t = 0; t < per_thread.size(); ++t)
    if (per_thread[t] > 0) batches_[t].Add(kind, version, lsn, name, frame_);
}

void Outbox::HandOver(Server* server, LocalPubSub* own) {
  for (size_t t = 0; t < batches_.size(); ++t) {
    DeliveryBatch& batch = batches_[t];
    if (batch.empty()) continue;
    if (own != nullptr && static_cast<int>(t) == own->thread()) {
      own->FanOut(batch);
      batch.Clear();  // keeps the capacity for the next iteration
    } else {
      server->Deliver(static_cast<int>(t), std::move(batch));
      batch = DeliveryBatch();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

uint64_t PubSub::Add(Channel kind, std::string_view name, int thread) {
  std::unique_lock lock(mu_);
  Table& t = table(kind);
  auto it = t.find(name);
  if (it == t.end()) it = t.emplace(std::string(name), Entry()).first;
  Entry& e = it->second;
  if (e.per_thread.empty()) e.per_thread.resize(static_cast<size_t>(server_->Threads()));
  ++e.per_thread[static_cast<size_t>(thread)];
  ++e.total;
  return ++version_;
}

void PubSub::Remove(Channel kind, std::string_view name, int thread) {
  std::unique_lock lock(mu_);
  Table& t = table(kind);
  auto it = t.find(name);
  if (it == t.end()) return;
  --it->second.per_thread[static_cast<size_t>(thread)];
  if (--it->second.total == 0) t.erase(it);
}

int PubSub::Publish(Channel kind, std::string_view channel, std::string_view message) {
  LocalPubSub* here = LocalPubSub::Current();
  Outbox own;
  Outbox& out = here != nullptr ? here->outbox() : own;
  persist::Wal* wal = commands::GetWal();
  uint64_t lsn = wal != nullptr ? wal->last_lsn() : 0;
  int receivers = 0;
  {
    std::shared_lock lock(mu_);
    Table& t = kind == Channel::kShard ? shard_ : channels_;
    if (auto it = t.find(channel); it != t.end()) {
      out.Add(it->second.per_thread, kind, version_, lsn, channel,
              {kind == Channel::kShard ? "smessage" : "message", channel, message});
      receivers += it->second.total;
    }
    if (kind == Channel::kChannel) {
      for (auto& [pattern, e] : patterns_) {
        if (!GlobMatch(pattern, channel)) continue;
        out.Add(e.per_thread, Channel::kPattern, version_, lsn, pattern,
                {"pmessage", pattern, channel, message});
        receivers += e.total;
      }
    }
  }
  if (here == nullptr) own.HandOver(server_, nullptr);
  return receivers;
}

std::vector<std::string> PubSub::Channels(Channel kind, std::string_view pattern) {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (auto& [name, e] : table(kind))
    if (pattern.empty() || GlobMatch(pattern, name)) out.push_back(name);
  return out;
}

int PubSub::Subscribers(Channel kind, std::string_view name) {
  std::shared_lock lock(mu_);
  Table& t = table(kind);
  auto it = t.find(name);
  return it == t.end() ? 0 : it->second.total;
}

int PubSub::Patterns() {
  std::shared_lock lock(mu_);
  return static_cast<int>(patterns_.size());
}

// ---------------------------------------------------------------------------------------------
// One thread's subscribers
// ---------------------------------------------------------------------------------------------

LocalPubSub* LocalPubSub::Current() { return current_local; }

void LocalPubSub::BindToThisThread() { current_local = this; }

bool LocalPubSub::Subscribe(Channel kind, std::string_view name, Connection* c,
                            uint64_t client_id) {
  Table& t = tables_[static_cast<int>(kind)];
  auto it = t.find(name);
  if (it == t.end()) it = t.emplace(std::string(name), List()).first;
  for (const Subscriber& s : it->second)
    if (s.client_id == client_id) return false;
  uint64_t since = server_->pubsub().Add(kind, name, thread_);
  it->second.push_back({c, client_id, since});
  return true;
}

bool LocalPubSub::Unsubscribe(Channel kind, std::string_view name, uint64_t client_id) {
  Table& t = tables_[static_cast<int>(kind)];
  auto it = t.find(name);
  if (it == t.end()) return false;
  List& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(),
                          [&](const Subscriber& s) { return s.client_id == client_id; });
  if (pos == list.end()) return false;
  list.erase(pos);  // keeps the others' order: ties in delivery order stay as they were
  if (list.empty()) t.erase(it);
  server_->pubsub().Remove(kind, name, thread_);
  return true;
}

const LocalPubSub::List* LocalPubSub::Find(Channel kind, std::string_view name) const {
  const Table& t = tables_[static_cast<int>(kind)];
  auto it = t.find(name);
  return it == t.end() ? nullptr : &it->second;
}

void LocalPubSub::FanOut(const DeliveryBatch& batch) {
  // A run of messages to one name goes to each of its subscribers in one go: each connection
  // is touched once per run rather than once per message.
  const auto& items = batch.items;
  for (size_t first = 0, last; first < items.size(); first = last) {
    std::string_view name = batch.name(items[first]);
    for (last = first + 1; last < items.size(); ++last)
      if (items[last].kind != items[first].kind || batch.name(items[last]) != name) break;
    const List* subscribers = Find(items[first].kind, name);
    if (subscribers == nullptr) continue;
    // Delivering only appends to output buffers: the list does not change meanwhile.
    for (const Subscriber& s : *subscribers) {
      // Versions never decrease along the batch: the subscriber gets a suffix of the run.
      size_t from = first;
      while (from < last && items[from].version < s.since) ++from;
      if (from < last) s.connection->DeliverMessages(batch, from, last);
    }
  }
}

}  // namespace runnel::server
