#include "commands/dispatch.h"

#include <time.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>

#include "commands/blocking.h"
#include "commands/errors.h"
#include "commands/notify.h"
#include "commands/pubsub.h"
#include "commands/wal_log.h"
#include "persist/wal.h"
#include "commands/table.h"
#include "common/util.h"
#include "engine/keyspace.h"

namespace runnel::commands {

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

std::string_view StatusError(engine::Status s) {
  using engine::Status;
  switch (s) {
    case Status::kWrongType: return kErrWrongType;
    case Status::kNotInteger: return kErrNotInteger;
    case Status::kNotFloat: return kErrNotFloat;
    case Status::kOverflow: return kErrOverflow;
    case Status::kOutOfRange: return kErrOutOfRange;
    case Status::kSyntax: return kErrSyntax;
    case Status::kNotFound: return kErrNoSuchKey;
    default: return "ERR internal error";
  }
}

std::string WrongArgs(std::string_view command) {
  return "ERR wrong number of arguments for '" + std::string(command) + "' command";
}

std::string UnknownSubcommand(std::string_view sub, std::string_view container) {
  std::string upper(container);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try " + upper +
         " HELP.";
}

void ThreadStats::CountError(std::string_view prefix) {
  total_error_replies.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(errors_mu);
  for (auto& [name, count] : errors) {
    if (name == prefix) {
      ++count;
      return;
    }
  }
  if (errors.size() < 128) errors.emplace_back(prefix, 1);
}

void CommandContext::AddEffect(std::vector<std::string> argv) {
  owned_effects_.push_back(std::move(argv));
  for (const std::string& a : owned_effects_.back()) effect_args_.emplace_back(a);
  effect_ends_.push_back(effect_args_.size());
}

void CommandContext::AddEffectArgs(std::span<const std::string_view> argv) {
  effect_args_.insert(effect_args_.end(), argv.begin(), argv.end());
  effect_ends_.push_back(effect_args_.size());
}

std::string_view CommandContext::Keep(std::string_view s) {
  if (s.size() <= sizeof kept_ - kept_used_) {
    char* p = kept_ + kept_used_;
    std::copy(s.begin(), s.end(), p);
    kept_used_ += s.size();
    return std::string_view(p, s.size());
  }
  owned_effects_.push_back({std::string(s)});
  return owned_effects_.back().front();
}

void CommandContext::Error(std::string_view msg) {
  failed_ = true;
  size_t space = msg.find(' ');
  stats_->CountError(msg.substr(0, space == std::string_view::npos ? msg.size() : space));
  out_->Error(msg);
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

namespace {

std::string UnknownCommand(std::span<const std::string_view> args) {
  std::string msg = "ERR unknown command '";
  msg.append(args[0].substr(0, 128));
  msg.append("', with args beginning with: ");
  size_t list = 0;  // bytes of quoted arguments so far, at most 128 as in Redis
  for (size_t i = 1; i < args.size() && list < 128; ++i) {
    std::string_view a = args[i].substr(0, 128 - list);
    msg.push_back('\'');
    msg.append(a);
    msg.append("' ");
    list += a.size() + 3;
  }
  for (char& c : msg)
    if (c == '\r' || c == '\n') c = ' ';
  return msg;
}

bool ArityOk(const CommandSpec& spec, size_t argc) {
  int n = static_cast<int>(argc);
  return spec.arity > 0 ? n == spec.arity : n >= -spec.arity;
}

// Locks the shards of a command's keys in ascending order for the life of the guard.
class ShardLocks {
 public:
  ShardLocks(CommandContext& ctx, const CommandSpec& spec, std::span<const std::string_view> args)
      : ks_(ctx.keyspace()) {
    // The common case, one key at a fixed position (GET, SET, INCR, XADD...): no sort, no vector.
    const KeySpec& k = spec.keys;
    if (spec.key_finder == nullptr && k.first > 0 && k.last == k.first &&
        static_cast<size_t>(k.first) < args.size()) {
      LockOne(ctx, args[k.first]);
      return;
    }
    thread_local std::vector<int> positions;
    spec.KeyPositions(args, &positions);
    if (positions.size() == 1) {
      LockOne(ctx, args[positions[0]]);
      return;
    }
    for (int p : positions) shards_.push_back(engine::Keyspace::ShardOf(args[p]));
    std::sort(shards_.begin(), shards_.end());
    shards_.erase(std::unique(shards_.begin(), shards_.end()), shards_.end());
    for (int s : shards_) ks_.shard(s).mutex().lock();
  }
  std::span<const int> shards() const {
    return single_ >= 0 ? std::span<const int>(&single_, 1) : std::span<const int>(shards_);
  }
  ~ShardLocks() {
    if (single_ >= 0) {
      ks_.shard(single_).mutex().unlock();
      return;
    }
    for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) ks_.shard(*it).mutex().unlock();
  }

 private:
  void LockOne(CommandContext& ctx, std::string_view key) {
    single_ = engine::Keyspace::ShardOf(key);
    ctx.SeedShard(key, single_);
    ks_.shard(single_).mutex().lock();
  }

  engine::Keyspace& ks_;
  int single_ = -1;
  std::vector<int> shards_;
};

std::atomic<bool> g_loading{false};

// Command durations (INFO commandstats) are measured with the CPU's time-stamp counter, which
// is much cheaper than reading the clock twice per command. Its rate comes from the counter and
// the clock as read at start-up and again by the first command at least 10 ms later; a command
// before that uses the rate so far. (Measuring it by spinning for 20 ms made the first command
// of every server that much slower, which a test suite starting a server per test pays each
// time.)
const int64_t g_start_us = MonotonicUs();
const uint64_t g_start_ticks = __rdtsc();
std::atomic<double> g_ticks_per_us{0};

double TicksPerMicrosecond() {
  double rate = g_ticks_per_us.load(std::memory_order_relaxed);
  if (rate > 0) return rate;
  const int64_t us = MonotonicUs() - g_start_us;
  rate = static_cast<double>(__rdtsc() - g_start_ticks) /
         static_cast<double>(std::max<int64_t>(us, 1));
  if (us >= 10000) g_ticks_per_us.store(rate, std::memory_order_relaxed);
  return rate;
}

void Bump(std::atomic<uint64_t>& counter, uint64_t n) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Checks that depend on the server's state: authentication, loading, log health.
bool Admit(CommandContext& ctx, const CommandSpec& spec) {
  if (!ctx.session().authenticated && !spec.is(kNoAuth)) {
    ctx.Error(kErrNoAuth);
    return false;
  }
  if (g_loading.load(std::memory_order_relaxed) && !spec.is(kLoading)) {
    ctx.Error("LOADING Redis is loading the dataset in memory");
    return false;
  }
  if (spec.is(kWrite)) {
    persist::Wal* wal = GetWal();
    if (wal != nullptr && !wal->healthy()) {
      ctx.Error("MISCONF Errors writing to the AOF file: " + wal->last_error());
      return false;
    }
  }
  return true;
}

// In MULTI these run at once; everything else is queued for EXEC.
bool RunsInMulti(const CommandSpec& spec) {
  const std::string& n = spec.name;
  return n == "exec" || n == "discard" || n == "multi" || n == "watch" || n == "quit" ||
         n == "reset";
}

}  // namespace

void SetLoading(bool loading) { g_loading.store(loading); }
bool Loading() { return g_loading.load(); }

void Execute(CommandContext& ctx) {
  auto args = ctx.args();
  const CommandTable& table = Commands();
  // Recovery resolves the spec once per command it replays and hands it over.
  const CommandSpec* spec =
      ctx.replaying() && ctx.spec() != nullptr ? ctx.spec() : table.Find(args[0]);
  Session& session = ctx.session();
  // As in Redis: unknown command, unknown subcommand and arity come before authentication. In
  // MULTI such an error also dooms the transaction (EXECABORT).
  auto reject = [&](std::string_view error) {
    if (session.in_multi) session.multi_aborted = true;
    ctx.Error(error);
  };
  if (spec == nullptr) {
    reject(UnknownCommand(args));
    return;
  }
  if (!spec->subcommands.empty() && (args.size() >= 2 || spec->handler == nullptr)) {
    if (args.size() < 2) {
      reject(WrongArgs(spec->name));
      return;
    }
    const CommandSpec* sub = table.FindSub(*spec, args[1]);
    if (sub == nullptr) {
      reject(UnknownSubcommand(args[1], spec->name));
      return;
    }
    spec = sub;
  }
  CommandStats& stats = ctx.stats().per_command[spec->id];
  if (!ArityOk(*spec, args.size())) {
    stats.rejected_calls.fetch_add(1, std::memory_order_relaxed);
    reject(WrongArgs(spec->name));
    return;
  }
  if (!ctx.replaying() && !Admit(ctx, *spec)) {
    stats.rejected_calls.fetch_add(1, std::memory_order_relaxed);
    if (session.in_multi) session.multi_aborted = true;
    return;
  }
  if (session.resp == 2 && session.subscribed() > 0 && !AllowedWhileSubscribed(spec->name)) {
    reject("ERR Can't execute '" + spec->name +
           "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
           "context");
    return;
  }
  if (session.in_multi && !RunsInMulti(*spec)) {
    if (spec->is(kNoMulti)) {
      reject("ERR Command not allowed inside a transaction");
      return;
    }
    session.queued.emplace_back(args.begin(), args.end());
    ctx.out().Simple("QUEUED");
    return;
  }

  // The command's clock: the replayed record's time, the time its connection read it, or now.
  if (ctx.replaying()) {
    ctx.set_now_ms(ctx.replay_time_ms());
  } else if (ctx.now_ms() == 0) {
    ctx.set_now_ms(NowMs());
  }
  // Replayed commands are not timed: nothing reports their durations.
  uint64_t start_ticks = ctx.replaying() ? 0 : __rdtsc();
  ctx.set_spec(spec);
  session.last_command.store(spec, std::memory_order_relaxed);
  if (spec->is(kSelfLocking)) {
    spec->handler(ctx);
    // It read or wrote anything: its reply waits for everything logged so far.
    if (persist::Wal* wal = GetWal()) ctx.set_required_lsn(wal->last_lsn());
  } else {
    ShardLocks locks(ctx, *spec, args);  // inside EXEC, already held: the lock is reentrant
    spec->handler(ctx);
    if (!ctx.replaying() && !ctx.in_exec()) {
      // Still under the locks: the log order is the apply order for these keys, and no write
      // can come between "nothing there" and "waiting".
      LogEffects(ctx, *spec, locks.shards());
      uint64_t required = 0;
      for (int s : locks.shards()) required = std::max(required, ctx.keyspace().shard(s).last_lsn);
      ctx.set_required_lsn(required);
      if (ctx.blocked() && !ctx.is_retry()) ctx.set_blocked_client(RegisterBlocked(ctx));
    }
  }
  // The locks are released: keyspace events go out (inside EXEC, the transaction's own do).
  if (KeyspaceEvents() != 0 && !ctx.in_exec() && !ctx.replaying()) [[unlikely]]
    PublishEvents(ctx);
  if (!ctx.changes().ready.empty() && !ctx.is_retry() && !ctx.in_exec()) ServeReadyKeys(ctx);
  // Each thread writes only its own counters (INFO reads them): no locked instructions needed.
  Bump(stats.calls, 1);
  if (start_ticks != 0) {
    uint64_t ticks = __rdtsc() - start_ticks;
    Bump(stats.usec, static_cast<uint64_t>(static_cast<double>(ticks) / TicksPerMicrosecond()));
  }
  if (ctx.failed()) Bump(stats.failed_calls, 1);
  Bump(ctx.stats().commands_processed, 1);
}

}  // namespace runnel::commands
