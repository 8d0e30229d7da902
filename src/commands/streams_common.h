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
// Live entries of [start, end] (reverse: from end down), at most `count` (0: all).
std::vector<EntryView> CollectRange(const Stream& s, StreamId start, StreamId end, bool reverse,
                                    uint64_t count);
void ReplyEntries(resp::ReplyWriter& out, const std::vector<EntryView>& entries);

// --- Registration of the other stream command files ---
void RegisterReadCommands(CommandTable& t);
void RegisterGroupCommands(CommandTable& t);
void RegisterInfoCommands(CommandTable& t);

}  // namespace runnel::commands::streams
