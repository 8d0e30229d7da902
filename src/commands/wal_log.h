// The bridge from commands to the write-ahead log: a write command's effect is appended as one
// record while the command still holds its shard locks, so log order equals apply order per key.
//
// Rule for what is logged: every command in a record touches keys of ONE shard (or none), so
// recovery can skip exactly the commands a shard's checkpoint already covers. Commands whose keys
// are independent (DEL k1 k2, MSET) are split per shard here; commands whose keys depend on each
// other across shards (RENAME, COPY) give per-shard effects themselves.
#pragma once

#include <span>

#include "commands/context.h"

namespace runnel::persist {
class Wal;
}

namespace runnel::commands {

// The log all writes go to; null when appendonly is off. Set once at start-up.
void SetWal(persist::Wal* wal);
persist::Wal* GetWal();

// Appends the effect of the command that just ran (its shards in `shards` are locked) and
// raises those shards' last LSN. Returns the record's LSN, or 0 if nothing was logged.
uint64_t LogEffects(CommandContext& ctx, const CommandSpec& spec, std::span<const int> shards);

// For a transaction (one record for all its commands): adds what `ctx`'s command did to
// `cmds`, with SELECTs where the database changes; *current_db is the record's database so far.
void CollectEffects(CommandContext& ctx, int* current_db,
                    std::vector<std::vector<std::string>>* cmds);
// Appends one record of `cmds` (starting in `db`) and raises `shards`' last LSN; 0 if nothing.
uint64_t AppendCommands(engine::Keyspace& ks, int db, int64_t now_ms,
                        const std::vector<std::vector<std::string>>& cmds,
                        std::span<const int> shards);

// Logs FLUSHDB (db >= 0) or FLUSHALL (db < 0); the caller holds every shard's lock.
void LogFlush(CommandContext& ctx, int db);

// Appends DEL records for keys the active expiry cycle removed (under that shard's lock).
void LogExpired(engine::Keyspace& ks, int shard, int db, std::string_view key, int64_t now_ms);

// Runs one logged record again (recovery). `shard_lsn` is each shard's checkpoint LSN: commands
// on shards whose checkpoint already covers `lsn` are skipped.
bool ReplayRecord(engine::Keyspace& ks, ServerApi& server, ThreadStats& stats, uint64_t lsn,
                  uint8_t type, std::string_view payload, const std::vector<uint64_t>& shard_lsn,
                  std::string* error);

}  // namespace runnel::commands
