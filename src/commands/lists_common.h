// Helpers shared by the list command files (lists.cc, lists_blocking.cc): lookups, argument
// parsing, and the pop and move operations the blocking commands share with LPOP, LMPOP and
// LMOVE, including what they give the write-ahead log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "commands/context.h"
#include "commands/table.h"
#include "engine/keyspace.h"
#include "engine/list.h"

namespace runnel::commands::lists {

using engine::List;
using engine::ListEnd;

// --- Lookups ---
// The list at `key`, or nullptr if missing. A key of another type replies WRONGTYPE and sets
// *failed. Read lookups count keyspace hits and misses, as Redis's read lookups do.
List* FindList(CommandContext& ctx, engine::Db& db, std::string_view key, bool read, bool* failed);

// --- Arguments (each replies the error and returns false) ---
// LEFT or RIGHT.
bool ParseEnd(CommandContext& ctx, std::string_view arg, ListEnd* end);
// A blocking timeout in seconds (a float) as milliseconds, rounded up; 0 waits forever.
bool ParseTimeout(CommandContext& ctx, std::string_view arg, int64_t* ms);
// LMPOP / BLMPOP: numkeys key [key ...] LEFT|RIGHT [COUNT count], from args[numkeys_at].
struct MultiPopArgs {
  size_t first_key = 0;
  size_t nkeys = 0;
  ListEnd end = ListEnd::kHead;
  int64_t count = 1;
};
bool ParseMultiPop(CommandContext& ctx, size_t numkeys_at, MultiPopArgs* a);
// Key positions of LMPOP (numkeys at 1) and BLMPOP (numkeys at 2).
void LmpopKeys(std::span<const std::string_view> args, std::vector<int>* out);
void BlmpopKeys(std::span<const std::string_view> args, std::vector<int>* out);

// --- Operations ---
// Pops min(count, size) elements of the (non-empty) list at `key` and replies them as an
// array; deletes the key if it empties. `log_effect` gives the log "LPOP key n" / "RPOP key n"
// in place of the command (multi-key and blocking pops).
void PopReply(CommandContext& ctx, engine::Db& db, std::string_view key, List* l, ListEnd end,
              int64_t count, bool log_effect);
// The same for one element, replied as a bulk string (LPOP key, BLPOP).
void PopOneReply(CommandContext& ctx, engine::Db& db, std::string_view key, List* l, ListEnd end,
                 bool log_effect);
// Replies [key, [elements]] for LMPOP / BLMPOP from the first non-empty list among the keys;
// false (nothing replied) if all are empty. On a retry keys of other types count as empty; else
// they reply WRONGTYPE (true).
bool MultiPop(CommandContext& ctx, engine::Db& db, const MultiPopArgs& a);

enum class MoveResult { kMoved, kEmpty, kFailed };
// LMOVE's work: pops from `src` at `from` and pushes to `dst` at `to`, replying the element.
// kEmpty (nothing replied) if `src` is missing (or, on a retry, not a list: a blocked client
// waits for a list); kFailed after a WRONGTYPE reply. Blocking
// commands log their effect (never themselves); LMOVE across shards logs one effect per shard.
MoveResult Move(CommandContext& ctx, engine::Db& db, std::string_view src, std::string_view dst,
                ListEnd from, ListEnd to, bool blocking);

void RegisterBlockingCommands(CommandTable& t);

}  // namespace runnel::commands::lists
