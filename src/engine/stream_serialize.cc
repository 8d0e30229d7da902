// A stream's self-contained binary form (checkpoints), its loader, and deep copies (COPY).
//
// Version 2 holds the chunks as they are in memory (layout in stream.h), so writing a stream is
// a copy and loading one is a copy and a check of every entry:
//
//   'X' version(2)
//   last_id.ms last_id.seq entries_added max_deleted.ms max_deleted.seq length
//   nchunks x chunk:  base.ms_delta (from the previous chunk's base) base.seq count live
//                     master_n master_len size bytes[size]
//   ngroups x group:  name last.ms last.seq entries_read+1
//                     nconsumers x (name seen_time active_time)   consumers in name order
//                     npending x (ms_delta seq delivery_time delivery_count consumer_index)
//
// Version 1 (written by earlier versions, still read) has the entries instead of the chunks:
//   length x entry:   ms_delta (from the previous entry's ms) seq nfields (field value)...
// and a stream loaded from it is packed afresh.
//
// Numbers are varints (times zigzag-encoded); strings are a varint length and the bytes. The
// loader checks every length against the bytes left, IDs for order, chunk contents entry by
// entry, and indexes for range.
#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/stream.h"

namespace runnel::engine {

namespace {

constexpr char kMagic = 'X';
constexpr uint8_t kVersion = 2;
constexpr uint8_t kEntriesVersion = 1;  // read only

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(static_cast<uint8_t>(v) | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void Signed(int64_t v) {
    Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void String(std::string_view s) {
    Varint(s.size());
    out_->append(s);
  }
  void Id(StreamId id) {
    Varint(id.ms);
    Varint(id.seq);
  }

 private:
  std::string* out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in)
      : p_(reinterpret_cast<const uint8_t*>(in.data())), end_(p_ + in.size()) {}
  bool Varint(uint64_t* v) { return ReadVarint(&p_, end_, v); }
  bool Signed(int64_t* v) {
    uint64_t u;
    if (!Varint(&u)) return false;
    *v = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
    return true;
  }
  bool String(std::string_view* s) {
    uint64_t len;
    const uint8_t* bytes;
    if (!Varint(&len) || !Bytes(len, &bytes)) return false;
    *s = std::string_view(reinterpret_cast<const char*>(bytes), len);
    return true;
  }
  bool Id(StreamId* id) { return Varint(&id->ms) && Varint(&id->seq); }
  bool Byte(uint8_t* b) {
    if (p_ == end_) return false;
    *b = *p_++;
    return true;
  }
  // A count of items that each take at least `min_bytes`: rejects counts the input cannot hold.
  bool Count(uint64_t* n, uint64_t min_bytes) { return Varint(n) && *n <= left() / min_bytes; }
  // A varint that must fit in a uint32_t.
  bool U32(uint32_t* v) {
    uint64_t u;
    if (!Varint(&u) || u > UINT32_MAX) return false;
    *v = static_cast<uint32_t>(u);
    return true;
  }
  bool Bytes(uint64_t n, const uint8_t** bytes) {
    if (n > left()) return false;
    *bytes = p_;
    p_ += n;
    return true;
  }
  uint64_t left() const { return static_cast<uint64_t>(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

void WriteGroup(Writer& w, std::string_view name, const ConsumerGroup& g) {
  w.String(name);
  w.Id(g.last_id);
  w.Varint(static_cast<uint64_t>(g.entries_read + 1));
  w.Varint(g.consumers().size());
  std::vector<uint32_t> index_of_slot;  // slot -> position in name order
  uint32_t i = 0;
  for (const auto& [cname, c] : g.consumers()) {
    w.String(cname);
    w.Signed(c->seen_time);
    w.Signed(c->active_time);
    if (index_of_slot.size() <= c->slot) index_of_slot.resize(c->slot + 1);
    index_of_slot[c->slot] = i++;
  }
  w.Varint(g.pel().size());
  uint64_t prev_ms = 0;
  for (auto cur = g.pel().begin(); cur.Valid(); cur.Next()) {
    w.Varint(cur->id.ms - prev_ms);
    w.Varint(cur->id.seq);
    w.Signed(cur->delivery_time);
    w.Varint(cur->delivery_count);
    w.Varint(index_of_slot[cur->consumer]);
    prev_ms = cur->id.ms;
  }
}

}  // namespace

void Stream::Serialize(std::string* out) const {
  out->reserve(out->size() + 32 + chunk_bytes_ + chunks_.size() * 16);
  Writer w(out);
  out->push_back(kMagic);
  out->push_back(static_cast<char>(kVersion));
  w.Id(last_id_);
  w.Varint(entries_added_);
  w.Id(max_deleted_id_);
  w.Varint(length_);
  w.Varint(chunks_.size());
  uint64_t prev_ms = 0;
  for (const auto& [base, c] : chunks_) {
    w.Varint(base.ms - prev_ms);
    w.Varint(base.seq);
    w.Varint(c.count);
    w.Varint(c.live);
    w.Varint(c.master_n);
    w.Varint(c.master_len);
    w.String(std::string_view(reinterpret_cast<const char*>(c.data), c.size));  // size, bytes
    prev_ms = base.ms;
  }
  w.Varint(groups_.size());
  for (const auto& [name, g] : groups_) WriteGroup(w, name, *g);
}

// Builds a stream from its serialized form, checking everything it reads.
class StreamLoader {
 public:
  explicit StreamLoader(std::string_view data) : r_(data) {}

  std::unique_ptr<Stream> Load() {
    uint8_t magic, version;
    if (!r_.Byte(&magic) || !r_.Byte(&version) || magic != kMagic ||
        (version != kVersion && version != kEntriesVersion))
      return nullptr;
    StreamId last, max_deleted;
    uint64_t added, length;
    // An entry takes at least 3 bytes in a chunk, 5 in version 1.
    if (!r_.Id(&last) || !r_.Varint(&added) || !r_.Id(&max_deleted) ||
        !r_.Count(&length, version == kVersion ? 3 : 5))
      return nullptr;
    auto s = std::make_unique<Stream>();
    if (!(version == kVersion ? LoadChunks(s.get()) : LoadEntries(s.get(), length)))
      return nullptr;
    if (s->length_ != length || (!s->chunks_.empty() && s->last_id_ > last)) return nullptr;
    if (added < length) return nullptr;
    s->last_id_ = last;
    s->entries_added_ = added;
    s->max_deleted_id_ = max_deleted;
    uint64_t ngroups;
    if (!r_.Count(&ngroups, 6)) return nullptr;
    for (uint64_t i = 0; i < ngroups; ++i)
      if (!LoadGroup(s.get())) return nullptr;
    if (r_.left() != 0) return nullptr;
    return s;
  }

 private:
  // Version 2: the chunks, each copied and then checked as thoroughly as the reads inside a
  // chunk assume (they do not check bounds). Leaves the last stored ID in s->last_id_.
  bool LoadChunks(Stream* s) {
    uint64_t nchunks;
    if (!r_.Count(&nchunks, 8)) return false;
    StreamId prev_last;  // the previous chunk's last stored entry
    uint64_t prev_ms = 0;
    for (uint64_t i = 0; i < nchunks; ++i) {
      StreamId base;
      uint64_t ms_delta;
      Stream::Chunk c;
      uint32_t count, live;
      const uint8_t* bytes;
      if (!r_.Varint(&ms_delta) || !r_.Varint(&base.seq) || !r_.U32(&count) || !r_.U32(&live) ||
          !r_.U32(&c.master_n) || !r_.U32(&c.master_len) || !r_.U32(&c.size) ||
          !r_.Bytes(c.size, &bytes))
        return false;
      if (ms_delta > UINT64_MAX - prev_ms) return false;
      base.ms = prev_ms + ms_delta;
      prev_ms = base.ms;
      if (i > 0 && base <= prev_last) return false;
      if (count == 0 || count > kChunkMaxEntries || live == 0 || live > count) return false;
      c.count = static_cast<uint16_t>(count);
      c.live = static_cast<uint16_t>(live);
      c.data = Stream::NewChunkBytes(c.size);
      std::memcpy(c.data, bytes, c.size);
      c.capacity = c.size;
      // Owned by the stream from here, so freed with it on every return below.
      s->chunk_bytes_ += c.size;
      s->chunks_.emplace_hint(s->chunks_.end(), base, c);
      if (!CheckChunk(base, c, &prev_last)) return false;
      s->length_ += live;
    }
    s->last_id_ = prev_last;
    return true;
  }

  // Version 1: the entries, appended one by one.
  bool LoadEntries(Stream* s, uint64_t length) {
    std::vector<std::string_view> fv;
    StreamId prev;
    for (uint64_t i = 0; i < length; ++i) {
      StreamId id;
      uint64_t ms_delta, nfields;
      if (!r_.Varint(&ms_delta) || !r_.Varint(&id.seq) || !r_.Count(&nfields, 2)) return false;
      if (nfields == 0 || ms_delta > UINT64_MAX - prev.ms) return false;
      id.ms = prev.ms + ms_delta;
      if (i > 0 && id <= prev) return false;
      if (i == 0 && id.IsZero()) return false;
      fv.resize(nfields * 2);
      for (auto& part : fv)
        if (!r_.String(&part)) return false;
      s->Append(id, fv);
      prev = id;
    }
    return true;
  }

  bool LoadGroup(Stream* s) {
    std::string_view name;
    StreamId last;
    uint64_t read_plus_one, nconsumers, npending;
    if (!r_.String(&name) || !r_.Id(&last) || !r_.Varint(&read_plus_one)) return false;
    if (read_plus_one > static_cast<uint64_t>(INT64_MAX)) return false;
    ConsumerGroup* g = s->CreateGroup(name, last, static_cast<int64_t>(read_plus_one) - 1);
    if (g == nullptr || !r_.Count(&nconsumers, 3)) return false;
    std::vector<Consumer*> consumers;
    std::string_view prev_name;
    for (uint64_t i = 0; i < nconsumers; ++i) {
      std::string_view cname;
      int64_t seen, active;
      if (!r_.String(&cname) || !r_.Signed(&seen) || !r_.Signed(&active)) return false;
      if (i > 0 && cname <= prev_name) return false;  // written in name order
      Consumer* c = g->CreateConsumer(cname, seen);
      c->active_time = active;
      consumers.push_back(c);
      prev_name = cname;
    }
    if (!r_.Count(&npending, 5)) return false;
    StreamId prev;
    for (uint64_t i = 0; i < npending; ++i) {
      StreamId id;
      uint64_t ms_delta, count, index;
      int64_t time;
      if (!r_.Varint(&ms_delta) || !r_.Varint(&id.seq) || !r_.Signed(&time) || !r_.Varint(&count) ||
          !r_.Varint(&index))
        return false;
      if (ms_delta > UINT64_MAX - prev.ms || index >= consumers.size()) return false;
      id.ms = prev.ms + ms_delta;
      if (i > 0 && id <= prev) return false;
      g->Assign(id, consumers[index], time, count);
      prev = id;
    }
    return true;
  }

  Reader r_;
};

std::unique_ptr<Stream> Stream::Deserialize(std::string_view data) {
  return StreamLoader(data).Load();
}

Object* Stream::Clone() const {
  auto s = std::make_unique<Stream>();
  for (const auto& [base, c] : chunks_) {  // the bytes are shared until either side writes
    ShareChunkBytes(c.data);
    s->chunks_.emplace_hint(s->chunks_.end(), base, c);
  }
  s->chunk_bytes_ = chunk_bytes_;
  s->length_ = length_;
  s->last_id_ = last_id_;
  s->entries_added_ = entries_added_;
  s->max_deleted_id_ = max_deleted_id_;
  for (const auto& [name, g] : groups_) s->groups_.emplace(name, g->Clone());
  return s.release();
}

}  // namespace runnel::engine
