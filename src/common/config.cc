#include "common/config.h"

#include <cctype>
#include <fstream>
#include <limits>

#include "common/glob.h"
#include "common/keyspace_events.h"
#include "common/log.h"
#include "common/util.h"

namespace runnel {

namespace {

enum class Kind { kInt, kMemory, kBool, kString, kEnum, kSpecial };

}  // namespace

// One row of the settings table. Numbers point at an atomic; strings at a member guarded by mu_.
struct Config::Setting {
  const char* name;
  Kind kind;
  bool mutable_at_runtime;
  std::atomic<int64_t> Config::*int_value = nullptr;
  std::atomic<bool> Config::*bool_value = nullptr;
  std::string Config::*string_value = nullptr;
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();
  std::vector<std::string> choices = {};  // kEnum; also kString values allowed when non-empty
};

namespace {

using S = Config::Setting;

}  // namespace

const std::vector<Config::Setting>& Config::Table() {
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  static const std::vector<S> table = {
      {"port", Kind::kInt, false, &Config::port, nullptr, nullptr, 0, 65535},
      {"bind", Kind::kString, false, nullptr, nullptr, &Config::bind_},
      {"dir", Kind::kString, false, nullptr, nullptr, &Config::dir_},
      {"threads", Kind::kInt, false, &Config::threads, nullptr, nullptr, 1, 256},
      {"requirepass", Kind::kString, true, nullptr, nullptr, &Config::requirepass_},
      {"loglevel", Kind::kEnum, true, nullptr, nullptr, &Config::loglevel_, 0, 0,
       {"debug", "verbose", "notice", "warning"}},
      {"logfile", Kind::kString, false, nullptr, nullptr, &Config::logfile_},
      {"maxclients", Kind::kInt, true, &Config::maxclients, nullptr, nullptr, 1, kIntMax},
      {"databases", Kind::kInt, false, &Config::databases, nullptr, nullptr, 1, kIntMax},
      // At run time CONFIG SET turns the log on or off (Persistence::SetAppendOnly).
      {"appendonly", Kind::kBool, true, nullptr, &Config::appendonly},
      {"appendfsync", Kind::kEnum, true, nullptr, nullptr, &Config::appendfsync_, 0, 0,
       {"always", "everysec", "no"}},
      {"save", Kind::kSpecial, true, nullptr, nullptr, &Config::save_},
      {"wal-segment-size", Kind::kMemory, false, &Config::wal_segment_size, nullptr, nullptr,
       1024 * 1024, 1LL << 40},
      {"wal-max-size", Kind::kMemory, true, &Config::wal_max_size, nullptr, nullptr, 1024 * 1024,
       std::numeric_limits<int64_t>::max()},
      {"checkpoint-interval", Kind::kInt, true, &Config::checkpoint_interval, nullptr, nullptr, 0,
       kIntMax},
      {"auto-aof-rewrite-percentage", Kind::kInt, true, &Config::auto_aof_rewrite_percentage,
       nullptr, nullptr, 0, kIntMax},
      {"auto-aof-rewrite-min-size", Kind::kMemory, true, &Config::auto_aof_rewrite_min_size,
       nullptr, nullptr, 0, std::numeric_limits<int64_t>::max()},
      {"wal-allow-truncate", Kind::kBool, false, nullptr, &Config::wal_allow_truncate},
      {"proto-max-bulk-len", Kind::kMemory, true, &Config::proto_max_bulk_len, nullptr, nullptr,
       1024 * 1024, std::numeric_limits<int64_t>::max()},
      {"client-query-buffer-limit", Kind::kMemory, true, &Config::client_query_buffer_limit,
       nullptr, nullptr, 1024 * 1024, std::numeric_limits<int64_t>::max()},
      {"client-output-buffer-limit", Kind::kSpecial, true},
      {"notify-keyspace-events", Kind::kSpecial, true},
      {"hz", Kind::kInt, true, &Config::hz, nullptr, nullptr, 1, 500},
      {"timeout", Kind::kInt, true, &Config::timeout, nullptr, nullptr, 0, kIntMax},
      {"tcp-keepalive", Kind::kInt, true, &Config::tcp_keepalive, nullptr, nullptr, 0, kIntMax},
      {"tcp-backlog", Kind::kInt, false, &Config::tcp_backlog, nullptr, nullptr, 0, kIntMax},
      {"active-expire-effort", Kind::kInt, true, &Config::active_expire_effort, nullptr, nullptr,
       1, 10},
      {"protected-mode", Kind::kBool, true, nullptr, &Config::protected_mode},
      {"redis-version", Kind::kString, true, nullptr, nullptr, &Config::redis_version_},
      {"set-max-intset-entries", Kind::kInt, true, &Config::set_max_intset_entries, nullptr,
       nullptr, 0},
      {"set-max-listpack-entries", Kind::kInt, true, &Config::set_max_listpack_entries, nullptr,
       nullptr, 0},
      {"set-max-listpack-value", Kind::kInt, true, &Config::set_max_listpack_value, nullptr,
       nullptr, 0},
      // Redis's compiled-in defaults (its sample redis.conf sets 128 entries); the ziplist
      // names are Redis's aliases of the same settings.
      {"hash-max-listpack-entries", Kind::kInt, true, &Config::hash_max_listpack_entries},
      {"hash-max-listpack-value", Kind::kMemory, true, &Config::hash_max_listpack_value},
      {"hash-max-ziplist-entries", Kind::kInt, true, &Config::hash_max_listpack_entries},
      {"hash-max-ziplist-value", Kind::kMemory, true, &Config::hash_max_listpack_value},
      {"zset-max-listpack-entries", Kind::kInt, true, &Config::zset_max_listpack_entries},
      {"zset-max-listpack-value", Kind::kMemory, true, &Config::zset_max_listpack_value},
      {"zset-max-ziplist-entries", Kind::kInt, true, &Config::zset_max_listpack_entries},
      {"zset-max-ziplist-value", Kind::kMemory, true, &Config::zset_max_listpack_value},
      {"list-max-listpack-size", Kind::kInt, true, &Config::list_max_listpack_size, nullptr,
       nullptr, -kIntMax - 1, kIntMax},
      {"list-max-ziplist-size", Kind::kInt, true, &Config::list_max_listpack_size, nullptr,
       nullptr, -kIntMax - 1, kIntMax},  // the old name Redis still accepts
      {"list-compress-depth", Kind::kInt, true, &Config::list_compress_depth, nullptr, nullptr, 0,
       kIntMax},
      {"io-batch-wait-us", Kind::kInt, true, &Config::io_batch_wait_us, nullptr, nullptr, 0, 1000},
      {"loop-sharing", Kind::kEnum, true, nullptr, nullptr, &Config::loop_sharing_, 0, 0,
       {"auto", "yes", "no"}},
  };
  return table;
}

namespace {

const S* FindSetting(std::string_view name) {
  for (const S& s : Config::Table())
    if (EqualsIgnoreCase(name, s.name)) return &s;
  return nullptr;
}

const char* kClassNames[] = {"normal", "slave", "pubsub"};

bool IsNamed(const S* s, std::string_view name) { return std::string_view(s->name) == name; }

}  // namespace

Config& GlobalConfig() {
  static Config config;
  return config;
}

bool ParseMemory(std::string_view s, int64_t* out) {
  std::string lower = ToLower(s);
  int64_t mul = 1;
  auto strip = [&](std::string_view suffix, int64_t m) {
    if (lower.size() > suffix.size() && lower.ends_with(suffix)) {
      lower.resize(lower.size() - suffix.size());
      mul = m;
      return true;
    }
    return false;
  };
  strip("gb", 1024LL * 1024 * 1024) || strip("mb", 1024LL * 1024) || strip("kb", 1024) ||
      strip("g", 1000LL * 1000 * 1000) || strip("m", 1000LL * 1000) || strip("k", 1000) ||
      strip("b", 1);
  int64_t v;
  if (!ParseInt64(lower, &v)) return false;
  if (v != 0 && (v > std::numeric_limits<int64_t>::max() / mul ||
                 v < std::numeric_limits<int64_t>::min() / mul))
    return false;
  *out = v * mul;
  return true;
}

bool SplitConfigLine(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  auto hex = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
  };
  while (true) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= line.size()) return true;
    std::string cur;
    bool in_double = false, in_single = false;
    while (true) {
      if (in_double) {
        if (i >= line.size()) return false;
        char c = line[i];
        if (c == '\\' && i + 3 < line.size() && line[i + 1] == 'x' &&
            std::isxdigit(static_cast<unsigned char>(line[i + 2])) &&
            std::isxdigit(static_cast<unsigned char>(line[i + 3]))) {
          cur.push_back(static_cast<char>(hex(line[i + 2]) * 16 + hex(line[i + 3])));
          i += 4;
          continue;
        }
        if (c == '\\' && i + 1 < line.size()) {
          char e = line[i + 1];
          cur.push_back(e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e == 'b' ? '\b'
                        : e == 'a' ? '\a' : e);
          i += 2;
          continue;
        }
        if (c == '"') {
          ++i;
          if (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) return false;
          break;
        }
        cur.push_back(c);
        ++i;
      } else if (in_single) {
        if (i >= line.size()) return false;
        char c = line[i];
        if (c == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          cur.push_back('\'');
          i += 2;
          continue;
        }
        if (c == '\'') {
          ++i;
          if (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) return false;
          break;
        }
        cur.push_back(c);
        ++i;
      } else {
        if (i >= line.size() || std::isspace(static_cast<unsigned char>(line[i]))) break;
        char c = line[i++];
        if (c == '"') {
          in_double = true;
        } else if (c == '\'') {
          in_single = true;
        } else {
          cur.push_back(c);
        }
      }
    }
    out->push_back(std::move(cur));
  }
}

std::string Config::Bind() const {
  std::lock_guard lock(mu_);
  return bind_;
}
std::string Config::Dir() const {
  std::lock_guard lock(mu_);
  return dir_;
}
std::string Config::RequirePass() const {
  std::lock_guard lock(mu_);
  return requirepass_;
}
std::string Config::LogFile() const {
  std::lock_guard lock(mu_);
  return logfile_;
}
std::string Config::RedisVersion() const {
  std::lock_guard lock(mu_);
  return redis_version_;
}
// save <seconds> <changes> [<seconds> <changes> ...], or an empty string for no save points.
std::string Config::SetSave(const std::vector<std::string>& args, bool startup) {
  std::vector<std::string> words;
  for (const auto& a : args) {
    std::vector<std::string> split;
    if (!SplitConfigLine(a, &split)) return "Invalid save parameters";
    words.insert(words.end(), split.begin(), split.end());
  }
  if (words.size() % 2 != 0) return "Invalid save parameters";
  std::string normalized;
  for (size_t i = 0; i < words.size(); ++i) {
    int64_t n;
    if (!ParseInt64(words[i], &n) || n < 0) return "Invalid save parameters";
    normalized += (i ? " " : "") + std::to_string(n);
  }
  std::lock_guard lock(mu_);
  // In a config file each "save" line adds a point, as in redis.conf; elsewhere it replaces.
  if (startup && appending_save_ && !save_.empty() && !normalized.empty()) {
    save_ += " " + normalized;
  } else {
    save_ = normalized;
  }
  return "";
}

std::vector<std::pair<int64_t, int64_t>> Config::SavePoints() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<int64_t, int64_t>> out;
  std::vector<std::string> words;
  SplitConfigLine(save_, &words);
  for (size_t i = 0; i + 1 < words.size(); i += 2) {
    int64_t secs = 0, changes = 0;
    ParseInt64(words[i], &secs);
    ParseInt64(words[i + 1], &changes);
    out.emplace_back(secs, changes);
  }
  return out;
}

OutputLimit Config::GetOutputLimit(ClientClass c) const {
  std::lock_guard lock(mu_);
  return output_limits_[static_cast<int>(c)];
}

namespace {

std::string SetOutputLimits(const std::vector<std::string>& args, OutputLimit* limits) {
  if (args.size() % 4 != 0 || args.empty()) return "Wrong number of arguments in buffer limit configuration.";
  OutputLimit next[3] = {limits[0], limits[1], limits[2]};
  for (size_t i = 0; i < args.size(); i += 4) {
    std::string cls = ToLower(args[i]);
    int index = cls == "normal" ? 0 : (cls == "slave" || cls == "replica") ? 1 : cls == "pubsub" ? 2 : -1;
    if (index < 0) return "Invalid client class specified in buffer limit configuration.";
    OutputLimit l;
    if (!ParseMemory(args[i + 1], &l.hard) || !ParseMemory(args[i + 2], &l.soft) ||
        !ParseInt64(args[i + 3], &l.soft_seconds) || l.hard < 0 || l.soft < 0 ||
        l.soft_seconds < 0)
      return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
    next[index] = l;
  }
  for (int i = 0; i < 3; ++i) limits[i] = next[i];
  return "";
}

}  // namespace

std::string Config::Set(std::string_view name, const std::vector<std::string>& args,
                        bool startup) {
  const S* s = FindSetting(name);
  if (s == nullptr) return "unknown";
  if (!startup && !s->mutable_at_runtime) return "can't set immutable config";
  if (s->kind == Kind::kSpecial && s->string_value == &Config::save_) return SetSave(args, startup);
  if (s->kind == Kind::kSpecial && IsNamed(s, "notify-keyspace-events")) {
    uint32_t flags;
    if (args.size() != 1) return "wrong number of arguments";
    if (!ParseKeyspaceEvents(args[0], &flags))
      return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    g_keyspace_events.store(flags, std::memory_order_relaxed);
    if (!startup) NotifyChanged(s->name);
    return "";
  }
  if (s->kind == Kind::kSpecial) {
    std::lock_guard lock(mu_);
    std::vector<std::string> words;
    for (const auto& a : args) {
      std::vector<std::string> split;
      SplitConfigLine(a, &split);
      words.insert(words.end(), split.begin(), split.end());
    }
    return SetOutputLimits(words, output_limits_);
  }
  if (args.size() != 1) return "wrong number of arguments";
  const std::string& v = args[0];
  switch (s->kind) {
    case Kind::kInt:
    case Kind::kMemory: {
      int64_t n;
      bool ok = s->kind == Kind::kInt ? ParseInt64(v, &n) : ParseMemory(v, &n);
      if (!ok) {
        return s->kind == Kind::kInt ? "argument couldn't be parsed into an integer"
                                     : "argument must be a memory value";
      }
      if (n < s->min || n > s->max)
        return "argument must be between " + std::to_string(s->min) + " and " +
               std::to_string(s->max) + " inclusive";
      (this->*(s->int_value)).store(n);
      break;
    }
    case Kind::kBool: {
      std::string lower = ToLower(v);
      if (lower != "yes" && lower != "no") return "argument must be 'yes' or 'no'";
      (this->*(s->bool_value)).store(lower == "yes");
      break;
    }
    case Kind::kEnum: {
      std::string lower = ToLower(v);
      bool found = false;
      for (const auto& c : s->choices) found = found || c == lower;
      if (!found) {
        std::string list;
        for (const auto& c : s->choices) list += (list.empty() ? "" : ", ") + c;
        return "argument(s) must be one of the following: " + list;
      }
      std::lock_guard lock(mu_);
      this->*(s->string_value) = lower;
      break;
    }
    case Kind::kString: {
      std::lock_guard lock(mu_);
      this->*(s->string_value) = v;
      break;
    }
    case Kind::kSpecial:
      break;
  }
  if (s->string_value == &Config::appendfsync_) {
    std::string lower = ToLower(v);
    appendfsync.store(lower == "always" ? 0 : lower == "everysec" ? 1 : 2);
  }
  if (s->string_value == &Config::loop_sharing_) {
    std::string lower = ToLower(v);
    loop_sharing.store(lower == "auto" ? 0 : lower == "yes" ? 1 : 2);
  }
  if (s->string_value == &Config::loglevel_) {
    LogLevel level;
    if (ParseLogLevel(v, &level)) SetLogLevel(level);
  }
  if (!startup) NotifyChanged(s->name);
  return "";
}

std::vector<std::pair<std::string, std::string>> Config::Get(std::string_view pattern) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard lock(mu_);
  for (const S& s : Table()) {
    if (!GlobMatch(pattern, s.name, true)) continue;
    std::string value;
    switch (s.kind) {
      case Kind::kInt:
      case Kind::kMemory:
        value = std::to_string((this->*(s.int_value)).load());
        break;
      case Kind::kBool:
        value = (this->*(s.bool_value)).load() ? "yes" : "no";
        break;
      case Kind::kString:
      case Kind::kEnum:
        value = this->*(s.string_value);
        break;
      case Kind::kSpecial:
        if (s.string_value == &Config::save_) {
          value = save_;
          break;
        }
        if (IsNamed(&s, "notify-keyspace-events")) {
          value = FormatKeyspaceEvents(KeyspaceEvents());
          break;
        }
        for (int i = 0; i < 3; ++i) {
          const OutputLimit& l = output_limits_[i];
          value += (i ? " " : "") + std::string(kClassNames[i]) + " " + std::to_string(l.hard) +
                   " " + std::to_string(l.soft) + " " + std::to_string(l.soft_seconds);
        }
        break;
    }
    out.emplace_back(s.name, std::move(value));
  }
  return out;
}

std::string Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "Fatal error, can't open config file '" + path + "'";
  std::string line;
  int lineno = 0;
  std::vector<std::string> words;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (!SplitConfigLine(line, &words))
      return "line " + std::to_string(lineno) + " >>> '" + line + "'\nUnbalanced quotes in configuration line";
    if (words.empty()) continue;
    std::string name = ToLower(words[0]);
    std::vector<std::string> args(words.begin() + 1, words.end());
    std::string err = Set(name, args, true);
    if (name == "save") appending_save_ = true;
    if (err == "unknown") err = "Bad directive or wrong number of arguments";
    if (!err.empty()) return "line " + std::to_string(lineno) + " >>> '" + line + "'\n" + err;
  }
  return "";
}

void Config::OnChange(std::function<void(std::string_view name)> fn) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(fn));
}

void Config::NotifyChanged(std::string_view name) {
  std::vector<std::function<void(std::string_view)>> listeners;
  {
    std::lock_guard lock(mu_);
    listeners = listeners_;
  }
  for (auto& fn : listeners) fn(name);
}

}  // namespace runnel
