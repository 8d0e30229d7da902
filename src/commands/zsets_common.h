// Helpers shared by the sorted-set command files: zsets.cc (single-member commands, ZRANDMEMBER,
// ZSCAN, registration), zsets_range.cc (ZRANGE and its variants, counts, range removals),
// zsets_pop.cc (ZPOPMIN/ZPOPMAX, ZMPOP and their blocking forms) and zsets_algebra.cc (ZUNION,
// ZINTER, ZDIFF, their STORE forms, ZINTERCARD).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/context.h"
#include "commands/table.h"
#include "engine/keyspace.h"
#include "engine/zset.h"

namespace runnel::commands::zsets {

using engine::ZSet;

inline constexpr std::string_view kErrMinMaxFloat = "ERR min or max is not a float";
inline constexpr std::string_view kErrMinMaxLex = "ERR min or max not valid string range item";

// The thresholds from the config (zset-max-listpack-entries, zset-max-listpack-value).
engine::ZSetLimits Limits();

// --- Keys ---
// The entry of the sorted set at `key`, or nullptr if missing. A key of another type replies
// WRONGTYPE and sets *failed. Read lookups count keyspace hits and misses, as Redis's do.
engine::Entry* FindZSetEntry(CommandContext& ctx, engine::Db& db, std::string_view key, bool read,
                             bool* failed);
inline ZSet* FindZSet(CommandContext& ctx, engine::Db& db, std::string_view key, bool read,
                      bool* failed) {
  engine::Entry* e = FindZSetEntry(ctx, db, key, read, failed);
  return e == nullptr ? nullptr : static_cast<ZSet*>(e->object());
}
// A new key holding an empty sorted set shaped for about `size_hint` elements whose longest
// member has `max_member_len` bytes.
ZSet* CreateZSet(engine::Db& db, std::string_view key, size_t size_hint, size_t max_member_len,
                 const engine::ZSetLimits& limits);
// After elements were removed from the set at `key`: announces `event`, deletes the key (and
// announces "del") if the set emptied, and records the write.
void Removed(CommandContext& ctx, engine::Db& db, std::string_view key, const ZSet* z,
             std::string_view event);
// Replaces `dst` by `result` (deletes it when the result is empty), announces `event` (or "del"
// when an existing key went) and, when the command's keys span shards, logs the result itself
// (DEL + ZADD) so each shard replays from its own checkpoint. Returns the result's size.
int64_t StoreResult(CommandContext& ctx, engine::Db& db, std::string_view dst,
                    std::unique_ptr<ZSet> result, std::string_view event);

// --- Arguments ---
// Scores and weights are read with ParseDouble (common/util.h), Redis's getDoubleFromObject.
// "1", "(1", "-inf", "+inf" as min and max of a score range (Redis's zslParseRange).
bool ParseScoreRange(std::string_view min, std::string_view max, engine::ScoreRange* r);
// "[a", "(a", "-", "+" as min and max of a lex range; the range's views point into the args.
bool ParseLexRange(std::string_view min, std::string_view max, engine::LexRange* r);
// numkeys followed by that many keys, from args[at]: *first_key and *nkeys; replies `error`
// (or a syntax error when fewer keys follow) and returns false otherwise.
bool ParseNumKeys(CommandContext& ctx, size_t at, std::string_view error, size_t* first_key,
                  size_t* nkeys);

// --- Replies ---
// The header of a reply of `n` elements, as ZRANGE replies: with scores, RESP2 flattens each
// (member, score) pair into the array, RESP3 nests it as a two-element array.
inline void ElementsHeader(resp::ReplyWriter& out, uint64_t n, bool with_scores) {
  out.ArrayHeader(static_cast<int64_t>(with_scores && out.protocol() < 3 ? 2 * n : n));
}
inline void ReplyElement(resp::ReplyWriter& out, std::string_view member, double score,
                         bool with_scores) {
  if (!with_scores) return out.Bulk(member);
  if (out.protocol() >= 3) out.ArrayHeader(2);
  out.Bulk(member);
  out.Double(score);
}

// --- The log ---
// A score as text that parses back to exactly the same double.
std::string ScoreText(double score);
// Adds "ZADD key score member ..." effects for `elements`, in batches.
void AddZAddEffects(CommandContext& ctx, std::string_view key,
                    const std::vector<std::pair<std::string, double>>& elements);
// Adds "ZREM key member ..." effects for `members`, in batches.
void AddZRemEffects(CommandContext& ctx, std::string_view key,
                    const std::vector<std::string>& members);

void RegisterRangeCommands(CommandTable& t);
void RegisterPopCommands(CommandTable& t);
void RegisterAlgebraCommands(CommandTable& t);

}  // namespace runnel::commands::zsets
