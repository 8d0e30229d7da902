// The stream value type: entries in ID order in packed chunks, consumer groups with their
// pending entries lists. Knows nothing of RESP; the command layer (commands/streams*.cc) turns
// statuses into Redis's replies.
//
// Entries live in chunks of up to kChunkMaxEntries entries or about kChunkMaxBytes bytes, kept
// in an ordered map keyed by the chunk's base ID (<= every ID in the chunk, > every ID of the
// chunk before), so seeking to an ID is O(log n). One chunk's bytes:
//
//   +----------------------------------------+-------+-------+-----+
//   | master: nfields, (len, field name)...  | entry | entry | ... |
//   +----------------------------------------+-------+-------+-----+
//
//   entry: +-----------------------------------+-----+------------------------------------+
//          | head = ms_delta << 2 | SAME | DEL  | seq | SAME: (len, value) per master field |
//          +-----------------------------------+-----+ else: nfields, (len, f, len, v)...  |
//                                                    +------------------------------------+
//
// Every number is a LEB128 varint. ms_delta is the entry's ms minus the base's; seq is the
// entry's sequence minus the base's when ms_delta is 0, else the sequence itself. SAME says the
// entry's field names are the master's (the chunk's first entry's) and are not repeated. DEL
// marks a deleted entry; it sits in the lowest bit of the first byte so deleting flips one bit
// in place. A chunk that becomes mostly deleted is rewritten without its deleted entries; an
// empty one is dropped.
//
// A chunk's bytes are shared by a stream and its clones (a checkpoint's copy, COPY's) until one
// of them changes the chunk: a count of owners sits in front of the bytes, and a writer copies
// shared bytes first. A clone costs a map of chunk descriptors, not the entries: a checkpoint
// holds the shard of a 3,000,000-entry stream (30,000 chunks) for about 5 ms, where copying the
// chunks took 17 to 136 ms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/object.h"
#include "engine/stream_group.h"
#include "engine/stream_id.h"

namespace runnel::engine {

inline constexpr size_t kChunkMaxEntries = 100;
inline constexpr size_t kChunkMaxBytes = 4096;

// Reads a LEB128 varint from [*p, end); false if truncated or longer than 64 bits.
inline bool ReadVarint(const uint8_t** p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

// One stored entry, read in place; valid until the stream changes.
class EntryView {
 public:
  StreamId id;
  size_t field_count() const { return nfields_; }
  // Calls fn(field, value) for each pair in order.
  template <class Fn>
  void ForEachField(Fn fn) const {
    const uint8_t* p = body_;
    const uint8_t* m = master_;
    for (size_t i = 0; i < nfields_; ++i) {
      std::string_view field = same_ ? Next(&m) : Next(&p);
      std::string_view value = Next(&p);
      fn(field, value);
    }
  }

 private:
  friend class Stream;
  friend class StreamIterator;
  // Chunks are validated when built or loaded, so reads inside them cannot fail.
  std::string_view Next(const uint8_t** p) const {
    uint64_t len = 0;
    ReadVarint(p, end_, &len);
    std::string_view s(reinterpret_cast<const char*>(*p), len);
    *p += len;
    return s;
  }
  const uint8_t* master_ = nullptr;  // first master field (when same_)
  const uint8_t* body_ = nullptr;    // after the entry's head
  const uint8_t* end_ = nullptr;     // end of the chunk
  size_t nfields_ = 0;
  bool same_ = false;
};

// How XADD / XTRIM trim: MAXLEN keeps the newest `threshold` entries, MINID drops entries below
// `min_id`. Approximate trimming drops whole chunks only, at most `limit` entries (0: no limit).
struct TrimSpec {
  enum class Kind { kNone, kMaxLen, kMinId };
  Kind kind = Kind::kNone;
  uint64_t max_len = 0;
  StreamId min_id;
  bool approx = false;
  uint64_t limit = 0;
};

enum class AddError { kOk, kZeroId, kTooSmall, kExhausted };

class Stream final : public Object {
 public:
  struct Chunk {
    uint8_t* data = nullptr;  // after the owners count (see the top); nullptr while empty
    uint32_t size = 0;
    uint32_t capacity = 0;
    uint32_t master_len = 0;  // bytes of the master header
    uint32_t master_n = 0;    // master field count
    uint16_t count = 0;       // entries, deleted ones included
    uint16_t live = 0;
  };
  using ChunkMap = std::map<StreamId, Chunk>;
  using GroupMap = std::map<std::string, std::unique_ptr<ConsumerGroup>, std::less<>>;

  Stream() = default;
  ~Stream() override;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // --- Object ---
  size_t MemoryUsage() const override;
  const char* EncodingName() const override { return "stream"; }
  Object* Clone() const override;
  void Serialize(std::string* out) const override;
  // The inverse of Serialize; nullptr if `data` is not a well-formed stream.
  static std::unique_ptr<Stream> Deserialize(std::string_view data);

  // --- Entries ---
  size_t length() const { return length_; }
  StreamId last_id() const { return last_id_; }
  uint64_t entries_added() const { return entries_added_; }
  StreamId max_deleted_id() const { return max_deleted_id_; }
  void set_last_id(StreamId id) { last_id_ = id; }
  void set_entries_added(uint64_t n) { entries_added_ = n; }
  void set_max_deleted_id(StreamId id) { max_deleted_id_ = id; }
  size_t chunk_count() const { return chunks_.size(); }
  // The first live entry's ID, 0-0 if empty.
  StreamId FirstId() const;

  // The ID XADD would give: `*` (auto), "<ms>-*" (seq_auto) or an explicit ID. now_ms below the
  // last ID's time continues from the last ID, so IDs stay monotonic if the clock goes back.
  AddError NextId(bool id_given, bool seq_auto, StreamId requested, int64_t now_ms,
                  StreamId* out) const;
  // Appends an entry; `id` must be greater than last_id(). `fv` holds field, value, field, ...
  void Append(StreamId id, std::span<const std::string_view> fv);
  // Removes entries per `spec`; returns how many.
  uint64_t Trim(const TrimSpec& spec);
  // Deletes one entry (XDEL); false if there is no live entry with this ID.
  bool Delete(StreamId id);
  bool Contains(StreamId id) const;
  // The live entry with this ID, read in place.
  bool Get(StreamId id, EntryView* out) const;
  const ChunkMap& chunks() const { return chunks_; }

  // --- Consumer groups ---
  const GroupMap& groups() const { return groups_; }
  ConsumerGroup* FindGroup(std::string_view name);
  // nullptr if a group with this name exists.
  ConsumerGroup* CreateGroup(std::string_view name, StreamId last_id, int64_t entries_read);
  bool DestroyGroup(std::string_view name);
  // Moves a group's last-delivered ID forward to `id` (a newly delivered entry), keeping its
  // entries-read counter exact where that can be known.
  void AdvanceGroup(ConsumerGroup* g, StreamId id) const;
  // The entries-read counter an ID corresponds to, or kUnknownEntriesRead.
  int64_t EstimateEntriesRead(StreamId id) const;
  // The group's lag (entries not yet delivered to it); false if it cannot be known.
  bool Lag(const ConsumerGroup& g, int64_t* lag) const;
  // True if an entry was deleted (XDEL) at or after `start` among the live range.
  bool HasTombstonesFrom(StreamId start) const;

 private:
  friend class StreamIterator;
  friend class StreamLoader;
  ChunkMap::iterator ChunkFor(StreamId id);
  ChunkMap::const_iterator ChunkFor(StreamId id) const;
  // Finds the entry `id` in `c`; returns its offset or 0.
  static uint32_t FindIn(const StreamId& base, const Chunk& c, StreamId id);
  bool AppendTo(ChunkMap::iterator it, StreamId id, std::span<const std::string_view> fv);
  void StartChunk(StreamId id, std::span<const std::string_view> fv);
  void MarkDeleted(ChunkMap::iterator it, uint32_t offset);
  void Compact(ChunkMap::iterator it);
  void DropChunk(ChunkMap::iterator it);
  // Makes room for `more` bytes in `c`, copying its bytes first if they are shared: every
  // change to a chunk's bytes goes through it.
  void Reserve(Chunk* c, size_t more);
  // Chunk bytes with their owners count (see the top).
  static uint8_t* NewChunkBytes(size_t capacity);  // one owner
  static void ShareChunkBytes(uint8_t* data);
  static void ReleaseChunkBytes(uint8_t* data);  // frees them with the last owner
  static bool ChunkBytesShared(const uint8_t* data);
  // Unshared bytes to `capacity` (at least the bytes in use); nullptr, with `data` untouched,
  // if out of memory.
  static uint8_t* ResizeChunkBytes(uint8_t* data, size_t capacity);
  void Tidy(ChunkMap::iterator it);
  uint64_t TrimInside(ChunkMap::iterator it, const TrimSpec& spec);
  bool ChunkBelowMinId(const StreamId& base, const Chunk& c, StreamId min_id) const;

  ChunkMap chunks_;
  size_t length_ = 0;
  StreamId last_id_;
  uint64_t entries_added_ = 0;
  StreamId max_deleted_id_;
  size_t chunk_bytes_ = 0;  // chunk buffers' capacities
  GroupMap groups_;
};

// Parts of an entry's head, shared by the iterator and the loader.
struct EntryHead {
  StreamId id;
  bool deleted = false;
  bool same = false;
  size_t nfields = 0;
  uint32_t body = 0;  // offset of the values (or field/value pairs)
  uint32_t next = 0;  // offset of the next entry
};
// Walks live entries with IDs in [start, end], forward or in reverse.
class StreamIterator {
 public:
  StreamIterator(const Stream& s, StreamId start, StreamId end, bool reverse);
  bool Next(EntryView* out);

 private:
  bool LoadChunk();
  bool NextChunk();
  bool Decode(uint32_t offset, EntryView* out, EntryHead* h) const;
  const Stream& s_;
  StreamId start_, end_;
  bool reverse_;
  bool done_ = false;
  Stream::ChunkMap::const_iterator it_;
  const uint8_t* master_fields_ = nullptr;  // the current chunk's first master field
  std::vector<uint32_t> offsets_;           // reverse: entry offsets of the current chunk
  size_t pos_ = 0;  // forward: offset of the next entry; reverse: one past the next in offsets_
};

// Decodes the entry at `offset` of a chunk; false if the bytes are malformed.
bool DecodeEntryHead(const StreamId& base, const Stream::Chunk& c, uint32_t offset, EntryHead* out);
// Checks a chunk from outside (a checkpoint) as thoroughly as the reads inside chunks assume,
// since they do not check bounds: the master header holds master_n field names in master_len
// bytes, every entry decodes inside the chunk with at least one field, IDs rise above *last
// (the previous chunk's last ID, or 0-0), and count and live agree. Sets *last to the chunk's
// last ID.
bool CheckChunk(const StreamId& base, const Stream::Chunk& c, StreamId* last);

}  // namespace runnel::engine
