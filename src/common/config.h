// Server settings, named as in redis.conf. One table describes every setting (name, type, range,
// default, whether CONFIG SET may change it); the same table drives the config file, command-line
// options, CONFIG GET/SET and INFO. Values are readable from any thread without locks (numbers
// are atomics; strings are copied out under a mutex).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace runnel {

// Output-buffer limits of one client class (client-output-buffer-limit).
struct OutputLimit {
  int64_t hard = 0;         // bytes; 0 = none
  int64_t soft = 0;         // bytes; 0 = none
  int64_t soft_seconds = 0;
};
enum class ClientClass { kNormal = 0, kReplica = 1, kPubSub = 2 };

class Config {
 public:
  // Numbers read on hot paths.
  std::atomic<int64_t> port{6379};
  std::atomic<int64_t> threads{0};  // 0 until resolved to the CPU count at start-up
  std::atomic<int64_t> maxclients{10000};
  std::atomic<int64_t> databases{16};
  std::atomic<int64_t> proto_max_bulk_len{512LL * 1024 * 1024};
  std::atomic<int64_t> client_query_buffer_limit{1024LL * 1024 * 1024};
  std::atomic<int64_t> hz{10};
  std::atomic<int64_t> timeout{0};
  std::atomic<int64_t> tcp_keepalive{300};
  std::atomic<int64_t> tcp_backlog{511};
  std::atomic<int64_t> active_expire_effort{1};
  std::atomic<bool> active_expire_enabled{true};  // DEBUG SET-ACTIVE-EXPIRE, not a config name
  std::atomic<bool> protected_mode{true};
  std::atomic<bool> appendonly{true};
  std::atomic<int64_t> appendfsync{1};  // 0 always, 1 everysec, 2 no
  std::atomic<int64_t> wal_segment_size{64LL * 1024 * 1024};
  std::atomic<int64_t> wal_max_size{1024LL * 1024 * 1024};
  std::atomic<int64_t> checkpoint_interval{300};
  // Redis's AOF rewrite trigger, for checkpoints: the checkpoint and the log together have grown
  // by this percentage since the last checkpoint (0: never) and are past the minimum size. 100
  // by default, as Redis: it bounds the log a restart replays.
  std::atomic<int64_t> auto_aof_rewrite_percentage{100};
  std::atomic<int64_t> auto_aof_rewrite_min_size{64LL * 1024 * 1024};
  std::atomic<bool> wal_allow_truncate{false};
  // Set encodings (engine/set.h): intset, listpack and hashtable thresholds, as in Redis 7.2.
  std::atomic<int64_t> set_max_intset_entries{512};
  std::atomic<int64_t> set_max_listpack_entries{128};
  std::atomic<int64_t> set_max_listpack_value{64};
  // Hashes stay packed (OBJECT ENCODING listpack) up to this many fields and field/value bytes.
  std::atomic<int64_t> hash_max_listpack_entries{512};
  std::atomic<int64_t> hash_max_listpack_value{64};
  // Sorted sets stay packed (OBJECT ENCODING listpack) up to this many elements and member bytes.
  std::atomic<int64_t> zset_max_listpack_entries{128};
  std::atomic<int64_t> zset_max_listpack_value{64};
  // Lists: a node's limit (-1..-5: 4..64 KB; positive: elements) and nodes left uncompressed
  // at each end (accepted; runnel does not compress list nodes).
  std::atomic<int64_t> list_max_listpack_size{-2};
  std::atomic<int64_t> list_compress_depth{0};
  // Event loops: how long a loop that woke for few of its busy connections waits for more
  // input before it polls again (microseconds; 0 = never). See EventLoop::WaitForMoreInput.
  std::atomic<int64_t> io_batch_wait_us{50};
  // Whether the event loops share one thread (loop-sharing: 0 auto, 1 yes, 2 no). See
  // Server::BalanceThreads.
  std::atomic<int> loop_sharing{0};

  std::string Bind() const;
  std::string Dir() const;
  std::string RequirePass() const;
  std::string LogFile() const;
  std::string RedisVersion() const;
  OutputLimit GetOutputLimit(ClientClass c) const;
  // Save points (seconds, changes) from `save`, e.g. "3600 1 300 100" -> {{3600,1},{300,100}}.
  std::vector<std::pair<int64_t, int64_t>> SavePoints() const;

  // Applies one setting from the config file, the command line or CONFIG SET. `args` are the
  // words after the name. `startup` allows immutable settings. Returns "" or an error message.
  std::string Set(std::string_view name, const std::vector<std::string>& args, bool startup);
  // Name/value pairs of every setting whose name matches the glob `pattern` (CONFIG GET).
  std::vector<std::pair<std::string, std::string>> Get(std::string_view pattern) const;
  // Reads a redis.conf-style file. Returns "" or an error naming the line.
  std::string LoadFile(const std::string& path);
  // Called after a setting changed at run time (log level, log file, ...).
  void OnChange(std::function<void(std::string_view name)> fn);
  void NotifyChanged(std::string_view name);

  struct Setting;
  // The settings table (config.cc).
  static const std::vector<Setting>& Table();

 private:
  std::string SetSave(const std::vector<std::string>& args, bool startup);
  mutable std::mutex mu_;
  std::string bind_ = "127.0.0.1 -::1";
  std::string dir_ = ".";
  std::string requirepass_;
  std::string logfile_;
  std::string loglevel_ = "notice";
  std::string save_ = "3600 1 300 100 60 10000";
  std::string appendfsync_ = "everysec";
  std::string loop_sharing_ = "auto";
  bool appending_save_ = false;  // a config file's later "save" lines add points
  std::string redis_version_ = "7.2.4";
  OutputLimit output_limits_[3] = {{0, 0, 0},
                                   {256LL << 20, 64LL << 20, 60},
                                   {32LL << 20, 8LL << 20, 60}};
  std::vector<std::function<void(std::string_view)>> listeners_;
};

Config& GlobalConfig();

// Parses "1gb", "64mb", "100k", "1024" as Redis memory sizes. Returns false if malformed.
bool ParseMemory(std::string_view s, int64_t* out);
// Splits a config line as redis.conf does (quotes, escapes). Returns false on unbalanced quotes.
bool SplitConfigLine(std::string_view line, std::vector<std::string>* out);

}  // namespace runnel
