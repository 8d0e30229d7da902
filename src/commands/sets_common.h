// Helpers shared by the set command files (sets.cc: single-key commands, SMOVE, SSCAN;
// sets_algebra.cc: SINTER, SUNION, SDIFF, their STORE forms and SINTERCARD).
#pragma once

#include <memory>
#include <string_view>

#include "commands/context.h"
#include "commands/table.h"
#include "engine/keyspace.h"
#include "engine/set.h"

namespace runnel::commands::sets {

using engine::Set;

// The thresholds from the config (set-max-intset-entries, set-max-listpack-*).
engine::SetLimits Limits();

// The entry of the set at `key`, or nullptr if missing. A key of another type replies
// WRONGTYPE and sets *failed. Read lookups count keyspace hits and misses, as Redis's do.
engine::Entry* FindSetEntry(CommandContext& ctx, engine::Db& db, std::string_view key, bool read,
                            bool* failed);
inline Set* FindSet(CommandContext& ctx, engine::Db& db, std::string_view key, bool read,
                    bool* failed) {
  engine::Entry* e = FindSetEntry(ctx, db, key, read, failed);
  return e == nullptr ? nullptr : static_cast<Set*>(e->object());
}
// A new key holding an empty set shaped for `first` and about `size_hint` members.
Set* CreateSet(engine::Db& db, std::string_view key, std::string_view first, size_t size_hint,
               const engine::SetLimits& limits);

// --- The log (WantEffects, KeysSpanShards: commands/wal_log.h) ---
// Adds `verb key member...` effects for `members`, at most kEffectBatch members each.
inline constexpr size_t kEffectBatch = 1024;
void AddMemberEffects(CommandContext& ctx, std::string_view verb, std::string_view key,
                      const std::vector<std::string>& members);

// --- Replies ---
// Every member, as a set (RESP3) or an array (RESP2).
void ReplyMembers(resp::ReplyWriter& out, const Set& s);

void RegisterAlgebraCommands(CommandTable& t);

}  // namespace runnel::commands::sets
