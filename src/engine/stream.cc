// Stream entries: IDs, the packed chunk encoding, appends, deletion, trimming, iteration, and the
// group counters that depend on the entries (entries-read, lag). Layout in stream.h.
#include "engine/stream.h"
#include "engine/bits.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>

#include "common/util.h"

namespace runnel::engine {

namespace {

constexpr uint64_t kDeletedBit = 1;
constexpr uint64_t kSameBit = 2;
constexpr uint64_t kMaxMsDelta = UINT64_MAX >> 2;
// A map node holding a chunk (rb-tree links, key, Chunk), for memory accounting.
constexpr size_t kChunkNodeBytes = 32 + sizeof(StreamId) + sizeof(Stream::Chunk);

uint8_t* PutString(uint8_t* p, std::string_view s) {
  p = PutVarint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

size_t StringLen(std::string_view s) { return VarintLen(s.size()) + s.size(); }

bool SkipString(const uint8_t** p, const uint8_t* end) {
  uint64_t len;
  if (!ReadVarint(p, end, &len) || len > static_cast<uint64_t>(end - *p)) return false;
  *p += len;
  return true;
}

// True if the field names in `fv` equal the chunk's master fields.
bool SameAsMaster(const Stream::Chunk& c, std::span<const std::string_view> fv) {
  if (fv.size() / 2 != c.master_n) return false;
  const uint8_t* p = c.data;
  const uint8_t* end = c.data + c.master_len;
  uint64_t n = 0;
  ReadVarint(&p, end, &n);
  for (size_t i = 0; i < fv.size(); i += 2) {
    uint64_t len = 0;
    ReadVarint(&p, end, &len);
    if (len != fv[i].size() || std::memcmp(p, fv[i].data(), len) != 0) return false;
    p += len;
  }
  return true;
}

// Bytes an entry takes, and its encoding.
size_t EntryLen(uint64_t head, uint64_t seq, bool same, std::span<const std::string_view> fv) {
  size_t n = VarintLen(head) + VarintLen(seq);
  if (!same) n += VarintLen(fv.size() / 2);
  for (size_t i = 0; i < fv.size(); i += 2) {
    if (!same) n += StringLen(fv[i]);
    n += StringLen(fv[i + 1]);
  }
  return n;
}

uint8_t* PutEntry(uint8_t* p, uint64_t head, uint64_t seq, bool same,
                  std::span<const std::string_view> fv) {
  p = PutVarint(p, head);
  p = PutVarint(p, seq);
  if (!same) p = PutVarint(p, fv.size() / 2);
  for (size_t i = 0; i < fv.size(); i += 2) {
    if (!same) p = PutString(p, fv[i]);
    p = PutString(p, fv[i + 1]);
  }
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// IDs
// ---------------------------------------------------------------------------------------------

bool StreamId::Increment() {
  if (seq != UINT64_MAX) {
    ++seq;
  } else if (ms != UINT64_MAX) {
    ++ms;
    seq = 0;
  } else {
    return false;
  }
  return true;
}

bool StreamId::Decrement() {
  if (seq != 0) {
    --seq;
  } else if (ms != 0) {
    --ms;
    seq = UINT64_MAX;
  } else {
    return false;
  }
  return true;
}

size_t StreamId::Format(char* buf) const {
  size_t n = FormatUint64(ms, buf);
  buf[n++] = '-';
  return n + FormatUint64(seq, buf + n);
}

std::string StreamId::ToString() const {
  char buf[kMaxText];
  return std::string(buf, Format(buf));
}

bool ParseStreamNumber(std::string_view s, uint64_t* out) {
  int64_t v;
  if (ParseInt64(s, &v)) {
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  // Like Redis, fall back to strtoull, which also takes leading spaces and a sign.
  char buf[128];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  errno = 0;
  char* end = nullptr;
  unsigned long long u = std::strtoull(buf, &end, 10);
  if (errno == EINVAL || errno == ERANGE || *end != '\0') return false;
  *out = u;
  return true;
}

bool ParseStreamId(std::string_view s, uint64_t missing_seq, StreamId* id, bool* seq_given,
                   bool* seq_auto) {
  if (s.size() > 127) return false;
  s = s.substr(0, s.find('\0'));  // Redis reads the argument as a C string
  if (seq_given != nullptr) *seq_given = true;
  if (seq_auto != nullptr) *seq_auto = false;
  size_t dash = s.find('-');
  if (!ParseStreamNumber(s.substr(0, dash), &id->ms)) return false;
  if (dash == std::string_view::npos) {
    id->seq = missing_seq;
    if (seq_given != nullptr) *seq_given = false;
    return true;
  }
  std::string_view rest = s.substr(dash + 1);
  if (seq_auto != nullptr && rest == "*") {
    id->seq = 0;
    *seq_auto = true;
    return true;
  }
  return ParseStreamNumber(rest, &id->seq);
}

// ---------------------------------------------------------------------------------------------
// Chunk decoding
// ---------------------------------------------------------------------------------------------

bool DecodeEntryHead(const StreamId& base, const Stream::Chunk& c, uint32_t offset,
                     EntryHead* out) {
  const uint8_t* p = c.data + offset;
  const uint8_t* end = c.data + c.size;
  uint64_t head, seq, n = c.master_n;
  if (!ReadVarint(&p, end, &head) || !ReadVarint(&p, end, &seq)) return false;
  out->deleted = (head & kDeletedBit) != 0;
  out->same = (head & kSameBit) != 0;
  uint64_t ms_delta = head >> 2;
  if (ms_delta > UINT64_MAX - base.ms) return false;
  out->id.ms = base.ms + ms_delta;
  if (ms_delta == 0 && seq > UINT64_MAX - base.seq) return false;
  out->id.seq = ms_delta == 0 ? base.seq + seq : seq;
  if (!out->same && !ReadVarint(&p, end, &n)) return false;
  if (n > static_cast<uint64_t>(end - p)) return false;  // each value takes at least a byte
  out->nfields = n;
  out->body = static_cast<uint32_t>(p - c.data);
  for (uint64_t i = 0; i < n; ++i) {
    if (!out->same && !SkipString(&p, end)) return false;
    if (!SkipString(&p, end)) return false;
  }
  out->next = static_cast<uint32_t>(p - c.data);
  return true;
}

bool CheckChunk(const StreamId& base, const Stream::Chunk& c, StreamId* last) {
  if (c.master_len > c.size) return false;
  const uint8_t* p = c.data;
  const uint8_t* master_end = c.data + c.master_len;
  uint64_t n;
  if (!ReadVarint(&p, master_end, &n) || n != c.master_n || n == 0) return false;
  for (uint64_t i = 0; i < n; ++i)
    if (!SkipString(&p, master_end)) return false;
  if (p != master_end) return false;
  uint32_t count = 0, live = 0;
  EntryHead h;
  for (uint32_t off = c.master_len; off < c.size; off = h.next) {
    if (!DecodeEntryHead(base, c, off, &h) || h.nfields == 0 || h.id <= *last) return false;
    *last = h.id;
    ++count;
    if (!h.deleted) ++live;
  }
  return count == c.count && live == c.live;
}

// ---------------------------------------------------------------------------------------------
// Appending
// ---------------------------------------------------------------------------------------------

namespace {

// In front of a chunk's bytes: how many streams hold them. Changed atomically, since a
// checkpoint lets go of its copy on another thread, without the shard's lock.
constexpr size_t kOwnersBytes = 8;

uint32_t* OwnersOf(const uint8_t* data) {
  return reinterpret_cast<uint32_t*>(const_cast<uint8_t*>(data) - kOwnersBytes);
}

}  // namespace

uint8_t* Stream::NewChunkBytes(size_t capacity) {
  void* p = std::malloc(kOwnersBytes + capacity);
  if (p == nullptr) throw std::bad_alloc();
  *static_cast<uint32_t*>(p) = 1;
  return static_cast<uint8_t*>(p) + kOwnersBytes;
}

void Stream::ShareChunkBytes(uint8_t* data) {
  std::atomic_ref(*OwnersOf(data)).fetch_add(1, std::memory_order_relaxed);
}

void Stream::ReleaseChunkBytes(uint8_t* data) {
  if (data == nullptr) return;
  // acq_rel: the last owner frees only after every other owner's reads are done.
  if (std::atomic_ref(*OwnersOf(data)).fetch_sub(1, std::memory_order_acq_rel) == 1)
    std::free(OwnersOf(data));
}

bool Stream::ChunkBytesShared(const uint8_t* data) {
  // acquire: once the other owners have let go, their reads are done before our writes.
  return data != nullptr && std::atomic_ref(*OwnersOf(data)).load(std::memory_order_acquire) > 1;
}

uint8_t* Stream::ResizeChunkBytes(uint8_t* data, size_t capacity) {
  if (data == nullptr) return NewChunkBytes(capacity);
  void* p = std::realloc(OwnersOf(data), kOwnersBytes + capacity);
  return p == nullptr ? nullptr : static_cast<uint8_t*>(p) + kOwnersBytes;
}

Stream::~Stream() {
  for (auto& [base, c] : chunks_) ReleaseChunkBytes(c.data);
}

void Stream::Reserve(Chunk* c, size_t more) {
  size_t need = c->size + more;
  const bool shared = ChunkBytesShared(c->data);
  if (need <= c->capacity && !shared) return;
  size_t cap = c->capacity;
  if (need > cap) {
    cap = std::max<size_t>({need, size_t{c->capacity} * 2, 64});
    if (cap > kChunkMaxBytes && need <= kChunkMaxBytes) cap = kChunkMaxBytes;
  }
  uint8_t* p;
  if (shared) {
    p = NewChunkBytes(cap);
    std::memcpy(p, c->data, c->size);
    ReleaseChunkBytes(c->data);
  } else if ((p = ResizeChunkBytes(c->data, cap)) == nullptr) {
    throw std::bad_alloc();
  }
  chunk_bytes_ += cap - c->capacity;
  c->data = p;
  c->capacity = static_cast<uint32_t>(cap);
}

bool Stream::AppendTo(ChunkMap::iterator it, StreamId id, std::span<const std::string_view> fv) {
  Chunk& c = it->second;
  const StreamId& base = it->first;
  if (c.count >= kChunkMaxEntries || id.ms - base.ms > kMaxMsDelta) return false;
  bool same = SameAsMaster(c, fv);
  uint64_t ms_delta = id.ms - base.ms;
  uint64_t head = ms_delta << 2 | (same ? kSameBit : 0);
  uint64_t seq = ms_delta == 0 ? id.seq - base.seq : id.seq;
  size_t len = EntryLen(head, seq, same, fv);
  if (c.size + len > kChunkMaxBytes || c.size + len > UINT32_MAX) return false;
  Reserve(&c, len);
  PutEntry(c.data + c.size, head, seq, same, fv);
  c.size += static_cast<uint32_t>(len);
  ++c.count;
  ++c.live;
  return true;
}

void Stream::StartChunk(StreamId id, std::span<const std::string_view> fv) {
  if (!chunks_.empty()) {  // seal the previous chunk: give back its spare bytes
    Chunk& prev = std::prev(chunks_.end())->second;
    if (prev.capacity > prev.size && !ChunkBytesShared(prev.data)) {
      if (uint8_t* p = ResizeChunkBytes(prev.data, prev.size)) {
        chunk_bytes_ -= prev.capacity - prev.size;
        prev.data = p;
        prev.capacity = prev.size;
      }
    }
  }
  Chunk c;
  size_t master = VarintLen(fv.size() / 2);
  for (size_t i = 0; i < fv.size(); i += 2) master += StringLen(fv[i]);
  size_t entry = EntryLen(kSameBit, 0, true, fv);
  Reserve(&c, master + entry);
  uint8_t* p = PutVarint(c.data, fv.size() / 2);
  for (size_t i = 0; i < fv.size(); i += 2) p = PutString(p, fv[i]);
  PutEntry(p, kSameBit, 0, true, fv);
  c.master_len = static_cast<uint32_t>(master);
  c.master_n = static_cast<uint32_t>(fv.size() / 2);
  c.size = static_cast<uint32_t>(master + entry);
  c.count = 1;
  c.live = 1;
  chunks_.emplace_hint(chunks_.end(), id, c);
}

void Stream::Append(StreamId id, std::span<const std::string_view> fv) {
  if (chunks_.empty() || !AppendTo(std::prev(chunks_.end()), id, fv)) StartChunk(id, fv);
  last_id_ = id;
  ++length_;
  ++entries_added_;
}

AddError Stream::NextId(bool id_given, bool seq_auto, StreamId requested, int64_t now_ms,
                        StreamId* out) const {
  if (last_id_ == StreamId::Max()) return AddError::kExhausted;
  if (!id_given) {
    uint64_t now = now_ms < 0 ? 0 : static_cast<uint64_t>(now_ms);
    if (now > last_id_.ms) {
      *out = {now, 0};
      return AddError::kOk;
    }
    *out = last_id_;
    return out->Increment() ? AddError::kOk : AddError::kExhausted;
  }
  if (seq_auto) {
    if (requested.ms < last_id_.ms) return AddError::kTooSmall;
    if (requested.ms == last_id_.ms) {
      if (last_id_.seq == UINT64_MAX) return AddError::kTooSmall;
      requested.seq = last_id_.seq + 1;
    } else {
      requested.seq = 0;
    }
    *out = requested;
    return AddError::kOk;
  }
  if (requested.IsZero()) return AddError::kZeroId;
  if (requested <= last_id_) return AddError::kTooSmall;
  *out = requested;
  return AddError::kOk;
}

// ---------------------------------------------------------------------------------------------
// Lookup and deletion
// ---------------------------------------------------------------------------------------------

Stream::ChunkMap::iterator Stream::ChunkFor(StreamId id) {
  auto it = chunks_.upper_bound(id);
  return it == chunks_.begin() ? chunks_.end() : std::prev(it);
}

Stream::ChunkMap::const_iterator Stream::ChunkFor(StreamId id) const {
  auto it = chunks_.upper_bound(id);
  return it == chunks_.begin() ? chunks_.end() : std::prev(it);
}

uint32_t Stream::FindIn(const StreamId& base, const Chunk& c, StreamId id) {
  EntryHead h;
  for (uint32_t off = c.master_len; off < c.size; off = h.next) {
    if (!DecodeEntryHead(base, c, off, &h) || h.id > id) return 0;
    if (h.id == id) return h.deleted ? 0 : off;
  }
  return 0;
}

bool Stream::Contains(StreamId id) const {
  auto it = ChunkFor(id);
  return it != chunks_.end() && FindIn(it->first, it->second, id) != 0;
}

bool Stream::Get(StreamId id, EntryView* out) const {
  StreamIterator iter(*this, id, id, false);
  return iter.Next(out);
}

StreamId Stream::FirstId() const {
  if (chunks_.empty()) return {};
  StreamIterator iter(*this, StreamId::Min(), StreamId::Max(), false);
  EntryView e;
  return iter.Next(&e) ? e.id : StreamId{};
}

void Stream::MarkDeleted(ChunkMap::iterator it, uint32_t offset) {
  Chunk& c = it->second;
  Reserve(&c, 0);
  c.data[offset] |= kDeletedBit;
  --c.live;
  --length_;
}

void Stream::DropChunk(ChunkMap::iterator it) {
  chunk_bytes_ -= it->second.capacity;
  ReleaseChunkBytes(it->second.data);
  chunks_.erase(it);
}

// Rewrites a chunk without its deleted entries, except the last one: like Redis's nodes, a
// chunk's last stored entry decides whether MINID trimming may drop it whole. Offsets are
// relative to the unchanged base and master, so entries are copied byte for byte.
void Stream::Compact(ChunkMap::iterator it) {
  Chunk& c = it->second;
  uint8_t* fresh = NewChunkBytes(c.size);
  std::memcpy(fresh, c.data, c.master_len);
  uint32_t size = c.master_len;
  EntryHead h;
  for (uint32_t off = c.master_len; off < c.size; off = h.next) {
    DecodeEntryHead(it->first, c, off, &h);
    if (h.deleted && h.next < c.size) continue;
    std::memcpy(fresh + size, c.data + off, h.next - off);
    size += h.next - off;
  }
  ReleaseChunkBytes(c.data);
  if (uint8_t* shrunk = ResizeChunkBytes(fresh, size)) fresh = shrunk;
  chunk_bytes_ = chunk_bytes_ - c.capacity + size;
  c.data = fresh;
  c.size = c.capacity = size;
  c.count = static_cast<uint16_t>(c.live + (h.deleted ? 1 : 0));
}

// After entries of a chunk were deleted: drop it when empty, compact it when mostly deleted.
// The last chunk is left as it is, so it fills up (deleted entries included) as Redis's last
// node does and approximate trimming sees the same chunk boundaries.
void Stream::Tidy(ChunkMap::iterator it) {
  Chunk& c = it->second;
  if (c.live == 0) {
    DropChunk(it);
  } else if (c.count >= 8 && c.live * 2 < c.count && std::next(it) != chunks_.end()) {
    Compact(it);
  }
}

bool Stream::Delete(StreamId id) {
  auto it = ChunkFor(id);
  if (it == chunks_.end()) return false;
  uint32_t off = FindIn(it->first, it->second, id);
  if (off == 0) return false;
  MarkDeleted(it, off);
  Tidy(it);
  if (id > max_deleted_id_) max_deleted_id_ = id;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Trimming
// ---------------------------------------------------------------------------------------------

// Like Redis, a chunk is below MINID when its last stored entry (deleted or not) is.
bool Stream::ChunkBelowMinId(const StreamId& base, const Chunk& c, StreamId min_id) const {
  EntryHead h;
  StreamId last = base;
  for (uint32_t off = c.master_len; off < c.size; off = h.next) {
    if (!DecodeEntryHead(base, c, off, &h)) break;
    last = h.id;
  }
  return last < min_id;
}

// Deletes entries from the front of one chunk while the trim condition holds.
uint64_t Stream::TrimInside(ChunkMap::iterator it, const TrimSpec& spec) {
  Chunk& c = it->second;
  uint64_t removed = 0;
  EntryHead h;
  for (uint32_t off = c.master_len; off < c.size; off = h.next) {
    DecodeEntryHead(it->first, c, off, &h);
    if (h.deleted) continue;
    bool keep =
        spec.kind == TrimSpec::Kind::kMaxLen ? length_ <= spec.max_len : h.id >= spec.min_id;
    if (keep) break;
    MarkDeleted(it, off);
    ++removed;
  }
  Tidy(it);
  return removed;
}

uint64_t Stream::Trim(const TrimSpec& spec) {
  const bool by_len = spec.kind == TrimSpec::Kind::kMaxLen;
  if (spec.kind == TrimSpec::Kind::kNone || (by_len && length_ <= spec.max_len)) return 0;
  uint64_t removed = 0;
  auto it = chunks_.begin();
  while (it != chunks_.end()) {
    if (by_len && length_ <= spec.max_len) break;
    Chunk& c = it->second;
    bool whole =
        by_len ? length_ - c.live >= spec.max_len : ChunkBelowMinId(it->first, c, spec.min_id);
    if (!whole) {
      if (!spec.approx) removed += TrimInside(it, spec);
      break;
    }
    if (spec.limit != 0 && removed + c.live > spec.limit) break;
    removed += c.live;
    length_ -= c.live;
    auto next = std::next(it);
    DropChunk(it);
    it = next;
  }
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Iteration
// ---------------------------------------------------------------------------------------------

StreamIterator::StreamIterator(const Stream& s, StreamId start, StreamId end, bool reverse)
    : s_(s), start_(start), end_(end), reverse_(reverse) {
  done_ = start > end || s.chunks_.empty();
  if (done_) return;
  it_ = s.ChunkFor(reverse ? end : start);
  if (it_ == s.chunks_.end()) {
    if (reverse) {
      done_ = true;
      return;
    }
    it_ = s.chunks_.begin();
  }
  LoadChunk();
}

// Forward iteration walks a chunk entry by entry; reverse iteration first lists the chunk's
// entry offsets (entries are only linked forwards).
bool StreamIterator::LoadChunk() {
  const Stream::Chunk& c = it_->second;
  const uint8_t* m = c.data;
  uint64_t n;
  ReadVarint(&m, c.data + c.size, &n);
  master_fields_ = m;
  if (!reverse_) {
    pos_ = c.master_len;
    return true;
  }
  offsets_.clear();
  EntryHead h;
  for (uint32_t off = c.master_len; off < c.size; off = h.next) {
    if (!DecodeEntryHead(it_->first, c, off, &h)) break;
    offsets_.push_back(off);
  }
  pos_ = offsets_.size();
  return true;
}

bool StreamIterator::Decode(uint32_t offset, EntryView* out, EntryHead* h) const {
  const Stream::Chunk& c = it_->second;
  if (!DecodeEntryHead(it_->first, c, offset, h)) return false;
  out->id = h->id;
  out->same_ = h->same;
  out->nfields_ = h->nfields;
  out->body_ = c.data + h->body;
  out->end_ = c.data + c.size;
  out->master_ = master_fields_;
  return true;
}

// Moves to the next chunk in the iteration's direction; false at the end of the range.
bool StreamIterator::NextChunk() {
  if (reverse_ ? it_ == s_.chunks_.begin() : std::next(it_) == s_.chunks_.end()) return false;
  reverse_ ? --it_ : ++it_;
  if (!reverse_ && it_->first > end_) return false;
  return LoadChunk();
}

bool StreamIterator::Next(EntryView* out) {
  while (!done_) {
    bool has = reverse_ ? pos_ > 0 : pos_ < it_->second.size;
    if (!has) {
      if (!NextChunk()) break;
      continue;
    }
    EntryHead h;
    if (!Decode(reverse_ ? offsets_[--pos_] : pos_, out, &h)) break;
    if (!reverse_) pos_ = h.next;
    if (h.deleted) continue;
    if (reverse_) {
      if (out->id > end_) continue;
      if (out->id < start_) break;
    } else {
      if (out->id < start_) continue;
      if (out->id > end_) break;
    }
    return true;
  }
  done_ = true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Consumer groups and their counters
// ---------------------------------------------------------------------------------------------

ConsumerGroup* Stream::FindGroup(std::string_view name) {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second.get();
}

ConsumerGroup* Stream::CreateGroup(std::string_view name, StreamId last_id, int64_t entries_read) {
  if (groups_.find(name) != groups_.end()) return nullptr;
  auto g = std::make_unique<ConsumerGroup>(last_id, entries_read);
  ConsumerGroup* raw = g.get();
  groups_.emplace(std::string(name), std::move(g));
  return raw;
}

bool Stream::DestroyGroup(std::string_view name) {
  auto it = groups_.find(name);
  if (it == groups_.end()) return false;
  groups_.erase(it);
  return true;
}

bool Stream::HasTombstonesFrom(StreamId start) const {
  if (length_ == 0 || max_deleted_id_.IsZero()) return false;
  if (FirstId() > max_deleted_id_) return false;  // every deletion is behind the first entry
  return start <= max_deleted_id_;
}

// The counter is exact for the last ID, and for IDs at or before the first entry when no XDEL
// left holes after the first entry; anywhere else it cannot be known without a scan.
int64_t Stream::EstimateEntriesRead(StreamId id) const {
  const int64_t added = static_cast<int64_t>(entries_added_);
  if (entries_added_ == 0) return 0;
  if (length_ == 0 && id <= last_id_) return added;
  if (id == last_id_) return added;
  if (id > last_id_) return kUnknownEntriesRead;
  StreamId first = FirstId();
  if (max_deleted_id_.IsZero() || max_deleted_id_ < first) {
    if (id < first) return added - static_cast<int64_t>(length_);
    if (id == first) return added - static_cast<int64_t>(length_) + 1;
  }
  return kUnknownEntriesRead;
}

void Stream::AdvanceGroup(ConsumerGroup* g, StreamId id) const {
  if (g->entries_read != kUnknownEntriesRead && !HasTombstonesFrom(id)) {
    ++g->entries_read;
  } else if (entries_added_ != 0) {
    g->entries_read = EstimateEntriesRead(id);
  }
  g->last_id = id;
}

bool Stream::Lag(const ConsumerGroup& g, int64_t* lag) const {
  const int64_t added = static_cast<int64_t>(entries_added_);
  if (entries_added_ == 0) {
    *lag = 0;
    return true;
  }
  if (g.entries_read != kUnknownEntriesRead && !HasTombstonesFrom(g.last_id)) {
    *lag = added - g.entries_read;
    return true;
  }
  int64_t read = EstimateEntriesRead(g.last_id);
  if (read == kUnknownEntriesRead) return false;
  *lag = added - read;
  return true;
}

size_t Stream::MemoryUsage() const {
  size_t bytes = sizeof(Stream) + chunk_bytes_ + chunks_.size() * kChunkNodeBytes;
  for (const auto& [name, g] : groups_) bytes += 64 + name.capacity() + g->MemoryUsage();
  return bytes;
}

}  // namespace runnel::engine
