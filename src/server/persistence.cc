#include "server/persistence.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <type_traits>

#include "commands/context.h"
#include "commands/dispatch.h"
#include "commands/table.h"
#include "commands/wal_log.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "engine/snapshot.h"
#include "engine/hash.h"
#include "engine/list.h"
#include "engine/set.h"
#include "engine/zset.h"
#include "engine/stream.h"
#include "persist/checkpoint.h"
#include "persist/log_format.h"
#include "persist/wal.h"
#include "persist/wal_reader.h"
#include "server/replay_pool.h"

namespace runnel::server {

namespace {

persist::FsyncPolicy PolicyFromConfig() {
  switch (GlobalConfig().appendfsync.load()) {
    case 0: return persist::FsyncPolicy::kAlways;
    case 1: return persist::FsyncPolicy::kEverySec;
    default: return persist::FsyncPolicy::kNo;
  }
}

std::atomic<int> g_fault_write{0};
std::atomic<int> g_fault_sync{0};

int InjectedFault(persist::WalIo io) {
  return io == persist::WalIo::kSync ? g_fault_sync.load() : g_fault_write.load();
}

const char* PolicyName(persist::FsyncPolicy p) {
  switch (p) {
    case persist::FsyncPolicy::kAlways: return "always";
    case persist::FsyncPolicy::kEverySec: return "everysec";
    default: return "no";
  }
}

// Threads for loading: --threads (the CPU count unless set).
int LoadThreads() { return static_cast<int>(std::max<int64_t>(1, GlobalConfig().threads.load())); }

// Logs how far replaying the log has got, about once a second.
class ReplayProgress {
 public:
  explicit ReplayProgress(const persist::WalReader& reader)
      : reader_(reader), start_(MonotonicUs()), last_report_(start_) {}
  void Tick(uint64_t records) {
    if (records % 4096 != 0) return;  // reading the clock per record would cost more than this
    int64_t now = MonotonicUs();
    if (now - last_report_ < 1000000) return;
    double total = static_cast<double>(std::max<uint64_t>(1, reader_.total_bytes()));
    double done = static_cast<double>(reader_.bytes_read()) / total;
    double secs = static_cast<double>(now - start_) / 1e6;
    LogNotice("Loading the log: {:.1f}% done, {:.0f} records/s, {:.0f}s left", done * 100,
              static_cast<double>(records) / secs, done > 0 ? secs / done - secs : 0.0);
    last_report_ = now;
  }

 private:
  const persist::WalReader& reader_;
  int64_t start_;
  int64_t last_report_;
};

}  // namespace

Persistence::Persistence(engine::Keyspace* ks, commands::ServerApi* server)
    : ks_(ks), server_(server) {
  // Checkpoints hold objects in their own serialized forms; each type brings its loader.
  engine::RegisterObjectLoader(engine::ValueType::kStream, [](std::string_view d) -> engine::Object* {
    return engine::Stream::Deserialize(d).release();
  });
  engine::RegisterObjectLoader(engine::ValueType::kSet, [](std::string_view d) -> engine::Object* {
    return engine::Set::Deserialize(d).release();
  });
  engine::RegisterObjectLoader(engine::ValueType::kList, [](std::string_view d) -> engine::Object* {
    return engine::List::Deserialize(d).release();
  });
  engine::RegisterObjectLoader(engine::ValueType::kZSet, [](std::string_view d) -> engine::Object* {
    return engine::ZSet::Deserialize(d).release();
  });
  engine::RegisterObjectLoader(engine::ValueType::kHash, [](std::string_view d) -> engine::Object* {
    const Config& c = GlobalConfig();
    return engine::DeserializeHash(
        d, {static_cast<size_t>(c.hash_max_listpack_entries.load()),
            static_cast<size_t>(c.hash_max_listpack_value.load())});
  });
  last_save_time_ = NowMs() / 1000;
  GlobalConfig().OnChange([this](std::string_view name) {
    if (persist::Wal* wal = this->wal(); name == "appendfsync" && wal)
      wal->SetFsyncPolicy(PolicyFromConfig());
  });
}

Persistence::~Persistence() { Stop(false); }

void Persistence::SetFault(const std::string& what, int err) {
  if (what == "write" || what == "all") g_fault_write = err;
  if (what == "fsync" || what == "all") g_fault_sync = err;
}

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

bool Persistence::LoadCheckpoint(std::vector<uint64_t>* shard_lsn, std::string* error) {
  std::unique_ptr<persist::CheckpointReader> reader;
  persist::Status st = persist::CheckpointReader::Open(".", &reader);
  if (!st.ok()) {
    *error = st.message();
    return false;
  }
  if (reader == nullptr || reader->shard_count() == 0) return true;  // nothing saved yet
  if (reader->shard_count() != engine::Keyspace::kShards) {
    *error = "checkpoint has " + std::to_string(reader->shard_count()) + " shards, expected " +
             std::to_string(engine::Keyspace::kShards);
    return false;
  }
  next_checkpoint_id_ = reader->id() + 1;
  checkpoint_bytes_ = static_cast<int64_t>(reader->file_bytes());
  // Shard files are independent: each thread takes the next one, reads, decompresses and
  // deserializes it.
  std::atomic<int> next{0};
  std::mutex err_mu;
  std::string first_error;  // of the lowest shard that failed, as one thread would report
  int first_error_shard = engine::Keyspace::kShards;
  auto work = [&] {
    std::string raw, err;
    for (int i = next++; i < engine::Keyspace::kShards; i = next++) {
      persist::Status s = reader->ReadShard(i, &raw);
      if (s.ok() && !engine::LoadSnapshot(raw, &ks_->shard(i), &err))
        s = persist::Status::Corruption(reader->shard_path(i) + ": " + err +
                                        (err.find("database") != std::string::npos
                                             ? " (was it written with more --databases?)"
                                             : ""));
      if (!s.ok()) {
        std::lock_guard lock(err_mu);
        if (i < first_error_shard) {
          first_error = s.message();
          first_error_shard = i;
        }
        return;
      }
      (*shard_lsn)[i] = reader->shard_lsn(i);
      ks_->shard(i).last_lsn = reader->shard_lsn(i);
    }
  };
  std::vector<std::thread> helpers;
  int threads = std::min(LoadThreads(), static_cast<int>(engine::Keyspace::kShards));
  for (int i = 1; i < threads; ++i) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  if (!first_error.empty()) {
    *error = first_error;
    return false;
  }
  checkpoint_lsn_ = *std::min_element(shard_lsn->begin(), shard_lsn->end());
  return true;
}

bool Persistence::ReplayLog(const std::vector<uint64_t>& shard_lsn, uint64_t* next_lsn,
                            std::string* error) {
  uint64_t from = *std::min_element(shard_lsn.begin(), shard_lsn.end());
  persist::WalReader::Options options;
  options.allow_truncate = GlobalConfig().wal_allow_truncate.load();
  std::unique_ptr<persist::WalReader> reader;
  persist::Status st = persist::WalReader::Open(".", from, options, &reader);
  if (!st.ok()) {
    *error = st.message();
    return false;
  }
  int64_t start = MonotonicUs();
  int workers = LoadThreads();
  LogNotice("Loading the log ({} MB) with {} {}", reader->total_bytes() >> 20, workers,
            workers == 1 ? "thread" : "replay threads");
  uint64_t records = 0;
  if (!ReplayRecords(*reader, shard_lsn, workers, &records, error)) return false;
  for (const std::string& w : reader->warnings()) LogWarning("{}", w);
  st = persist::SyncLog(".");
  if (!st.ok()) {
    *error = st.message();
    return false;
  }
  *next_lsn = std::max(*next_lsn, reader->next_lsn());
  LogNotice("Log replayed: {} records in {:.3f}s", records,
            static_cast<double>(MonotonicUs() - start) / 1e6);
  return true;
}

// Reads the log on this thread and applies it here (one worker) or on a ReplayPool: a record
// of one shard goes to that shard's queue; any other is a barrier, applied here once the shards
// it touches (or all) are drained.
bool Persistence::ReplayRecords(persist::WalReader& reader, const std::vector<uint64_t>& shard_lsn,
                                int workers, uint64_t* records, std::string* error) {
  commands::Replayer here(*ks_, *server_, shard_lsn);
  std::vector<std::unique_ptr<commands::Replayer>> replayers;
  std::unique_ptr<ReplayPool> pool;
  if (workers > 1) {
    for (int i = 0; i < workers; ++i)
      replayers.push_back(std::make_unique<commands::Replayer>(*ks_, *server_, shard_lsn));
    pool = std::make_unique<ReplayPool>(
        workers, engine::Keyspace::kShards,
        [&](int w, int shard, const ReplayPool::Item& item, std::string* err) {
          return replayers[w]->Apply(item.lsn, item.type, item.payload, shard, err);
        });
  }
  auto where = [](uint64_t lsn) {
    return "log record at LSN " + std::to_string(lsn) + " (in " + persist::kWalDirName + "/): ";
  };
  ReplayProgress progress(reader);
  commands::RecordScope scope;
  persist::RecordView rec;
  const persist::MappedFile* segment = nullptr;
  bool applied = true;
  while (applied && reader.Next(&rec)) {
    progress.Tick(++*records);
    if (pool != nullptr) {
      if (reader.segment().get() != segment) {  // payloads go to the workers without copies
        segment = reader.segment().get();
        pool->KeepAlive(reader.segment());
      }
      here.Scope(rec.type, rec.payload, &scope);
      if (!scope.all && scope.shards.size() == 1) {
        applied = pool->Submit(scope.shards[0], {rec.lsn, rec.type, rec.payload});
        continue;
      }
      applied = scope.all ? pool->Drain() : pool->Drain(scope.shards);
      if (!applied) break;
    }
    if (!(applied = here.Apply(rec.lsn, rec.type, rec.payload, -1, error)))
      *error = where(rec.lsn) + *error;
  }
  // Whatever stopped the loop, the workers finish what they were given: a failure among it
  // comes first in LSN order.
  if (pool != nullptr && !pool->Drain()) {
    *error = where(pool->failed_lsn()) + pool->error();
    return false;
  }
  if (!applied) return false;
  if (!reader.status().ok()) {
    *error = reader.status().message();
    return false;
  }
  return true;
}

bool Persistence::Recover(std::string* error) {
  int64_t start = MonotonicUs();
  std::vector<uint64_t> shard_lsn(engine::Keyspace::kShards, 0);
  if (!LoadCheckpoint(&shard_lsn, error)) return false;
  // LSNs never go back, even past records a checkpoint has and the log lost (everysec).
  uint64_t next = *std::max_element(shard_lsn.begin(), shard_lsn.end()) + 1;
  if (!ReplayLog(shard_lsn, &next, error)) return false;
  LogNotice("DB loaded from disk: {:.3f} seconds", static_cast<double>(MonotonicUs() - start) / 1e6);
  saved_versions_ = Versions();  // what was loaded is on disk already
  keys_loaded_ = KeyCount(false);
  next_lsn_ = next;
  if (!GlobalConfig().appendonly.load()) return true;
  std::unique_ptr<persist::Wal> wal = OpenLog(error);
  if (wal == nullptr) return false;
  commands::SetWal(wal.get());
  logs_.push_back(std::move(wal));
  base_bytes_ = CurrentBytes();
  return true;
}

persist::Wal* Persistence::wal() { return commands::GetWal(); }

std::unique_ptr<persist::Wal> Persistence::OpenLog(std::string* error) {
  persist::WalOptions options;
  options.segment_size = static_cast<uint64_t>(GlobalConfig().wal_segment_size.load());
  options.fsync = PolicyFromConfig();
  options.inject_fault = InjectedFault;
  std::unique_ptr<persist::Wal> wal = persist::Wal::Open(".", next_lsn_, options, error);
  if (wal != nullptr && on_durable_) wal->OnDurable(on_durable_);
  return wal;
}

void Persistence::OnDurable(std::function<void(uint64_t)> fn) {
  on_durable_ = std::move(fn);
  if (persist::Wal* wal = this->wal()) wal->OnDurable(on_durable_);
}

bool Persistence::SetAppendOnly(bool on, std::string* error) {
  // Recovery opens the log, or not, as appendonly says once the data is in; not under it.
  if (RefusedWhileLoading(error)) return false;
  std::lock_guard guard(checkpoint_mu_);
  persist::Wal* current = wal();
  if (on == (current != nullptr)) return true;
  // Every shard locked: no command is between applying a write and logging it.
  ks_->LockAll();
  bool ok = true;
  if (!on) {
    // Closed first, so that the replies waiting for its records are let go only once they are
    // durable; with the log gone, nothing waits.
    current->Close();
    next_lsn_ = std::max(next_lsn_, current->last_lsn() + 1);
    commands::SetWal(nullptr);
  } else if (std::unique_ptr<persist::Wal> wal = OpenLog(error); wal == nullptr) {
    ok = false;
  } else {
    // The checkpoint tags every shard with the new log's start, so that it and the new log are
    // all a restart needs; it also deletes the old log's segments. No command logs meanwhile:
    // every shard is locked.
    commands::SetWal(wal.get());
    ok = CheckpointLocked(error, true);
    if (!ok) {
      commands::SetWal(nullptr);
      wal->Close();
    }
    logs_.push_back(std::move(wal));
  }
  ks_->UnlockAll();
  if (ok) LogNotice("Append only (the log) turned {}", on ? "on" : "off");
  return ok;
}

int64_t Persistence::CurrentBytes() const {
  persist::Wal* wal = this->wal();
  return checkpoint_bytes_.load() + (wal ? static_cast<int64_t>(wal->total_bytes()) : 0);
}

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

bool Persistence::Checkpoint(std::string* error, bool all_locked) {
  std::lock_guard guard(checkpoint_mu_);
  return CheckpointLocked(error, all_locked);
}

bool Persistence::CheckpointLocked(std::string* error, bool all_locked) {
  persist::Wal* const wal = this->wal();
  started_ms_ = NowMs();
  save_keys_processed_ = 0;
  save_keys_total_ = KeyCount(all_locked);
  in_progress_ = true;
  int64_t start = MonotonicUs();
  int64_t longest_pause = 0;
  std::unique_ptr<persist::CheckpointWriter> writer =
      persist::CheckpointWriter::Begin(".", next_checkpoint_id_, error);
  bool ok = writer != nullptr;
  uint64_t min_lsn = UINT64_MAX;
  uint64_t versions = 0;
  std::string raw;
  std::vector<engine::DeferredValue> deferred;  // big streams, copied under the lock
  for (int i = 0; ok && i < engine::Keyspace::kShards; ++i) {
    engine::Shard& shard = ks_->shard(i);
    raw.clear();
    uint64_t lsn;
    {
      int64_t t0 = MonotonicUs();
      std::unique_lock lock(shard.mutex(), std::defer_lock);
      if (!all_locked) lock.lock();
      // Every record that touched this shard was appended under its lock, so with the lock
      // held the shard reflects every record up to the log's last LSN, touched or not.
      lsn = wal ? wal->last_lsn() : shard.last_lsn;
      versions += shard.version;
      int64_t now = NowMs();
      for (int db = 0; db < shard.databases(); ++db) {
        if (engine::Table* t = shard.find_table(db)) {
          save_keys_processed_ += t->size();
          engine::SerializeTable(db, *t, now, &raw, &deferred);
        }
      }
      longest_pause = std::max(longest_pause, MonotonicUs() - t0);
    }
    engine::SerializeDeferred(&deferred, &raw);
    min_lsn = std::min(min_lsn, lsn);
    ok = writer->AddShard(i, lsn, raw, error);
  }
  // The log must hold everything the checkpoint has before the checkpoint replaces it: after a
  // power loss a checkpoint ahead of its log would leave a gap in the LSNs.
  if (ok && wal && !wal->SyncUpTo(writer->max_lsn(), std::chrono::seconds(30))) {
    *error = "the log could not be synced: " + wal->last_error();
    ok = false;
  }
  ok = ok && writer->Commit(error);
  if (ok) {
    ++next_checkpoint_id_;
    checkpoint_lsn_ = min_lsn;
    saved_versions_ = versions;
    // Every record up to the lowest shard LSN is in the checkpoint of every shard. Without a
    // log (appendonly no), segments left by an earlier run are older than this checkpoint.
    if (wal) {
      wal->RemoveSegmentsBelow(min_lsn + 1);
    } else {
      std::error_code ec;
      std::filesystem::remove_all(persist::kWalDirName, ec);
    }
    checkpoint_bytes_ = static_cast<int64_t>(writer->file_bytes());
    base_bytes_ = CurrentBytes();
    last_save_time_ = NowMs() / 1000;
    last_duration_ms_ = (MonotonicUs() - start) / 1000;
    longest_pause_us_ = longest_pause;
    LogNotice("Checkpoint done in {} ms (longest shard pause {} us)", last_duration_ms_.load(),
              longest_pause);
    ++saves_;
    if (wal) ++log_saves_;
    failures_in_a_row_ = 0;
  } else {
    LogWarning("Checkpoint failed: {}", *error);
    ++failures_in_a_row_;
  }
  last_ok_ = ok;
  in_progress_ = false;
  save_keys_total_ = save_keys_processed_ = 0;
  return ok;
}

bool Persistence::Reload(std::string* error) {
  // A checkpoint of half-loaded shards would replace the one being loaded.
  if (RefusedWhileLoading(error)) return false;
  std::lock_guard guard(checkpoint_mu_);
  ks_->LockAll();
  bool ok = CheckpointLocked(error, true);
  if (ok) {
    for (int i = 0; i < engine::Keyspace::kShards; ++i) {
      engine::Shard& shard = ks_->shard(i);
      for (int db = 0; db < shard.databases(); ++db)
        if (engine::Table* t = shard.find_table(db)) t->Clear();
    }
    std::vector<uint64_t> shard_lsn(engine::Keyspace::kShards, 0);
    ok = LoadCheckpoint(&shard_lsn, error);
  }
  ks_->UnlockAll();
  return ok;
}

bool Persistence::RefusedWhileLoading(std::string* error) {
  if (!commands::Loading()) return false;
  *error = "the dataset is still loading";
  return true;
}

bool Persistence::RequestCheckpoint() {
  if (in_progress_) return false;
  {
    std::lock_guard lock(mu_);
    if (requested_) return false;
    requested_ = true;
  }
  cv_.notify_all();
  return true;
}

void Persistence::QueueCheckpoint() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

void Persistence::FlushedAll(bool in_transaction) {
  if (wal() != nullptr || GlobalConfig().SavePoints().empty()) return;
  std::string error;
  if (in_transaction) {
    // Even if one is under way: that one may have serialized some shards before the flush.
    QueueCheckpoint();
  } else if (!Checkpoint(&error)) {
    LogWarning("FLUSHALL: the checkpoint failed: {}", error);
  }
}

uint64_t Persistence::Versions() {
  uint64_t sum = 0;
  for (int i = 0; i < engine::Keyspace::kShards; ++i) {
    engine::Shard& shard = ks_->shard(i);
    std::lock_guard lock(shard.mutex());
    sum += shard.version;
  }
  return sum;
}

uint64_t Persistence::KeyCount(bool all_locked) {
  uint64_t keys = 0;
  for (int i = 0; i < engine::Keyspace::kShards; ++i) {
    engine::Shard& shard = ks_->shard(i);
    std::unique_lock lock(shard.mutex(), std::defer_lock);
    if (!all_locked) lock.lock();
    for (int db = 0; db < shard.databases(); ++db)
      if (engine::Table* t = shard.find_table(db)) keys += t->size();
  }
  return keys;
}

uint64_t Persistence::Changes() {
  const uint64_t now = Versions(), saved = saved_versions_.load();
  return now > saved ? now - saved : 0;
}

// A checkpoint is due after checkpoint-interval seconds (if anything changed), when the log
// passes wal-max-size, when the checkpoint and the log have grown as auto-aof-rewrite-* say
// (Redis's trigger for an AOF rewrite, which a checkpoint is here), or when a save point's
// (seconds, changes) pair is reached. Log records the checkpoint does not cover count as
// changed too: the active expiry cycle's deletions are logged without a write's version.
bool Persistence::Due() {
  const uint64_t changes = Changes();
  persist::Wal* const wal = this->wal();
  const bool logged = wal != nullptr && wal->last_lsn() > checkpoint_lsn_;
  if (changes == 0 && !logged) return false;
  int64_t age = NowMs() / 1000 - last_save_time_;
  Config& config = GlobalConfig();
  int64_t interval = config.checkpoint_interval.load();
  if (interval > 0 && age >= interval) return true;
  if (logged) {
    const int64_t log_bytes = static_cast<int64_t>(wal->total_bytes());
    if (log_bytes > config.wal_max_size.load()) return true;
    const int64_t growth = config.auto_aof_rewrite_percentage.load();
    const int64_t size = checkpoint_bytes_.load() + log_bytes;  // CurrentBytes()
    const int64_t base = std::max<int64_t>(base_bytes_.load(), 1);
    if (growth > 0 && size > config.auto_aof_rewrite_min_size.load() &&
        (size - base) * 100 / base >= growth)
      return true;
  }
  for (auto [secs, min_changes] : config.SavePoints())
    if (age >= secs && static_cast<int64_t>(changes) >= min_changes) return true;
  return false;
}

void Persistence::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || requested_; });
    if (stop_) break;
    bool run = requested_ || Due();
    requested_ = false;
    if (!run) continue;
    lock.unlock();
    std::string error;
    Checkpoint(&error);
    lock.lock();
  }
}

void Persistence::Start() { thread_ = std::thread([this] { Run(); }); }

void Persistence::Stop(bool save) {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (save) {
    std::string error;
    Checkpoint(&error);
  }
  if (persist::Wal* wal = this->wal()) {
    commands::SetWal(nullptr);
    wal->Close();
  }
}

std::string Persistence::Info() {
  auto field = [](std::string& out, std::string_view name, const auto& v) {
    out.append(name).append(":");
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(v)>>) {
      out.append(std::to_string(v));
    } else {
      out.append(v);
    }
    out.append("\r\n");
  };
  std::string out;
  persist::Wal* const wal = this->wal();
  uint64_t last_lsn = wal ? wal->last_lsn() : 0;
  const bool saving = in_progress_.load();
  bool scheduled;
  {
    std::lock_guard lock(mu_);
    scheduled = saving && requested_;
  }
  // Seconds, or -1 as Redis gives before the first save or when none is under way.
  const int64_t last_secs = saves_.load() == 0 ? -1 : last_duration_ms_.load() / 1000;
  const int64_t current_secs = saving ? (NowMs() - started_ms_.load()) / 1000 : -1;
  // No fork: nothing is copied on write.
  for (const char* name : {"current_cow_peak", "current_cow_size", "current_cow_size_age"})
    field(out, name, "0");
  field(out, "current_fork_perc", "0.00");
  field(out, "current_save_keys_processed", save_keys_processed_.load());
  field(out, "current_save_keys_total", save_keys_total_.load());
  field(out, "rdb_changes_since_last_save", Changes());
  field(out, "rdb_bgsave_in_progress", saving ? "1" : "0");
  field(out, "rdb_last_save_time", last_save_time_.load());
  field(out, "rdb_last_bgsave_status", last_ok_ ? "ok" : "err");
  field(out, "rdb_last_bgsave_time_sec", last_secs);
  field(out, "rdb_current_bgsave_time_sec", current_secs);
  field(out, "rdb_saves", saves_.load());
  field(out, "rdb_last_cow_size", "0");
  // Keys whose time had passed are loaded too (expiry removes them), so none is skipped.
  field(out, "rdb_last_load_keys_expired", "0");
  field(out, "rdb_last_load_keys_loaded", keys_loaded_.load());
  field(out, "aof_enabled", wal ? "1" : "0");
  field(out, "aof_rewrite_in_progress", saving ? "1" : "0");
  field(out, "aof_rewrite_scheduled", scheduled ? "1" : "0");
  field(out, "aof_last_rewrite_time_sec", last_secs);
  field(out, "aof_current_rewrite_time_sec", current_secs);
  field(out, "aof_last_bgrewrite_status", last_ok_ ? "ok" : "err");
  field(out, "aof_rewrites", log_saves_.load());
  field(out, "aof_rewrites_consecutive_failures", failures_in_a_row_.load());
  field(out, "aof_last_write_status", !wal || wal->healthy() ? "ok" : "err");
  field(out, "aof_last_cow_size", "0");
  field(out, "module_fork_in_progress", "0");
  field(out, "module_fork_last_cow_size", "0");
  if (wal) {
    field(out, "aof_current_size", CurrentBytes());
    field(out, "aof_base_size", base_bytes_.load());
    field(out, "aof_pending_rewrite", scheduled ? "1" : "0");
    field(out, "aof_buffer_length", wal->buffered_bytes());
    field(out, "aof_pending_bio_fsync", wal->background_fsync() ? "1" : "0");
    // Writes never wait for a slow everysec fsync (it lets go of the file).
    field(out, "aof_delayed_fsync", "0");
  }
  if (wal && !wal->healthy()) field(out, "aof_last_write_error", wal->last_error());
  field(out, "wal_fsync_policy", wal ? PolicyName(PolicyFromConfig()) : "off");
  field(out, "wal_last_lsn", last_lsn);
  field(out, "wal_durable_lsn", wal ? wal->durable_lsn() : 0);
  field(out, "wal_size_bytes", wal ? wal->total_bytes() : 0);
  field(out, "wal_fsyncs", wal ? wal->fsync_count() : 0);
  field(out, "wal_direct_io", wal && wal->direct_io() ? "1" : "0");
  field(out, "checkpoint_lsn", checkpoint_lsn_.load());
  field(out, "checkpoint_last_duration_ms", last_duration_ms_.load());
  field(out, "checkpoint_longest_pause_us", longest_pause_us_.load());
  return out;
}

}  // namespace runnel::server
