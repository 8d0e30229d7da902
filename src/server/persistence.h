// Persistence as the server runs it: recovery at start-up (checkpoint, then the log), the log
// that every write goes to, and checkpoints (periodic, when the log grows past wal-max-size or
// by auto-aof-rewrite-percentage, after the save points' changes, and on
// SAVE/BGSAVE/BGREWRITEAOF/SHUTDOWN).
//
// A checkpoint serializes one shard at a time under that shard's lock, tagged with the LSN of
// the last record that changed it; segments every shard's checkpoint covers are then deleted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/keyspace.h"

namespace runnel::commands {
class ServerApi;
}

namespace runnel::persist {
class Wal;
class WalReader;
}  // namespace runnel::persist

namespace runnel::server {

class Persistence {
 public:
  Persistence(engine::Keyspace* ks, commands::ServerApi* server);
  ~Persistence();

  // Loads the last checkpoint and replays the log after it, then opens the log for appending
  // (when appendonly is on). Called once, before writes are admitted.
  bool Recover(std::string* error);
  // Starts the background thread that takes checkpoints when they are due.
  void Start();
  // Stops the thread, takes a final checkpoint if `save`, and closes the log (fsynced).
  void Stop(bool save);

  // Takes a checkpoint now on the calling thread. `all_locked`: the caller holds every shard's
  // lock (DEBUG RELOAD).
  bool Checkpoint(std::string* error, bool all_locked = false);
  // Asks the background thread for a checkpoint; false if one is already running.
  bool RequestCheckpoint();
  // After FLUSHALL: without a log, a checkpoint now keeps a restart from bringing the keys back,
  // as Redis saves its RDB at FLUSHALL when save points are set (with a log, the log has the
  // flush). Inside a transaction it is taken in the background, which waits for the
  // transaction's shard locks: a checkpoint must not see half a transaction.
  void FlushedAll(bool in_transaction);
  // DEBUG RELOAD: checkpoint and load it back, with every shard locked (refused while loading).
  bool Reload(std::string* error);
  // CONFIG SET appendonly. Off: the log is written and fsynced to its end and closed, and later
  // writes are not logged. On: a new log starts, after a checkpoint of everything taken with
  // every shard locked (the writes made while the log was off are in no log), so recovery is
  // that checkpoint and the new log. False, with the log left off, if either fails, and while
  // the data is loading.
  bool SetAppendOnly(bool on, std::string* error);
  // Called each time the log's durable position advances (see Wal::OnDurable), for every log.
  void OnDurable(std::function<void(uint64_t)> fn);

  // DEBUG WAL-FAULT: make the log's writes ("write"), fsyncs ("fsync") or both ("all") fail
  // with `err` (ENOSPC, EIO) until cleared with err 0. For tests of the disk-error paths.
  static void SetFault(const std::string& what, int err);

  bool checkpoint_in_progress() const { return in_progress_.load(); }
  int64_t last_save_time() const { return last_save_time_.load(); }
  // The "# Persistence" section of INFO.
  std::string Info();

 private:
  // The log, null while appendonly is off: the one commands append to (commands::GetWal).
  static persist::Wal* wal();
  bool LoadCheckpoint(std::vector<uint64_t>* shard_lsn, std::string* error);
  // Replays records after each shard's checkpoint; raises *next_lsn past the last one read.
  bool ReplayLog(const std::vector<uint64_t>& shard_lsn, uint64_t* next_lsn, std::string* error);
  // Applies every record `reader` yields on `workers` threads; counts them in *records.
  bool ReplayRecords(persist::WalReader& reader, const std::vector<uint64_t>& shard_lsn,
                     int workers, uint64_t* records, std::string* error);
  bool CheckpointLocked(std::string* error, bool all_locked);  // checkpoint_mu_ held
  // DEBUG RELOAD and the appendonly switch wait for start-up's loading to finish.
  static bool RefusedWhileLoading(std::string* error);
  // Opens a log starting at next_lsn_; null (with *error) if it cannot.
  std::unique_ptr<persist::Wal> OpenLog(std::string* error);
  void Run();
  bool Due();
  // Writes since the last checkpoint (or start-up), as Redis counts its dirty keys: the sum of
  // the shards' versions, each read under its lock, minus what the checkpoint saw. Unlike log
  // LSNs it counts with appendonly no too, where save points and checkpoint-interval need it.
  uint64_t Changes();
  uint64_t Versions();
  uint64_t KeyCount(bool all_locked);  // keys in every database, each shard read under its lock
  void QueueCheckpoint();  // one more checkpoint, after the one under way if any
  int64_t CurrentBytes() const;  // the checkpoint's and the log's, Redis's aof_current_size

  engine::Keyspace* ks_;
  commands::ServerApi* server_;
  // Every log opened stays here until the server exits: threads read the current one without a
  // lock (wal()), and may still hold one just closed.
  std::vector<std::unique_ptr<persist::Wal>> logs_;
  uint64_t next_lsn_ = 1;  // where a log opened now would start (checkpoint_mu_)
  std::function<void(uint64_t)> on_durable_;
  // One checkpoint or appendonly switch at a time. Taken before any shard lock: a checkpoint
  // takes shard locks with it held.
  std::mutex checkpoint_mu_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool requested_ = false;
  std::thread thread_;
  std::atomic<bool> in_progress_{false};
  std::atomic<int64_t> last_save_time_{0};  // seconds
  std::atomic<int64_t> last_duration_ms_{0};
  std::atomic<int64_t> longest_pause_us_{0};
  std::atomic<uint64_t> checkpoint_lsn_{0};  // lowest shard LSN of the last checkpoint
  std::atomic<uint64_t> saved_versions_{0};  // Versions() as the last checkpoint saw them
  // auto-aof-rewrite-*: the last checkpoint's bytes on disk, and those plus the log's right
  // after it (or after start-up), Redis's aof_base_size.
  std::atomic<int64_t> checkpoint_bytes_{0};
  std::atomic<int64_t> base_bytes_{0};
  std::atomic<bool> last_ok_{true};
  // For INFO: checkpoints completed (all, and those with the log on: Redis's AOF rewrites),
  // failures in a row, the current one's start, keys at its start and serialized so far, and
  // keys loaded at start-up.
  std::atomic<uint64_t> saves_{0};
  std::atomic<uint64_t> log_saves_{0};
  std::atomic<uint64_t> failures_in_a_row_{0};
  std::atomic<int64_t> started_ms_{0};
  std::atomic<uint64_t> save_keys_total_{0};
  std::atomic<uint64_t> save_keys_processed_{0};
  std::atomic<uint64_t> keys_loaded_{0};
  uint64_t next_checkpoint_id_ = 1;
};

}  // namespace runnel::server
