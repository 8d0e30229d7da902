// The lookup every typed command starts with: find the key, count a keyspace hit or miss when the
// command reads (as Redis's read lookups do; a miss is also a "keymiss" keyspace event), and
// reply WRONGTYPE if it holds another type.
#pragma once

#include <string_view>

#include "commands/context.h"
#include "commands/errors.h"
#include "engine/entry.h"
#include "engine/keyspace.h"

namespace runnel::commands {

// The entry of `key` if it holds `type`; nullptr if it is missing (*failed false) or holds
// another type (WRONGTYPE sent, *failed true).
inline engine::Entry* LookupTyped(CommandContext& ctx, engine::Db& db, std::string_view key,
                                  engine::ValueType type, bool read, bool* failed) {
  engine::Entry* e = db.Find(key);
  *failed = false;
  if (read) {
    auto& counter = e != nullptr ? ctx.stats().keyspace_hits : ctx.stats().keyspace_misses;
    counter.fetch_add(1, std::memory_order_relaxed);
    if (e == nullptr) ctx.Notify(kNotifyKeyMiss, "keymiss", key);
  }
  if (e == nullptr || e->type == type) return e;
  ctx.Error(kErrWrongType);
  *failed = true;
  return nullptr;
}

}  // namespace runnel::commands
