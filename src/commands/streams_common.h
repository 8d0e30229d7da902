// Helpers shared by the stream command files (streams.cc, streams_groups.cc, streams_info.cc):
// the stream error strings, ID argument parsing, stream lookups, and entry replies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "engine/keyspace.h"
#include "engine/stream.h"

namespace runnel::commands::streams {

using engine::ConsumerGroup;
using engine::EntryView;
using engine::Stream;
using engine::StreamId;

inline constexpr std::string_view kErrInvalidId =
    "ERR Invalid stream ID specified as stream command argument";

// "NOGROUP No such key '<key>' or consumer group '<group>'" plus `suffix`.
std::string NoGroupOrKey(std::string_view key, std::string_view group,
                         std::string_view suffix = "");
// "NOGROUP No such consumer group '<group>' for key name '<key>'".
std::string NoGroupForKey(std::string_view key, std::string_view group);

// --- Lookups ---
// The stream at `key`, or nullptr if missing. A key of another type replies WRONGTYPE and sets
// *failed. Read lookups count keyspace hits and misses, as Redis's read lookups do.
Stream* FindStream(CommandContext& ctx, engine::Db& db, std::string_view key, bool read,
                   bool* failed);
Stream* CreateStream(engine::Db& db, std::string_view key);

// --- ID arguments (each replies the error and returns false) ---
// A strict ID: "<ms>" (sequence `missing_seq`) or "<ms>-<seq>", no "-" / "+".
bool ParseId(CommandContext& ctx, std::string_view arg, uint64_t missing_seq, StreamId* id);
// A range bound: "-", "+", an ID or incomplete ID, or "(" + ID for an exclusive bound.
bool ParseRangeBound(CommandContext& ctx, std::string_view arg, bool is_start, StreamId* id);
// An integer argument; replies "value is not an integer" on failure.
bool ParseInteger(CommandContext& ctx, std::string_view arg, int64_t* out);

// --- Replies ---
void ReplyId(resp::ReplyWriter& out, StreamId id);
std::string IdString(StreamId id);
// [id, [field, value, ...]]
void ReplyEntry(resp::ReplyWriter& out, const EntryView& e);
// How many live entries [start, end] holds, at most `limit` (0: no limit). Replies count first
// and then walk the range again, so no reply has to hold its entries in a vector.
// *last (if not null) gets the last counted entry's ID.
uint64_t CountRange(const Stream& s, StreamId start, StreamId end, bool reverse, uint64_t limit,
                    StreamId* last = nullptr);
// Replies the first `n` entries of [start, end] (reverse: from end down) as an array, calling
// visit(entry) after each. The caller counted them with CountRange and the entries have not
// changed since (visit may change consumer groups, not entries).
template <class Visit>
void ReplyRange(resp::ReplyWriter& out, const Stream& s, StreamId start, StreamId end, bool reverse,
                uint64_t n, Visit visit) {
  out.ArrayHeader(static_cast<int64_t>(n));
  engine::StreamIterator it(s, start, end, reverse);
  EntryView e;
  for (uint64_t i = 0; i < n && it.Next(&e); ++i) {
    ReplyEntry(out, e);
    visit(e);
  }
}
inline void ReplyRange(resp::ReplyWriter& out, const Stream& s, StreamId start, StreamId end,
                       bool reverse, uint64_t limit) {
  ReplyRange(out, s, start, end, reverse, CountRange(s, start, end, reverse, limit),
             [](const EntryView&) {});
}

// --- The log ---

// Collects the effects of deliveries and claims in one group for the write-ahead log, so a
// command that hands out many entries logs one XCLAIM per distinct (time, count) with all their
// IDs, not one per entry. Flush() adds them: CREATECONSUMER, the XCLAIMs, an XACK of entries
// dropped because they were deleted, and the group's position (SETID).
class ClaimLog {
 public:
  ClaimLog(CommandContext& ctx, std::string_view key, std::string_view group,
           std::string_view consumer)
      : ctx_(ctx), key_(key), group_(group), consumer_(consumer) {}
  void ConsumerCreated() { created_ = true; }
  void Claimed(StreamId id, int64_t time, uint64_t count);
  void Dropped(StreamId id) {
    if (WantEffects(ctx_)) dropped_.push_back(IdString(id));
  }
  void GroupMoved(StreamId last_id, int64_t entries_read);
  void Flush();

 private:
  CommandContext& ctx_;
  std::string key_, group_, consumer_;
  bool created_ = false;
  std::vector<std::pair<std::pair<int64_t, uint64_t>, std::vector<std::string>>> claims_;
  std::vector<std::string> dropped_;
  std::vector<std::string> set_id_;
};

// --- Registration of the other stream command files ---
void RegisterReadCommands(CommandTable& t);
void RegisterGroupCommands(CommandTable& t);
void RegisterInfoCommands(CommandTable& t);

}  // namespace runnel::commands::streams
