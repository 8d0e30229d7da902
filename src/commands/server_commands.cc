// Server commands: INFO, CONFIG, COMMAND, DEBUG, TIME, LASTSAVE, ROLE, WAIT, SHUTDOWN, FUNCTION.
#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <thread>

#include "commands/context.h"
#include "commands/dispatch.h"
#include "commands/errors.h"
#include "commands/table.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "common/glob.h"
#include "engine/digest.h"
#include "engine/keyspace.h"

namespace runnel::commands {

namespace {

void ReplyHelp(CommandContext& ctx, std::string_view container,
               std::initializer_list<std::string_view> lines) {
  resp::ReplyWriter& out = ctx.out();
  out.ArrayHeader(static_cast<int64_t>(lines.size()) + 1);
  out.Simple(std::string(container) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (auto l : lines) out.Simple(l);
}

// ---------------------------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------------------------

std::string HumanBytes(int64_t n) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%lldB", static_cast<long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f%s", v, units[u]);
  }
  return buf;
}

int64_t ProcessRss() {
  std::ifstream in("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Bytes the allocator has handed out; sanitizer builds replace malloc and report nothing, so
// fall back to the resident size there.
int64_t HeapUsed() {
  struct mallinfo2 mi = mallinfo2();
  int64_t used = static_cast<int64_t>(mi.uordblks + mi.hblkhd);
  return used > 0 ? used : ProcessRss();
}

const std::string& RunId() {
  static const std::string id = [] {
    std::string s;
    std::random_device rd;
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 40; ++i) s += hex[rd() % 16];
    return s;
  }();
  return id;
}

struct Totals {
  uint64_t commands = 0, hits = 0, misses = 0, errors = 0;
  int batch_waiting = 0;
  int hosted = 0;
};

Totals SumStats(ServerApi& server) {
  Totals t;
  for (ThreadStats* s : server.AllStats()) {
    t.commands += s->commands_processed.load(std::memory_order_relaxed);
    t.hits += s->keyspace_hits.load(std::memory_order_relaxed);
    t.misses += s->keyspace_misses.load(std::memory_order_relaxed);
    t.errors += s->total_error_replies.load(std::memory_order_relaxed);
    t.batch_waiting += s->batch_waiting.load(std::memory_order_relaxed) ? 1 : 0;
    t.hosted += s->hosted.load(std::memory_order_relaxed) ? 1 : 0;
  }
  return t;
}

void Field(std::string& out, std::string_view name, const std::string& value) {
  out.append(name);
  out += ':';
  out += value;
  out += "\r\n";
}
void Field(std::string& out, std::string_view name, int64_t value) {
  Field(out, name, std::to_string(value));
}

void InfoServer(CommandContext& ctx, std::string& out) {
  struct utsname u;
  uname(&u);
  int64_t now_us = NowUs();
  int64_t uptime = (ctx.now_ms() - ctx.server().StartTimeMs()) / 1000;
  Field(out, "redis_version", GlobalConfig().RedisVersion());
  Field(out, "redis_git_sha1", std::string("00000000"));
  Field(out, "redis_git_dirty", 0);
  Field(out, "redis_build_id", std::string("0"));
  Field(out, "redis_mode", std::string("standalone"));
  Field(out, "runnel_version", std::string(RUNNEL_VERSION));
  Field(out, "os", std::string(u.sysname) + " " + u.release + " " + u.machine);
  Field(out, "arch_bits", 64);
  Field(out, "monotonic_clock", std::string("POSIX clock_gettime"));
  Field(out, "multiplexing_api", std::string("epoll"));
  Field(out, "atomicvar_api", std::string("c11-builtin"));
  Field(out, "gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) +
                                "." + std::to_string(__GNUC_PATCHLEVEL__));
  Field(out, "process_id", static_cast<int64_t>(getpid()));
  Field(out, "process_supervised", std::string("no"));
  Field(out, "run_id", RunId());
  Field(out, "tcp_port", ctx.server().Port());
  Field(out, "server_time_usec", now_us);
  Field(out, "uptime_in_seconds", uptime);
  Field(out, "uptime_in_days", uptime / 86400);
  Field(out, "hz", GlobalConfig().hz.load());
  Field(out, "configured_hz", GlobalConfig().hz.load());
  Field(out, "lru_clock", static_cast<int64_t>(engine::Keyspace::LruClock()));
  Field(out, "io_threads_active", 0);
  Field(out, "threads", ctx.server().Threads());
}

void InfoClients(CommandContext& ctx, std::string& out) {
  Field(out, "connected_clients", ctx.server().ConnectedClients());
  Field(out, "cluster_connections", 0);
  Field(out, "maxclients", GlobalConfig().maxclients.load());
  Field(out, "client_recent_max_input_buffer", 0);
  Field(out, "client_recent_max_output_buffer", 0);
  Field(out, "blocked_clients", ctx.server().BlockedClients());
  Field(out, "tracking_clients", 0);
  Field(out, "clients_in_timeout_table", 0);
}

void InfoMemory(CommandContext& ctx, std::string& out) {
  static std::atomic<int64_t> peak{0};
  int64_t used = HeapUsed();
  int64_t rss = ProcessRss();
  int64_t p = peak.load();
  while (used > p && !peak.compare_exchange_weak(p, used)) {
  }
  p = std::max(p, used);
  int64_t total = sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
  Field(out, "used_memory", used);
  Field(out, "used_memory_human", HumanBytes(used));
  Field(out, "used_memory_rss", rss);
  Field(out, "used_memory_rss_human", HumanBytes(rss));
  Field(out, "used_memory_peak", p);
  Field(out, "used_memory_peak_human", HumanBytes(p));
  Field(out, "total_system_memory", total);
  Field(out, "total_system_memory_human", HumanBytes(total));
  Field(out, "maxmemory", 0);
  Field(out, "maxmemory_human", std::string("0B"));
  Field(out, "maxmemory_policy", std::string("noeviction"));
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2f", used > 0 ? static_cast<double>(rss) / used : 0.0);
  Field(out, "mem_fragmentation_ratio", std::string(ratio));
  Field(out, "mem_allocator", std::string("libc"));
}

void InfoPersistence(CommandContext& ctx, std::string& out) {
  Field(out, "loading", Loading() ? 1 : 0);
  Field(out, "async_loading", 0);
  out += ctx.server().PersistenceInfo();
}

void InfoStats(CommandContext& ctx, std::string& out) {
  Totals t = SumStats(ctx.server());
  Field(out, "total_connections_received", static_cast<int64_t>(ctx.server().TotalConnections()));
  Field(out, "total_commands_processed", static_cast<int64_t>(t.commands));
  Field(out, "rejected_connections", static_cast<int64_t>(ctx.server().RejectedConnections()));
  Field(out, "expired_keys", static_cast<int64_t>(ctx.keyspace().ExpiredKeys()));
  Field(out, "evicted_keys", 0);
  Field(out, "keyspace_hits", static_cast<int64_t>(t.hits));
  Field(out, "keyspace_misses", static_cast<int64_t>(t.misses));
  Field(out, "pubsub_channels",
        static_cast<int64_t>(ctx.server().PubSubChannels(0, "").size()));
  Field(out, "pubsub_patterns", ctx.server().PubSubPatterns());
  Field(out, "pubsubshard_channels",
        static_cast<int64_t>(ctx.server().PubSubChannels(2, "").size()));
  Field(out, "total_error_replies", static_cast<int64_t>(t.errors));
  // runnel's own: how many event loops use the input-batching wait now (README,
  // io-batch-wait-us).
  Field(out, "io_batch_wait_loops", t.batch_waiting);
  // How many threads run the event loops now (README, loop-sharing).
  Field(out, "loop_threads", ctx.server().Threads() - t.hosted);
}

void InfoReplication(CommandContext&, std::string& out) {
  Field(out, "role", std::string("master"));
  Field(out, "connected_slaves", 0);
  Field(out, "master_failover_state", std::string("no-failover"));
  Field(out, "master_replid", RunId());
  Field(out, "master_repl_offset", 0);
  Field(out, "repl_backlog_active", 0);
}

void InfoCpu(CommandContext&, std::string& out) {
  struct rusage self, children;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld.%06ld", static_cast<long>(tv.tv_sec),
                  static_cast<long>(tv.tv_usec));
    return std::string(buf);
  };
  Field(out, "used_cpu_sys", secs(self.ru_stime));
  Field(out, "used_cpu_user", secs(self.ru_utime));
  Field(out, "used_cpu_sys_children", secs(children.ru_stime));
  Field(out, "used_cpu_user_children", secs(children.ru_utime));
}

void InfoErrorStats(CommandContext& ctx, std::string& out) {
  std::vector<std::pair<std::string, uint64_t>> merged;
  for (ThreadStats* s : ctx.server().AllStats()) {
    std::lock_guard lock(s->errors_mu);
    for (auto& [name, count] : s->errors) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](auto& e) { return e.first == name; });
      if (it == merged.end()) {
        merged.emplace_back(name, count);
      } else {
        it->second += count;
      }
    }
  }
  std::sort(merged.begin(), merged.end());
  for (auto& [name, count] : merged)
    Field(out, "errorstat_" + name, "count=" + std::to_string(count));
}

void InfoKeyspace(CommandContext& ctx, std::string& out) {
  engine::Keyspace& ks = ctx.keyspace();
  std::vector<std::pair<uint64_t, uint64_t>> counts(ks.databases());
  for (int i = 0; i < engine::Keyspace::kShards; ++i) {
    engine::Shard& s = ks.shard(i);
    std::lock_guard lock(s.mutex());
    for (int db = 0; db < ks.databases(); ++db) {
      if (engine::Table* t = s.find_table(db)) {
        counts[db].first += t->size();
        counts[db].second += t->expires();
      }
    }
  }
  for (int db = 0; db < ks.databases(); ++db) {
    if (counts[db].first == 0) continue;
    Field(out, "db" + std::to_string(db),
          "keys=" + std::to_string(counts[db].first) +
              ",expires=" + std::to_string(counts[db].second) + ",avg_ttl=0");
  }
}

void InfoCommandStats(CommandContext& ctx, std::string& out) {
  const CommandTable& table = Commands();
  auto stats = ctx.server().AllStats();
  for (int id = 0; id < table.size(); ++id) {
    uint64_t calls = 0, usec = 0, rejected = 0, failed = 0;
    for (ThreadStats* s : stats) {
      const CommandStats& c = s->per_command[id];
      calls += c.calls.load(std::memory_order_relaxed);
      usec += c.usec.load(std::memory_order_relaxed);
      rejected += c.rejected_calls.load(std::memory_order_relaxed);
      failed += c.failed_calls.load(std::memory_order_relaxed);
    }
    if (calls == 0 && rejected == 0 && failed == 0) continue;
    char per_call[64];
    std::snprintf(per_call, sizeof per_call, "%.2f",
                  calls ? static_cast<double>(usec) / static_cast<double>(calls) : 0.0);
    Field(out, "cmdstat_" + table.ById(id)->name,
          "calls=" + std::to_string(calls) + ",usec=" + std::to_string(usec) +
              ",usec_per_call=" + per_call + ",rejected_calls=" + std::to_string(rejected) +
              ",failed_calls=" + std::to_string(failed));
  }
}

struct InfoSection {
  const char* name;
  const char* title;
  void (*fn)(CommandContext&, std::string&);
  bool in_default;
};

constexpr InfoSection kSections[] = {
    {"server", "Server", InfoServer, true},
    {"clients", "Clients", InfoClients, true},
    {"memory", "Memory", InfoMemory, true},
    {"persistence", "Persistence", InfoPersistence, true},
    {"stats", "Stats", InfoStats, true},
    {"replication", "Replication", InfoReplication, true},
    {"cpu", "CPU", InfoCpu, true},
    {"modules", "Modules", [](CommandContext&, std::string&) {}, true},
    {"commandstats", "Commandstats", InfoCommandStats, false},
    {"errorstats", "Errorstats", InfoErrorStats, true},
    {"cluster", "Cluster", [](CommandContext&, std::string& o) { Field(o, "cluster_enabled", 0); },
     true},
    {"keyspace", "Keyspace", InfoKeyspace, true},
};

// INFO [section [section ...]]
void CmdInfo(CommandContext& ctx) {
  bool all = false, everything = false, defaults = ctx.argc() == 1;
  std::vector<std::string> wanted;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string s = ToLower(ctx.arg(i));
    if (s == "all") {
      all = true;
    } else if (s == "everything") {
      everything = true;
    } else if (s == "default") {
      defaults = true;
    } else {
      wanted.push_back(s);
    }
  }
  std::string out;
  for (const InfoSection& sec : kSections) {
    bool include = everything || (all && sec.name != std::string_view("modules")) ||
                   (defaults && sec.in_default) ||
                   std::find(wanted.begin(), wanted.end(), sec.name) != wanted.end();
    if (!include) continue;
    if (!out.empty()) out += "\r\n";
    out += "# ";
    out += sec.title;
    out += "\r\n";
    sec.fn(ctx, out);
  }
  ctx.out().Verbatim("txt", out);
}

// ---------------------------------------------------------------------------------------------
// CONFIG
// ---------------------------------------------------------------------------------------------

// CONFIG GET parameter [parameter ...]
void CmdConfigGet(CommandContext& ctx) {
  std::vector<std::pair<std::string, std::string>> all;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    for (auto& kv : GlobalConfig().Get(ctx.arg(i))) {
      bool seen = false;
      for (auto& e : all) seen = seen || e.first == kv.first;
      if (!seen) all.push_back(std::move(kv));
    }
  }
  ctx.out().MapHeader(static_cast<int64_t>(all.size()));
  for (auto& [name, value] : all) {
    ctx.out().Bulk(name);
    ctx.out().Bulk(value);
  }
}

// CONFIG SET parameter value [parameter value ...]
// All or nothing: if any parameter fails, the ones already applied get their old values back.
// appendonly acts once every parameter is accepted, since turning the log on takes a checkpoint.
void CmdConfigSet(CommandContext& ctx) {
  if (ctx.argc() % 2 != 0) {
    ctx.Error(kErrSyntax);
    return;
  }
  Config& config = GlobalConfig();
  std::vector<std::pair<std::string, std::string>> applied;  // name, old value
  auto fail = [&](std::string_view arg, const std::string& err) {
    for (auto it = applied.rbegin(); it != applied.rend(); ++it)
      config.Set(it->first, {it->second}, true);
    if (err == "unknown") {
      ctx.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + std::string(arg) +
                "'");
    } else {
      ctx.Error("ERR CONFIG SET failed (possibly related to argument '" + std::string(arg) +
                "') - " + err);
    }
  };
  std::string_view appendonly_arg;
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    std::string name = ToLower(ctx.arg(i));
    auto old = config.Get(name);
    std::string err = config.Set(name, {std::string(ctx.arg(i + 1))}, false);
    if (!err.empty()) return fail(ctx.arg(i), err);
    applied.emplace_back(name, old.empty() ? "" : old[0].second);
    if (name == "appendonly") appendonly_arg = ctx.arg(i);
  }
  std::string err;
  if (!appendonly_arg.empty() &&
      !ctx.server().SetAppendOnly(config.appendonly.load(), &err))
    return fail(appendonly_arg, err);
  ctx.out().Ok();
}

// CONFIG RESETSTAT
void CmdConfigResetStat(CommandContext& ctx) {
  ctx.server().ResetStats();
  ctx.out().Ok();
}

void CmdConfigHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "CONFIG",
            {"GET <pattern> [<pattern> ...]", "    Return the settings whose names match.",
             "SET <name> <value> [<name> <value> ...]", "    Change settings at run time.",
             "RESETSTAT", "    Reset the statistics INFO reports.", "HELP",
             "    Print this help."});
}

// ---------------------------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------------------------

void ReplyStringArray(resp::ReplyWriter& out, const std::vector<std::string>& v, bool set) {
  if (set) {
    out.SetHeader(static_cast<int64_t>(v.size()));
  } else {
    out.ArrayHeader(static_cast<int64_t>(v.size()));
  }
  for (auto& s : v) out.Simple(s);
}

void ReplyKeySpecs(resp::ReplyWriter& out, const CommandSpec& c) {
  if (c.keys.first <= 0) {
    out.ArrayHeader(0);
    return;
  }
  out.ArrayHeader(1);
  out.MapHeader(3);
  out.Bulk("flags");
  ReplyStringArray(out, c.is(kWrite) ? std::vector<std::string>{"RW", "update"}
                                     : std::vector<std::string>{"RO", "access"},
                   false);
  out.Bulk("begin_search");
  out.MapHeader(2);
  out.Bulk("type");
  out.Bulk("index");
  out.Bulk("spec");
  out.MapHeader(1);
  out.Bulk("index");
  out.Integer(c.keys.first);
  out.Bulk("find_keys");
  out.MapHeader(2);
  out.Bulk("type");
  out.Bulk("range");
  out.Bulk("spec");
  out.MapHeader(3);
  out.Bulk("lastkey");
  out.Integer(c.keys.last < 0 ? c.keys.last : c.keys.last - c.keys.first);
  out.Bulk("keystep");
  out.Integer(c.keys.step);
  out.Bulk("limit");
  out.Integer(0);
}

void ReplyCommandInfo(resp::ReplyWriter& out, const CommandSpec& c) {
  out.ArrayHeader(10);
  out.Bulk(c.name);
  out.Integer(c.arity);
  std::vector<std::string> flags = FlagNames(c.flags);
  if (c.key_finder != nullptr) flags.push_back("movablekeys");
  ReplyStringArray(out, flags, true);
  out.Integer(c.keys.first);
  out.Integer(c.keys.last);
  out.Integer(c.keys.step);
  ReplyStringArray(out, CategoryNames(c.categories), true);
  out.SetHeader(0);  // tips
  ReplyKeySpecs(out, c);
  out.ArrayHeader(static_cast<int64_t>(c.subcommands.size()));
  for (auto& sub : c.subcommands) ReplyCommandInfo(out, *sub);
}

const char* ArgTypeName(ArgSpec::Type t) {
  switch (t) {
    case ArgSpec::Type::kString: return "string";
    case ArgSpec::Type::kInteger: return "integer";
    case ArgSpec::Type::kDouble: return "double";
    case ArgSpec::Type::kKey: return "key";
    case ArgSpec::Type::kPattern: return "pattern";
    case ArgSpec::Type::kUnixTime: return "unix-time";
    case ArgSpec::Type::kPureToken: return "pure-token";
    case ArgSpec::Type::kOneOf: return "oneof";
    case ArgSpec::Type::kBlock: return "block";
  }
  return "string";
}

void ReplyArgs(resp::ReplyWriter& out, const std::vector<ArgSpec>& args) {
  out.ArrayHeader(static_cast<int64_t>(args.size()));
  for (const ArgSpec& a : args) {
    std::vector<std::string> flags;
    if (a.optional) flags.push_back("optional");
    if (a.multiple) flags.push_back("multiple");
    if (a.multiple_token) flags.push_back("multiple_token");
    int fields = 2 + (a.type == ArgSpec::Type::kKey) + !a.token.empty() + !flags.empty() +
                 !a.children.empty();
    out.MapHeader(fields);
    out.Bulk("name");
    out.Bulk(a.name);
    out.Bulk("type");
    out.Bulk(ArgTypeName(a.type));
    if (a.type == ArgSpec::Type::kKey) {
      out.Bulk("key_spec_index");
      out.Integer(0);
    }
    if (!a.token.empty()) {
      out.Bulk("token");
      out.Bulk(a.token);
    }
    if (!flags.empty()) {
      out.Bulk("flags");
      ReplyStringArray(out, flags, false);
    }
    if (!a.children.empty()) {
      out.Bulk("arguments");
      ReplyArgs(out, a.children);
    }
  }
}

void ReplyCommandDocs(resp::ReplyWriter& out, const CommandSpec& c) {
  out.Bulk(c.name);
  int fields = 3 + !c.args.empty() + !c.subcommands.empty();
  out.MapHeader(fields);
  out.Bulk("summary");
  out.Bulk(c.summary);
  out.Bulk("since");
  out.Bulk(c.since);
  out.Bulk("group");
  out.Bulk(c.group);
  if (!c.args.empty()) {
    out.Bulk("arguments");
    ReplyArgs(out, c.args);
  }
  if (!c.subcommands.empty()) {
    out.Bulk("subcommands");
    out.MapHeader(static_cast<int64_t>(c.subcommands.size()));
    for (auto& sub : c.subcommands) ReplyCommandDocs(out, *sub);
  }
}

// Resolves "get" or "config|get" to its row.
const CommandSpec* FindByFullName(std::string_view name) {
  size_t bar = name.find('|');
  const CommandSpec* c = Commands().Find(name.substr(0, bar));
  if (c == nullptr || bar == std::string_view::npos) return c;
  return Commands().FindSub(*c, name.substr(bar + 1));
}

// COMMAND
void CmdCommand(CommandContext& ctx) {
  const auto& all = Commands().commands();
  ctx.out().ArrayHeader(static_cast<int64_t>(all.size()));
  for (auto& c : all) ReplyCommandInfo(ctx.out(), *c);
}

// COMMAND COUNT
void CmdCommandCount(CommandContext& ctx) {
  ctx.out().Integer(static_cast<int64_t>(Commands().commands().size()));
}

// COMMAND INFO [command-name ...]
void CmdCommandInfo(CommandContext& ctx) {
  if (ctx.argc() == 2) {
    CmdCommand(ctx);
    return;
  }
  ctx.out().ArrayHeader(static_cast<int64_t>(ctx.argc() - 2));
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const CommandSpec* c = FindByFullName(ctx.arg(i));
    if (c == nullptr) {
      ctx.out().Null();
    } else {
      ReplyCommandInfo(ctx.out(), *c);
    }
  }
}

// COMMAND DOCS [command-name ...]
void CmdCommandDocs(CommandContext& ctx) {
  std::vector<const CommandSpec*> found;
  if (ctx.argc() == 2) {
    for (auto& c : Commands().commands()) found.push_back(c.get());
  } else {
    for (size_t i = 2; i < ctx.argc(); ++i)
      if (const CommandSpec* c = FindByFullName(ctx.arg(i))) found.push_back(c);
  }
  ctx.out().MapHeader(static_cast<int64_t>(found.size()));
  for (const CommandSpec* c : found) ReplyCommandDocs(ctx.out(), *c);
}

// COMMAND LIST [FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]
void CmdCommandList(CommandContext& ctx) {
  std::string_view filter, value;
  if (ctx.argc() == 5 && EqualsIgnoreCase(ctx.arg(2), "FILTERBY")) {
    filter = ctx.arg(3);
    value = ctx.arg(4);
    if (!EqualsIgnoreCase(filter, "MODULE") && !EqualsIgnoreCase(filter, "ACLCAT") &&
        !EqualsIgnoreCase(filter, "PATTERN")) {
      ctx.Error(kErrSyntax);
      return;
    }
  } else if (ctx.argc() != 2) {
    ctx.Error(kErrSyntax);
    return;
  }
  std::vector<std::string> names;
  auto consider = [&](const CommandSpec& c) {
    if (EqualsIgnoreCase(filter, "MODULE")) return;
    if (EqualsIgnoreCase(filter, "ACLCAT")) {
      auto cats = CategoryNames(c.categories);
      if (std::find(cats.begin(), cats.end(), "@" + ToLower(value)) == cats.end()) return;
    }
    if (EqualsIgnoreCase(filter, "PATTERN") && !GlobMatch(value, c.name, true)) return;
    names.push_back(c.name);
  };
  for (auto& c : Commands().commands()) {
    consider(*c);
    for (auto& sub : c->subcommands) consider(*sub);
  }
  ctx.out().ArrayHeader(static_cast<int64_t>(names.size()));
  for (auto& n : names) ctx.out().Bulk(n);
}

// COMMAND GETKEYS command [arg ...]
void CmdCommandGetKeys(CommandContext& ctx) {
  auto args = ctx.args().subspan(2);
  const CommandSpec* c = Commands().Find(args[0]);
  if (c != nullptr && !c->subcommands.empty() && args.size() >= 2)
    c = Commands().FindSub(*c, args[1]);
  if (c == nullptr) {
    ctx.Error("ERR Invalid command specified");
    return;
  }
  if (c->keys.first <= 0 && c->key_finder == nullptr) {
    ctx.Error("ERR The command has no key arguments");
    return;
  }
  int n = static_cast<int>(args.size());
  if ((c->arity > 0 && n != c->arity) || (c->arity < 0 && n < -c->arity)) {
    ctx.Error("ERR Invalid number of arguments specified for command");
    return;
  }
  std::vector<int> positions;
  c->KeyPositions(args, &positions);
  if (positions.empty()) {
    ctx.Error("ERR The command has no key arguments");
    return;
  }
  ctx.out().ArrayHeader(static_cast<int64_t>(positions.size()));
  for (int p : positions) ctx.out().Bulk(args[p]);
}

void CmdCommandHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "COMMAND",
            {"(no subcommand)", "    Describe every command.", "COUNT",
             "    Return the number of commands.", "INFO [<command-name> ...]",
             "    Describe the named commands (or all).", "DOCS [<command-name> ...]",
             "    Return the documentation of the named commands (or all).",
             "LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <pattern>)]",
             "    List command names, optionally filtered.", "GETKEYS <full-command>",
             "    Return the keys of a full command.", "HELP", "    Print this help."});
}

// ---------------------------------------------------------------------------------------------
// DEBUG
// ---------------------------------------------------------------------------------------------

// DEBUG DIGEST: each key's database, name, value and expiry time, combined in any order (XOR),
// so an empty keyspace gives 40 zeros as in Redis.
void DebugDigest(CommandContext& ctx) {
  engine::Digest total;
  engine::Keyspace& ks = ctx.keyspace();
  for (int i = 0; i < engine::Keyspace::kShards; ++i) {
    engine::Shard& s = ks.shard(i);
    std::lock_guard lock(s.mutex());
    for (int db = 0; db < ks.databases(); ++db) {
      engine::Table* t = s.find_table(db);
      if (t == nullptr || t->size() == 0) continue;
      std::string db_name = std::to_string(db);
      uint64_t cursor = 0;
      do {
        cursor = t->dict().Scan(cursor, [&](engine::Entry* e) {
          engine::Digest key;
          key.Mix(db_name);
          key.Mix(e->key());
          key.Mix(engine::ValueDigest(e));
          key.Mix(std::to_string(t->ExpireAt(e)));
          total.Add(key);
        });
      } while (cursor != 0);
    }
  }
  ctx.out().Simple(total.Hex());
}

// DEBUG DIGEST-VALUE key [key ...]: the value and whether it has a TTL, without the key's name
// (as in Redis); 40 zeros for a missing key.
void DebugDigestValue(CommandContext& ctx) {
  ctx.out().ArrayHeader(static_cast<int64_t>(ctx.argc() - 2));
  for (size_t i = 2; i < ctx.argc(); ++i) {
    std::string_view key = ctx.arg(i);
    std::lock_guard lock(ctx.keyspace().shard(engine::Keyspace::ShardOf(key)).mutex());
    engine::Db db = ctx.db();
    engine::Entry* e = db.Find(key, false);
    engine::Digest d;
    if (e != nullptr) {
      d = engine::ValueDigest(e);
      if (db.ExpireAt(e) != 0) d.Mix("!!expire!!");
    }
    ctx.out().Simple(d.Hex());
  }
}

void DebugObject(CommandContext& ctx) {
  std::string_view key = ctx.arg(2);
  std::lock_guard lock(ctx.keyspace().shard(engine::Keyspace::ShardOf(key)).mutex());
  engine::Db db = ctx.db();
  engine::Entry* e = db.Find(key, false);
  if (e == nullptr) {
    ctx.Error(kErrNoSuchKey);
    return;
  }
  static const char* kEncodings[] = {"int", "embstr", "raw", "object"};
  char line[256];
  std::snprintf(line, sizeof line,
                "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u "
                "lru_seconds_idle:%u",
                static_cast<void*>(e), kEncodings[static_cast<int>(e->encoding)],
                static_cast<size_t>(e->val_len), e->atime,
                engine::Keyspace::LruClock() - e->atime);
  ctx.out().Simple(line);
}

// DEBUG subcommand [arg ...]
void CmdDebug(CommandContext& ctx) {
  std::string sub = ToLower(ctx.arg(1));
  size_t n = ctx.argc();
  if (sub == "help") {
    ReplyHelp(ctx, "DEBUG",
              {"DIGEST", "    Return a digest of the whole dataset.", "DIGEST-VALUE <key> [...]",
               "    Return a digest of each key's value.", "LOG <message>",
               "    Write a message to the server log.", "OBJECT <key>",
               "    Describe the internal encoding of a key.", "SET-ACTIVE-EXPIRE <0|1>",
               "    Turn the active expiry cycle off or on.", "RELOAD",
               "    Take a checkpoint and load the dataset back from it.",
               "WAL-FAULT (ENOSPC|EIO|OFF) [WRITE|FSYNC|ALL]",
               "    Make the log's writes and/or fsyncs fail (tests of disk errors).", "SLEEP <seconds>",
               "    Block this event-loop thread for a (fractional) number of seconds.",
               "HELP", "    Print this help."});
  } else if (sub == "sleep" && n == 3) {
    double secs;
    if (!ParseDouble(ctx.arg(2), &secs, false) || secs < 0) {
      ctx.Error(kErrNotFloat);
      return;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
    ctx.out().Ok();
  } else if (sub == "set-active-expire" && n == 3) {
    int64_t v;
    if (!ParseInt64(ctx.arg(2), &v)) {
      ctx.Error(kErrNotInteger);
      return;
    }
    GlobalConfig().active_expire_enabled = v != 0;
    ctx.out().Ok();
  } else if (sub == "log" && n == 3) {
    LogWarning("DEBUG LOG: {}", ctx.arg(2));
    ctx.out().Ok();
  } else if (sub == "digest" && n == 2) {
    DebugDigest(ctx);
  } else if (sub == "digest-value" && n >= 2) {
    DebugDigestValue(ctx);
  } else if (sub == "object" && n == 3) {
    DebugObject(ctx);
  } else if (sub == "wal-fault" && (n == 3 || n == 4)) {
    // DEBUG WAL-FAULT ENOSPC|EIO|OFF [WRITE|FSYNC|ALL]
    std::string err = ToLower(ctx.arg(2));
    std::string what = n == 4 ? ToLower(ctx.arg(3)) : "all";
    int code = err == "enospc" ? ENOSPC : err == "eio" ? EIO : err == "off" ? 0 : -1;
    if (code < 0 || (what != "write" && what != "fsync" && what != "all")) {
      ctx.Error(kErrSyntax);
      return;
    }
    ctx.server().InjectWalFault(what, code);
    ctx.out().Ok();
  } else if (sub == "reload" && n == 2) {
    std::string error;
    if (!ctx.server().Reload(&error)) {
      ctx.Error("ERR Error trying to save and reload the DB: " + error);
      return;
    }
    ctx.out().Ok();
  } else {
    ctx.Error("ERR unknown subcommand or wrong number of arguments for '" +
              std::string(ctx.arg(1)) + "'. Try DEBUG HELP.");
  }
}

// ---------------------------------------------------------------------------------------------
// TIME LASTSAVE ROLE WAIT SHUTDOWN FUNCTION
// ---------------------------------------------------------------------------------------------

// TIME
void CmdTime(CommandContext& ctx) {
  int64_t us = NowUs();
  ctx.out().ArrayHeader(2);
  ctx.out().BulkInt(us / 1000000);
  ctx.out().BulkInt(us % 1000000);
}

// LASTSAVE
void CmdLastSave(CommandContext& ctx) { ctx.out().Integer(ctx.server().LastSaveTime()); }

// SAVE
void CmdSave(CommandContext& ctx) {
  if (ctx.server().SaveInProgress()) {
    ctx.Error("ERR Background save already in progress");
    return;
  }
  std::string error;
  if (!ctx.server().Save(&error)) {
    ctx.Error("ERR " + error);
    return;
  }
  ctx.out().Ok();
}

// BGSAVE [SCHEDULE]
void CmdBgSave(CommandContext& ctx) {
  if (ctx.argc() == 2 && !EqualsIgnoreCase(ctx.arg(1), "SCHEDULE")) {
    ctx.Error(kErrSyntax);
    return;
  }
  if (!ctx.server().BackgroundSave()) {
    if (ctx.argc() == 2) {
      ctx.out().Simple("Background saving scheduled");
      return;
    }
    ctx.Error("ERR Background save already in progress");
    return;
  }
  ctx.out().Simple("Background saving started");
}

// BGREWRITEAOF: runnel's log is compacted by taking a checkpoint.
void CmdBgRewriteAof(CommandContext& ctx) {
  ctx.server().BackgroundSave();
  ctx.out().Simple("Background append only file rewriting started");
}

// ROLE
void CmdRole(CommandContext& ctx) {
  ctx.out().ArrayHeader(3);
  ctx.out().Bulk("master");
  ctx.out().Integer(0);
  ctx.out().ArrayHeader(0);
}

// WAIT numreplicas timeout
void CmdWait(CommandContext& ctx) {
  int64_t replicas, timeout;
  if (!ParseInt64(ctx.arg(1), &replicas) || !ParseInt64(ctx.arg(2), &timeout)) {
    ctx.Error(kErrNotInteger);
    return;
  }
  if (timeout < 0) {
    ctx.Error("ERR timeout is negative");
    return;
  }
  ctx.out().Integer(0);  // no replicas
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
void CmdShutdown(CommandContext& ctx) {
  int save = -1;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (EqualsIgnoreCase(a, "SAVE") || EqualsIgnoreCase(a, "NOSAVE")) {
      int mode = EqualsIgnoreCase(a, "SAVE") ? 1 : 0;
      if (save >= 0 && save != mode) {
        ctx.Error(kErrSyntax);
        return;
      }
      save = mode;
      continue;
    }
    if (EqualsIgnoreCase(a, "ABORT")) {
      ctx.Error("ERR No shutdown in progress.");
      return;
    }
    if (!EqualsIgnoreCase(a, "NOW") && !EqualsIgnoreCase(a, "FORCE")) {
      ctx.Error(kErrSyntax);
      return;
    }
  }
  LogWarning("User requested shutdown...");
  ctx.session().close_after_reply = true;
  ctx.server().RequestShutdown(save);
}

// FUNCTION FLUSH [ASYNC|SYNC]
void CmdFunctionFlush(CommandContext& ctx) {
  if (ctx.argc() == 3 && !EqualsIgnoreCase(ctx.arg(2), "ASYNC") &&
      !EqualsIgnoreCase(ctx.arg(2), "SYNC")) {
    ctx.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    return;
  }
  ctx.out().Ok();  // there are no functions until scripting exists
}

}  // namespace

void RegisterServer(CommandTable& t) {
  const uint32_t kAdminSlow = kCatAdmin | kCatSlow | kCatDangerous;
  t.Add({.name = "info", .arity = -1, .flags = kLoading | kStale, .categories = kCatSlow | kCatDangerous,
         .group = "server", .since = "1.0.0",
         .summary = "Returns information and statistics about the server.",
         .syntax = "[section [section ...]]", .handler = CmdInfo});
  t.Add({.name = "time", .arity = 1, .flags = kLoading | kStale | kFast,
         .categories = kCatFast, .group = "server", .since = "2.6.0",
         .summary = "Returns the server time.", .syntax = "", .handler = CmdTime});
  t.Add({.name = "lastsave", .arity = 1, .flags = kLoading | kStale | kFast,
         .categories = kCatAdmin | kCatFast | kCatDangerous, .group = "server", .since = "1.0.0",
         .summary = "Returns the Unix timestamp of the last successful save to disk.",
         .syntax = "", .handler = CmdLastSave});
  t.Add({.name = "save", .arity = 1, .flags = kAdmin | kNoScript | kNoMulti,
         .categories = kAdminSlow, .group = "server", .since = "1.0.0",
         .summary = "Synchronously saves the database(s) to disk.", .syntax = "",
         .handler = CmdSave});
  t.Add({.name = "bgsave", .arity = -1, .flags = kAdmin | kNoScript,
         .categories = kAdminSlow, .group = "server", .since = "1.0.0",
         .summary = "Asynchronously saves the database(s) to disk.", .syntax = "[SCHEDULE]",
         .handler = CmdBgSave});
  t.Add({.name = "bgrewriteaof", .arity = 1, .flags = kAdmin | kNoScript,
         .categories = kAdminSlow, .group = "server", .since = "1.0.0",
         .summary = "Asynchronously rewrites the append-only file to disk.", .syntax = "",
         .handler = CmdBgRewriteAof});
  t.Add({.name = "role", .arity = 1, .flags = kNoScript | kLoading | kStale | kFast,
         .categories = kCatAdmin | kCatFast | kCatDangerous, .group = "server", .since = "2.8.12",
         .summary = "Returns the replication role.", .syntax = "", .handler = CmdRole});
  t.Add({.name = "wait", .arity = 3, .flags = 0, .categories = kCatSlow | kCatBlocking,
         .group = "generic", .since = "3.0.0",
         .summary = "Blocks until the asynchronous replication of all preceding write commands "
                    "sent by the connection is completed.",
         .syntax = "numreplicas timeout", .handler = CmdWait});
  t.Add({.name = "shutdown", .arity = -1,
         .flags = kAdmin | kNoScript | kLoading | kStale | kNoMulti | kAllowBusy,
         .categories = kAdminSlow, .group = "server", .since = "1.0.0",
         .summary = "Synchronously saves the database(s) to disk and shuts down the server.",
         .syntax = "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]", .handler = CmdShutdown});
  t.Add({.name = "debug", .arity = -2, .flags = kAdmin | kNoScript | kLoading | kStale,
         .categories = kAdminSlow, .group = "server", .since = "1.0.0",
         .summary = "A container for debugging commands.", .syntax = "subcommand [arg ...]",
         .handler = CmdDebug});

  CommandSpec& config = t.Add({.name = "config", .arity = -2, .categories = kCatSlow,
                               .group = "server", .since = "2.0.0",
                               .summary = "A container for server configuration commands."});
  t.AddSub(config, {.name = "get", .arity = -3, .flags = kAdmin | kNoScript | kLoading | kStale,
                    .categories = kAdminSlow, .since = "2.0.0",
                    .summary = "Returns the effective values of configuration parameters.",
                    .syntax = "parameter [parameter ...]", .handler = CmdConfigGet});
  t.AddSub(config, {.name = "set", .arity = -4, .flags = kAdmin | kNoScript | kLoading | kStale,
                    .categories = kAdminSlow, .since = "2.0.0",
                    .summary = "Sets configuration parameters in-flight.",
                    .syntax = "parameter value [parameter value ...]", .handler = CmdConfigSet});
  t.AddSub(config, {.name = "resetstat", .arity = 2,
                    .flags = kAdmin | kNoScript | kLoading | kStale, .categories = kAdminSlow,
                    .since = "2.0.0", .summary = "Resets the server's statistics.", .syntax = "",
                    .handler = CmdConfigResetStat});
  t.AddSub(config, {.name = "help", .arity = 2, .flags = kLoading | kStale,
                    .categories = kCatSlow, .since = "5.0.0",
                    .summary = "Returns helpful text about the different subcommands.",
                    .syntax = "", .handler = CmdConfigHelp});

  CommandSpec& command = t.Add({.name = "command", .arity = -1, .flags = kLoading | kStale,
                                .categories = kCatConnection | kCatSlow, .group = "server",
                                .since = "2.8.13",
                                .summary = "Returns detailed information about all commands.",
                                .syntax = "", .handler = CmdCommand});
  auto sub = [&](const char* name, int arity, const char* since, const char* summary,
                 const char* syntax, Handler h) {
    t.AddSub(command, {.name = name, .arity = arity, .flags = kLoading | kStale,
                       .categories = kCatConnection | kCatSlow, .since = since,
                       .summary = summary, .syntax = syntax, .handler = h});
  };
  sub("count", 2, "2.8.13", "Returns a count of commands.", "", CmdCommandCount);
  sub("info", -2, "2.8.13", "Returns information about one, multiple or all commands.",
      "[command-name [command-name ...]]", CmdCommandInfo);
  sub("docs", -2, "7.0.0", "Returns documentary information about one, multiple or all commands.",
      "[command-name [command-name ...]]", CmdCommandDocs);
  sub("list", -2, "7.0.0", "Returns a list of command names.",
      "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]", CmdCommandList);
  sub("getkeys", -3, "2.8.13", "Extracts the key names from an arbitrary command.",
      "command [arg [arg ...]]", CmdCommandGetKeys);
  sub("help", 2, "5.0.0", "Returns helpful text about the different subcommands.", "",
      CmdCommandHelp);

  CommandSpec& function = t.Add({.name = "function", .arity = -2, .categories = kCatSlow,
                                 .group = "scripting", .since = "7.0.0",
                                 .summary = "A container for function commands."});
  t.AddSub(function, {.name = "flush", .arity = -2, .flags = kNoScript | kWrite,
                      .categories = kCatWrite | kCatSlow | kCatScripting, .since = "7.0.0",
                      .summary = "Deletes all libraries and functions.",
                      .syntax = "[ASYNC|SYNC]", .handler = CmdFunctionFlush});
}

}  // namespace runnel::commands
