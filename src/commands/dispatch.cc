#include "commands/dispatch.h"

#include <time.h>

#include <algorithm>

#include "commands/blocking.h"
#include "commands/errors.h"
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
  std::string list;
  for (size_t i = 1; i < args.size() && list.size() < 128; ++i) {
    size_t room = 128 - list.size();
    list += "'" + std::string(args[i].substr(0, room)) + "' ";
  }
  std::string msg = "ERR unknown command '" + std::string(args[0].substr(0, 128)) +
                    "', with args beginning with: " + list;
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
  ShardLocks(engine::Keyspace& ks, const CommandSpec& spec, std::span<const std::string_view> args)
      : ks_(ks) {
    thread_local std::vector<int> positions;
    spec.KeyPositions(args, &positions);
    if (positions.size() == 1) {  // the common case: no sort, no vector
      single_ = engine::Keyspace::ShardOf(args[positions[0]]);
      ks_.shard(single_).mutex().lock();
      return;
    }
    for (int p : positions) shards_.push_back(engine::Keyspace::ShardOf(args[p]));
    std::sort(shards_.begin(), shards_.end());
    shards_.erase(std::unique(shards_.begin(), shards_.end()), shards_.end());
    for (int s : shards_) ks_.shard(s).mutex().lock();
  }
  ~ShardLocks() {
    if (single_ >= 0) {
      ks_.shard(single_).mutex().unlock();
      return;
    }
    for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) ks_.shard(*it).mutex().unlock();
  }

 private:
  engine::Keyspace& ks_;
  int single_ = -1;
  std::vector<int> shards_;
};

}  // namespace

void Execute(CommandContext& ctx) {
  auto args = ctx.args();
  const CommandTable& table = Commands();
  const CommandSpec* spec = table.Find(args[0]);
  Session& session = ctx.session();
  // As in Redis: unknown command, unknown subcommand and arity come before authentication.
  if (spec == nullptr) {
    ctx.Error(UnknownCommand(args));
    return;
  }
  if (!spec->subcommands.empty() && (args.size() >= 2 || spec->handler == nullptr)) {
    if (args.size() < 2) {
      ctx.Error(WrongArgs(spec->name));
      return;
    }
    const CommandSpec* sub = table.FindSub(*spec, args[1]);
    if (sub == nullptr) {
      ctx.Error(UnknownSubcommand(args[1], spec->name));
      return;
    }
    spec = sub;
  }
  CommandStats& stats = ctx.stats().per_command[spec->id];
  if (!ArityOk(*spec, args.size())) {
    stats.rejected_calls.fetch_add(1, std::memory_order_relaxed);
    ctx.Error(WrongArgs(spec->name));
    return;
  }
  if (!session.authenticated && !spec->is(kNoAuth)) {
    stats.rejected_calls.fetch_add(1, std::memory_order_relaxed);
    ctx.Error(kErrNoAuth);
    return;
  }

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t start_us = static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  ctx.set_now_ms(start_us / 1000);
  ctx.set_spec(spec);
  session.last_command.store(spec, std::memory_order_relaxed);
  if (spec->is(kSelfLocking)) {
    spec->handler(ctx);
  } else {
    ShardLocks locks(ctx.keyspace(), *spec, args);
    spec->handler(ctx);
    // Still under the locks, so no write can come between "nothing there" and "waiting".
    if (ctx.blocked() && !ctx.is_retry()) ctx.set_blocked_client(RegisterBlocked(ctx));
  }
  if (!ctx.changes().ready.empty() && !ctx.is_retry()) ServeReadyKeys(ctx);
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t end_us = static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  stats.calls.fetch_add(1, std::memory_order_relaxed);
  stats.usec.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, end_us - start_us)),
                       std::memory_order_relaxed);
  if (ctx.failed()) stats.failed_calls.fetch_add(1, std::memory_order_relaxed);
  ctx.stats().commands_processed.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace runnel::commands
