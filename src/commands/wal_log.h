// The bridge from commands to the write-ahead log: a write command's effect is appended as one
// record while the command still holds its shard locks, so log order equals apply order per key.
//
// Rule for what is logged: every command in a record touches keys of ONE shard (or none), so
// recovery can skip exactly the commands a shard's checkpoint already covers. Commands whose keys
// are independent (DEL k1 k2, MSET) are split per shard here; commands whose keys depend on each
// other across shards (RENAME, COPY) give per-shard effects themselves. A record as a whole
// (a transaction, DEL k1 k2) may still span shards; Replayer::Scope tells recovery which.
//
// Rule for when: a write is logged through its effects, in the record of its command or, inside
// MULTI/EXEC, of its transaction, and nowhere else, so replay order is the order writes ran.
// FLUSHALL and FLUSHDB follow it too: they are logged as commands, and a record holding one is
// a barrier across all shards in recovery (the kFlushAll/kFlushDb records earlier versions
// wrote are still replayed). Only the active expiry cycle, which runs no command, appends its
// own records (LogExpired).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "persist/command_codec.h"
#include "resp/out_buffer.h"

namespace runnel::persist {
class Wal;
}

namespace runnel::commands {

// The log all writes go to; null when appendonly is off. Set at start-up and by CONFIG SET
// appendonly, with every shard locked; a log once set stays valid (closed) until the server exits.
void SetWal(persist::Wal* wal);
persist::Wal* GetWal();

// Whether a handler should build effects (CommandContext::AddEffect): only the log reads them,
// so with appendonly off (and while replaying) commands skip the work and the memory.
bool WantEffects(const CommandContext& ctx);
// True if the command's keys lie in more than one shard (its arguments alone would not replay
// shard by shard, so it must give per-shard effects).
bool KeysSpanShards(const CommandContext& ctx);

// Appends the effect of the command that just ran (its shards in `shards` are locked) and
// raises those shards' last LSN. Returns the record's LSN, or 0 if nothing was logged.
uint64_t LogEffects(CommandContext& ctx, const CommandSpec& spec, std::span<const int> shards);

// For a transaction (one record for all its commands): adds what `ctx`'s command did to
// `cmds`, with SELECTs where the database changes; *current_db is the record's database so far.
// `split`: divide multi-key effects into one command per shard (when the command held several).
void CollectEffects(CommandContext& ctx, int* current_db, persist::CommandsBuilder* cmds,
                    bool split = true);
// Appends one record of `cmds` (starting in `db`) and raises `shards`' last LSN; 0 if nothing.
uint64_t AppendCommands(engine::Keyspace& ks, int db, int64_t now_ms,
                        const persist::CommandsBuilder& cmds, std::span<const int> shards);

// For a write that takes its own locks (kSelfLocking: FLUSHALL, FLUSHDB) and holds every
// shard's lock now: logs its effects as LogEffects does for the others. Inside EXEC (and in
// replay) it logs nothing: the transaction's record takes the effects, in order.
uint64_t LogEffectsAllShards(CommandContext& ctx);

// Appends DEL records for keys the active expiry cycle removed (under that shard's lock).
void LogExpired(engine::Keyspace& ks, int shard, int db, std::string_view key, int64_t now_ms);

// Which shards a log record touches, for recovery to replay records on different threads.
struct RecordScope {
  // A flush (a record of its own, or FLUSHALL/FLUSHDB among a record's commands), any command
  // without keys, or a record that does not decode: it may touch any shard.
  bool all = false;
  std::vector<int> shards;  // ascending and distinct, when !all
};

// Runs logged records again (recovery), one thread per Replayer: each has its own session,
// statistics and decoding buffers, so replaying a record allocates nothing of its own.
class Replayer {
 public:
  // `shard_lsn` is each shard's checkpoint LSN: commands on shards whose checkpoint already
  // covers a record are skipped. It must outlive the Replayer.
  Replayer(engine::Keyspace& ks, ServerApi& server, const std::vector<uint64_t>& shard_lsn);
  ~Replayer();

  // The shards the record's commands touch; runs nothing.
  void Scope(uint8_t type, std::string_view payload, RecordScope* scope);
  // Runs the record. `shard`: the one shard its commands touch, as Scope found (-1: not known;
  // each command's keys tell).
  bool Apply(uint64_t lsn, uint8_t type, std::string_view payload, int shard,
             std::string* error);

 private:
  bool ApplyFlush(uint64_t lsn, uint8_t type, std::string_view payload, std::string* error);
  // Empties database `db` (every database if db < 0) in each shard whose checkpoint is older
  // than `lsn`.
  void Flush(uint64_t lsn, int db);
  bool CheckDb(int64_t index, std::string* error) const;
  // The command's spec (subcommand resolved); the last one is kept, as logs repeat commands.
  const CommandSpec* SpecOf(std::span<const std::string_view> argv);
  bool Run(uint64_t lsn, std::span<const std::string_view> argv, const CommandSpec& spec,
           std::string_view payload, std::span<const int> shards, std::string* error);

  engine::Keyspace& ks_;
  ServerApi& server_;
  const std::vector<uint64_t>& shard_lsn_;
  std::unique_ptr<ThreadStats> stats_;
  Session session_;
  resp::OutBuffer discard_;
  resp::ReplyWriter out_;
  persist::CommandsView view_;
  std::vector<int> shards_;
  std::string last_name_;
  const CommandSpec* last_spec_ = nullptr;
  int64_t time_ms_ = 0;
};

}  // namespace runnel::commands
