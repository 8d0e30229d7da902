#include "commands/wal_log.h"

#include <algorithm>
#include <atomic>

#include "commands/dispatch.h"
#include "commands/table.h"
#include "common/log.h"
#include "common/util.h"
#include "engine/keyspace.h"
#include "persist/command_codec.h"
#include "persist/log_format.h"
#include "persist/wal.h"

namespace runnel::commands {

namespace {

std::atomic<persist::Wal*> g_wal{nullptr};

// Adds the shards of a command's keys to `shards` (with repeats).
void ShardsOf(const CommandSpec& spec, std::span<const std::string_view> argv,
              std::vector<int>* shards) {
  thread_local std::vector<int> positions;
  spec.KeyPositions(argv, &positions);
  for (int p : positions) shards->push_back(engine::Keyspace::ShardOf(argv[p]));
}

// The distinct shards of a command's keys.
std::vector<int> ShardsOf(const CommandSpec& spec, std::span<const std::string_view> argv) {
  std::vector<int> shards;
  ShardsOf(spec, argv, &shards);
  std::sort(shards.begin(), shards.end());
  shards.erase(std::unique(shards.begin(), shards.end()), shards.end());
  return shards;
}

const CommandSpec* SpecOf(std::span<const std::string_view> argv) {
  const CommandSpec* spec = Commands().Find(argv[0]);
  if (spec != nullptr && !spec->subcommands.empty() && argv.size() > 1)
    spec = Commands().FindSub(*spec, argv[1]);
  return spec;
}

bool IsFlushAll(std::span<const std::string_view> argv) {
  return EqualsIgnoreCase(argv[0], "FLUSHALL");
}

// FLUSHALL or FLUSHDB, as logged among a record's commands.
bool IsFlush(std::span<const std::string_view> argv) {
  return IsFlushAll(argv) || EqualsIgnoreCase(argv[0], "FLUSHDB");
}

// Adds `argv` to `out`, split into one command per shard when its keys span several shards and
// are independent of each other (DEL k1 k2, MSET k1 v1 k2 v2).
void AddSplit(std::span<const std::string_view> argv, persist::CommandsBuilder* out) {
  const CommandSpec* spec = SpecOf(argv);
  if (spec == nullptr) return;
  std::vector<int> shards = ShardsOf(*spec, argv);
  if (shards.size() <= 1) {
    out->Add(argv);
    return;
  }
  if (!spec->is(kKeysIndependent) || spec->key_finder != nullptr || spec->keys.step < 1) {
    // A handler that touches dependent keys in several shards must give per-shard effects.
    LogWarning("WAL: '{}' touched keys in {} shards without per-shard effects", spec->name,
               shards.size());
    out->Add(argv);
    return;
  }
  size_t first = static_cast<size_t>(spec->keys.first), step = static_cast<size_t>(spec->keys.step);
  std::vector<std::string_view> part;
  for (int shard : shards) {
    part.assign(argv.begin(), argv.begin() + static_cast<ptrdiff_t>(first));
    for (size_t i = first; i + step <= argv.size(); i += step) {
      if (engine::Keyspace::ShardOf(argv[i]) != shard) continue;
      part.insert(part.end(), argv.begin() + static_cast<ptrdiff_t>(i),
                  argv.begin() + static_cast<ptrdiff_t>(i + step));
    }
    out->Add(part);
  }
}

}  // namespace

void SetWal(persist::Wal* wal) { g_wal.store(wal, std::memory_order_release); }
persist::Wal* GetWal() { return g_wal.load(std::memory_order_acquire); }

bool WantEffects(const CommandContext& ctx) { return GetWal() != nullptr && !ctx.replaying(); }

bool KeysSpanShards(const CommandContext& ctx) {
  thread_local std::vector<int> positions;
  ctx.spec()->KeyPositions(ctx.args(), &positions);
  for (int p : positions)
    if (engine::Keyspace::ShardOf(ctx.arg(p)) != engine::Keyspace::ShardOf(ctx.arg(positions[0])))
      return true;
  return false;
}

uint64_t LogEffects(CommandContext& ctx, const CommandSpec& spec, std::span<const int> shards) {
  persist::Wal* wal = GetWal();
  engine::Changes& changes = ctx.changes();
  if (wal == nullptr || (changes.dirty == 0 && changes.expired.empty())) return 0;
  int db = ctx.session().db.load(std::memory_order_relaxed);
  if (changes.expired.empty() && ctx.effect_count() == 0 && shards.size() <= 1) {
    // The common case (SET, INCR, XADD with an ID): the arguments as they came, no copies.
    thread_local std::string payload;
    payload.clear();
    persist::EncodeCommands(db, ctx.now_ms(), ctx.args(), &payload);
    uint64_t lsn = wal->Append(persist::kCommands, payload);
    for (int s : shards) {
      engine::Shard& shard = ctx.keyspace().shard(s);
      shard.last_lsn = std::max(shard.last_lsn, lsn);
    }
    return lsn;
  }
  thread_local persist::CommandsBuilder cmds;
  cmds.Clear();
  int current = db;
  // Under one shard's lock every effect is within that shard: nothing to split.
  CollectEffects(ctx, &current, &cmds, /*split=*/shards.size() > 1);
  return AppendCommands(ctx.keyspace(), db, ctx.now_ms(), cmds, shards);
}

void CollectEffects(CommandContext& ctx, int* current_db, persist::CommandsBuilder* cmds,
                    bool split) {
  engine::Changes& changes = ctx.changes();
  if (changes.dirty == 0 && changes.expired.empty()) return;
  auto select = [&](int db) {
    if (db == *current_db) return;
    std::string n = std::to_string(db);
    std::string_view argv[] = {"SELECT", n};
    cmds->Add(argv);
    *current_db = db;
  };
  for (auto& [expired_db, key] : changes.expired) {
    select(expired_db);
    std::string_view argv[] = {"DEL", key};
    cmds->Add(argv);
  }
  select(ctx.session().db.load(std::memory_order_relaxed));
  if (ctx.effect_count() > 0) {
    for (size_t i = 0; i < ctx.effect_count(); ++i) {
      std::span<const std::string_view> e = ctx.effect(i);
      if (split) {
        AddSplit(e, cmds);
      } else {
        cmds->Add(e);
      }
      // An effect may switch databases itself (COPY ... DB n logs SELECT, RESTORE, SELECT).
      if (e.size() == 2 && EqualsIgnoreCase(e[0], "SELECT")) {
        int64_t n;
        if (ParseInt64(e[1], &n)) *current_db = static_cast<int>(n);
      }
    }
  } else if (changes.dirty > 0) {
    if (split) {
      AddSplit(ctx.args(), cmds);
    } else {
      cmds->Add(ctx.args());
    }
  }
}

uint64_t AppendCommands(engine::Keyspace& ks, int db, int64_t now_ms,
                        const persist::CommandsBuilder& cmds, std::span<const int> shards) {
  persist::Wal* wal = GetWal();
  if (wal == nullptr || cmds.empty()) return 0;
  thread_local std::string payload;
  cmds.Finish(db, now_ms, &payload);
  uint64_t lsn = wal->Append(persist::kCommands, payload);
  for (int s : shards) {
    engine::Shard& shard = ks.shard(s);
    shard.last_lsn = std::max(shard.last_lsn, lsn);
  }
  return lsn;
}

uint64_t LogEffectsAllShards(CommandContext& ctx) {
  if (GetWal() == nullptr || ctx.in_exec() || ctx.replaying()) return 0;
  static const std::vector<int> kAll = [] {
    std::vector<int> all(engine::Keyspace::kShards);
    for (int s = 0; s < engine::Keyspace::kShards; ++s) all[s] = s;
    return all;
  }();
  return LogEffects(ctx, *ctx.spec(), kAll);
}

void LogExpired(engine::Keyspace& ks, int shard, int db, std::string_view key, int64_t now_ms) {
  persist::Wal* wal = GetWal();
  if (wal == nullptr) return;
  std::string_view argv[] = {"DEL", key};
  thread_local std::string payload;
  payload.clear();
  persist::EncodeCommands(db, now_ms, std::span<const std::string_view>(argv), &payload);
  uint64_t lsn = wal->Append(persist::kCommands, payload);
  engine::Shard& s = ks.shard(shard);
  s.last_lsn = std::max(s.last_lsn, lsn);
}

// ---------------------------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------------------------

Replayer::Replayer(engine::Keyspace& ks, ServerApi& server, const std::vector<uint64_t>& shard_lsn)
    : ks_(ks), server_(server), shard_lsn_(shard_lsn),
      stats_(std::make_unique<ThreadStats>(Commands().size())), out_(&discard_, 2) {
  session_.authenticated = true;
}

Replayer::~Replayer() = default;

void Replayer::Scope(uint8_t type, std::string_view payload, RecordScope* scope) {
  scope->all = true;
  scope->shards.clear();
  if (type != persist::kCommands || !persist::DecodeCommands(payload, &view_)) return;
  for (size_t i = 0; i < view_.size(); ++i) {
    std::span<const std::string_view> argv = view_.command(i);
    if (argv.empty() || (argv.size() == 2 && EqualsIgnoreCase(argv[0], "SELECT"))) continue;
    const CommandSpec* spec = SpecOf(argv);
    if (spec == nullptr) return;  // fails when applied, in LSN order
    size_t before = scope->shards.size();
    ShardsOf(*spec, argv, &scope->shards);
    // No keys (FLUSHALL, FLUSHDB among them): it may reach anywhere.
    if (scope->shards.size() == before) return;
  }
  std::sort(scope->shards.begin(), scope->shards.end());
  scope->shards.erase(std::unique(scope->shards.begin(), scope->shards.end()),
                      scope->shards.end());
  scope->all = false;
}

bool Replayer::Apply(uint64_t lsn, uint8_t type, std::string_view payload, int shard,
                     std::string* error) {
  if (type == persist::kFlushAll || type == persist::kFlushDb)
    return ApplyFlush(lsn, type, payload, error);
  if (type != persist::kCommands) {
    *error = "unknown record type " + std::to_string(type);
    return false;
  }
  if (!persist::DecodeCommands(payload, &view_)) {
    *error = "malformed command record";
    return false;
  }
  if (!CheckDb(view_.db, error)) return false;
  session_.db.store(view_.db, std::memory_order_relaxed);
  time_ms_ = view_.time_ms;
  for (size_t i = 0; i < view_.size(); ++i) {
    std::span<const std::string_view> argv = view_.command(i);
    if (argv.empty()) continue;
    if (argv.size() == 2 && EqualsIgnoreCase(argv[0], "SELECT")) {
      int64_t index;
      if (!ParseInt64(argv[1], &index) || !CheckDb(index, error)) {
        if (error->empty()) *error = "bad SELECT in the log";
        return false;
      }
      session_.db.store(static_cast<int>(index), std::memory_order_relaxed);
      continue;
    }
    if (IsFlush(argv)) {
      // Shard by shard, as a flush record: a checkpoint may hold data written after it.
      Flush(lsn, IsFlushAll(argv) ? -1 : session_.db.load(std::memory_order_relaxed));
      continue;
    }
    const CommandSpec* spec = SpecOf(argv);
    if (spec == nullptr) {
      *error = "unknown command '" + std::string(argv[0]) + "' in the log";
      return false;
    }
    std::span<const int> shards(&shard, 1);
    if (shard < 0) {
      shards_.clear();
      ShardsOf(*spec, argv, &shards_);
      shards = shards_;
    }
    if (!Run(lsn, argv, *spec, payload, shards, error)) return false;
  }
  return true;
}

// Runs one command of a record unless every shard it touches has a checkpoint covering `lsn`.
bool Replayer::Run(uint64_t lsn, std::span<const std::string_view> argv, const CommandSpec& spec,
                   std::string_view payload, std::span<const int> shards, std::string* error) {
  bool needed = shards.empty();
  for (int s : shards) needed = needed || shard_lsn_[s] < lsn;
  if (!needed) return true;
  CommandContext ctx(argv, &out_, &session_, &ks_, &server_, stats_.get());
  ctx.set_replay(time_ms_);
  ctx.set_spec(&spec);
  // The payload holds still while the command runs: key shards may be cached.
  ctx.set_request_bytes(payload.data(), payload.data() + payload.size());
  Execute(ctx);
  if (ctx.failed()) {
    // Only commands that changed data are logged, so one that fails now would leave data
    // other than what was acknowledged: stop rather than go on silently.
    std::string reply = discard_.ToString();
    while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r')) reply.pop_back();
    *error = "replaying '" + std::string(argv[0]) + "' failed: " +
             reply.substr(reply.empty() ? 0 : 1);
    discard_.Clear();
    return false;
  }
  discard_.Clear();
  for (int s : shards) ks_.shard(s).last_lsn = std::max(ks_.shard(s).last_lsn, lsn);
  return true;
}

bool Replayer::ApplyFlush(uint64_t lsn, uint8_t type, std::string_view payload,
                          std::string* error) {
  int db = -1;
  if (type == persist::kFlushDb && !persist::DecodeFlushDb(payload, &db)) {
    *error = "malformed FLUSHDB record";
    return false;
  }
  Flush(lsn, db);
  return true;
}

void Replayer::Flush(uint64_t lsn, int db) {
  for (int s = 0; s < engine::Keyspace::kShards; ++s) {
    if (shard_lsn_[s] >= lsn) continue;
    engine::Shard& shard = ks_.shard(s);
    for (int d = 0; d < shard.databases(); ++d)
      if (engine::Table* t = shard.find_table(d); t != nullptr && (db < 0 || d == db)) t->Clear();
    shard.last_lsn = std::max(shard.last_lsn, lsn);
  }
}

bool Replayer::CheckDb(int64_t index, std::string* error) const {
  if (index >= 0 && index < ks_.databases()) return true;
  *error = "the log has data in database " + std::to_string(index) + ", but there are only " +
           std::to_string(ks_.databases()) + " databases (--databases)";
  return false;
}

const CommandSpec* Replayer::SpecOf(std::span<const std::string_view> argv) {
  if (last_spec_ != nullptr && argv[0] == last_name_) return last_spec_;
  const CommandSpec* spec = Commands().Find(argv[0]);
  if (spec == nullptr || !spec->subcommands.empty()) return commands::SpecOf(argv);
  // Only commands without subcommands are kept: the name alone names them.
  last_name_.assign(argv[0]);
  last_spec_ = spec;
  return spec;
}

}  // namespace runnel::commands
