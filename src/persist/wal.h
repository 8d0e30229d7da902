// The write-ahead log's writer. Command threads Append records (framed into a memory buffer
// under a short mutex, never waiting for the disk) and, once per event-loop pass, Commit: write
// everything buffered with one write(2) and, with `always`, one fsync, so one fsync covers every
// record appended while the previous one ran (group commit). With `always` the write and the
// fsync are one call where the file system allows: O_DIRECT with RWF_DSYNC, from the start of
// the block the log ends in, which puts the records on the disk without the page cache's copy
// and writeback (the block's earlier bytes are written again, unchanged, as writeback of that
// page would). A writer thread does the rest: the everysec fsync (which lets go of the file
// meanwhile, so loops keep writing), segment rolls, retries after failures, records nobody
// committed, and the next segment's file, made ahead of time.
//
// Positions: every record gets the next LSN. written_lsn() is what the kernel has; durable_lsn()
// is what the policy counts as safe (fsynced for kAlways; written for kEverySec and kNo).
//
// Failures: a failed write or fsync makes the log unhealthy (the server then refuses writes).
// Records not yet fsynced stay in memory; every retry_interval the writer starts a fresh segment
// at the first unsynced LSN, writes them all there and fsyncs it. A file whose fsync failed is
// never fsynced again, because the kernel may already have dropped its dirty pages.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "persist/log_format.h"

namespace runnel::persist {

enum class FsyncPolicy { kAlways, kEverySec, kNo };

// "always", "everysec", "no" (Redis's appendfsync values, case-insensitive).
bool ParseFsyncPolicy(std::string_view name, FsyncPolicy* out);
const char* FsyncPolicyName(FsyncPolicy policy);

// The system calls the writer makes, for fault injection.
enum class WalIo { kWrite, kSync, kCreate };

struct WalOptions {
  uint64_t segment_size = kDefaultSegmentSize;
  FsyncPolicy fsync = FsyncPolicy::kEverySec;
  // How long the writer waits before trying again after a failed write or fsync.
  std::chrono::milliseconds retry_interval{1000};
  // With always, write records with O_DIRECT and RWF_DSYNC (see Commit) where the file system
  // allows it. Tests turn it off to cover the other way.
  bool direct_io = true;
  // Test hook, consulted before each write, fsync and segment creation (by the writer thread or
  // Commit): a non-zero result is taken as that call's errno and the call is not made. It may
  // also sleep.
  std::function<int(WalIo)> inject_fault;
};

class Wal {
 public:
  // Creates dir/wal/ if needed and starts a NEW segment named by next_lsn (an empty leftover
  // of that name is replaced). Fails if a segment at or after next_lsn holds records: the
  // caller must have read the log to its end first.
  static std::unique_ptr<Wal> Open(const std::string& dir, Lsn next_lsn, const WalOptions& opts,
                                   std::string* error);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Assigns the next LSN and buffers the framed record; returns the LSN. Thread-safe; never
  // waits for I/O. Returns 0 (nothing logged) after Close() or for a payload larger than
  // kMaxRecordPayload.
  Lsn Append(uint8_t type, std::string_view payload);

  // Writes the buffered records (from every thread) to the kernel, and with always fsyncs them
  // (or writes them straight to the disk: see the top), on the calling thread, then advances
  // durable_lsn(). Event loops call it once per pass, as Redis writes its AOF before replying,
  // so replies need no round trip through the writer thread; one fsync covers what every thread
  // appended meanwhile. With always, a caller that finds the file held waits for it (one fsync
  // at most) and then syncs whatever that fsync did not cover. With everysec and no, it does not
  // wait: the holder (another loop writing, or the writer thread switching segments) commits
  // these records too before it lets go. The everysec fsync does not hold the file.
  void Commit();

  Lsn last_lsn() const { return last_lsn_.load(std::memory_order_acquire); }  // last assigned
  Lsn written_lsn() const { return written_lsn_.load(std::memory_order_acquire); }
  Lsn durable_lsn() const { return durable_lsn_.load(std::memory_order_acquire); }
  // Called on the writer thread each time durable_lsn() advances, with the new value. Must be
  // cheap and must not block or call back into the Wal.
  void OnDurable(std::function<void(Lsn)> fn);
  // Commits, then blocks until durable_lsn() >= lsn or the timeout passes; true if it got there.
  bool WaitDurable(Lsn lsn, std::chrono::milliseconds timeout);
  // Asks the writer to fsync up to `lsn` whatever the policy, and waits for it (false on
  // timeout or while unhealthy). A checkpoint tagged with LSN n calls SyncUpTo(n) before its
  // manifest is committed, so the log never ends before a checkpoint's position.
  bool SyncUpTo(Lsn lsn, std::chrono::milliseconds timeout);
  Lsn synced_lsn() const { return synced_lsn_.load(std::memory_order_acquire); }

  void SetFsyncPolicy(FsyncPolicy policy);
  FsyncPolicy fsync_policy() const { return policy_.load(std::memory_order_relaxed); }

  bool healthy() const { return healthy_.load(std::memory_order_acquire); }
  // Whether `always` writes go straight to the disk (false: off, or the file system refused).
  bool direct_io() const { return direct_io_.load(std::memory_order_relaxed); }
  // The failure that made the log unhealthy ("Write error: No space left on device"); the
  // last one seen if it is healthy again, empty if none ever happened.
  std::string last_error() const;

  // Bytes of all segments on disk, and of records appended but not yet written.
  size_t total_bytes() const;
  size_t buffered_bytes() const;
  uint64_t fsync_count() const { return fsync_count_.load(std::memory_order_relaxed); }
  // Whether the everysec fsync, which lets go of the file, is under way.
  bool background_fsync() const { return background_fsync_.load(std::memory_order_relaxed); }
  uint64_t segment_count() const;

  // Deletes every segment whose records all have LSNs below `lsn` (never the current one).
  void RemoveSegmentsBelow(Lsn lsn);

  // Writes and fsyncs everything appended, then stops the writer. Later Appends return 0.
  void Close();

 private:
  using Clock = std::chrono::steady_clock;
  Wal(std::string wal_dir, Lsn next_lsn, const WalOptions& opts);

  bool lazy() const { return policy_.load(std::memory_order_relaxed) != FsyncPolicy::kAlways; }
  void TakePending();  // moves pending_ to unsynced_ (io_mu_ held)
  bool CommitLocked();  // io_mu_ held; true if the writer thread should look
  void WakeWriter();

  // Writer thread.
  void Run();
  void Drain(bool stopping, std::unique_lock<std::mutex>& io);
  bool WriteOut();
  bool WriteDirect();
  bool ResizeBlockBuffer(size_t cap, size_t keep);
  bool SetDirect(bool on);  // O_DIRECT on fd_ or off; false (errno set) if refused
  void StopDirect(int err);
  int DataSync(int fd) const;
  void CountSync();  // after a successful fsync
  bool Sync();
  bool SyncOutsideLock(std::unique_lock<std::mutex>& io);
  bool Roll();
  bool Rewrite();
  bool FillSpare();
  void DropFilling();
  int NewSegmentFile(const std::string& path);
  int TakeSpare(const std::string& path);
  void Fail(const char* what, int err);
  void Publish();
  int Fault(WalIo io) const { return opts_.inject_fault ? opts_.inject_fault(io) : 0; }
  Clock::time_point NextDeadline() const;
  void SetSegmentSize(Lsn first, uint64_t size);

  const std::string wal_dir_;
  const WalOptions opts_;

  // Shared with appenders, under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;  // framed records not yet taken by the writer
  Lsn next_lsn_;
  bool writer_waiting_ = false;
  Lsn sync_requested_ = 0;  // SyncUpTo: fsync up to here whatever the policy
  bool wake_ = false;
  bool stop_ = false;
  bool closed_ = false;

  // Held by whoever touches the file and the fields below: the writer thread or Commit.
  // Taken before mu_, never after.
  std::mutex io_mu_;
  // Held for every fsync of the current segment and to close it; taken after io_mu_.
  std::mutex sync_mu_;
  std::atomic<bool> commit_requested_{false};  // see Commit
  // The records (synced_lsn_, taken_lsn_] are in unsynced_, the first
  // written_bytes_ of them already in the current segment.
  int fd_ = -1;
  Lsn sync_wanted_ = 0;  // sync_requested_ as of the last drain
  std::string unsynced_;
  size_t written_bytes_ = 0;
  // Direct writes (always): whether fd_ has O_DIRECT, and a buffer aligned for them whose
  // front holds the segment's bytes from block_at_ (a block boundary) to its end.
  static constexpr uint64_t kBlock = 4096;
  static constexpr uint64_t kNoBlock = ~uint64_t{0};
  static constexpr size_t kKeptBlockBuffer = 1 << 20;  // a bigger one is given back after use
  bool direct_ = false;
  std::unique_ptr<char, decltype(&std::free)> block_{nullptr, &std::free};
  size_t block_cap_ = 0;
  uint64_t block_at_ = kNoBlock;
  Lsn taken_lsn_;
  Lsn segment_first_;
  uint64_t segment_bytes_ = 0;
  std::atomic<Clock::time_point> last_sync_;  // a loop's fsync (always) sets it too
  std::atomic<Clock::time_point> next_retry_{};  // Fail() may run on a command thread
  // The next segment, written full of zeros ahead of time (wal/spare; see FillSpare), or -1.
  // Roll takes it; the writer thread puts the next one.
  std::atomic<int> spare_fd_{-1};
  // Writer thread only: the spare being zero-filled (wal/spare.tmp), or -1, and how far.
  int filling_fd_ = -1;
  uint64_t filled_ = 0;
  Clock::time_point next_fill_{};  // after a failure to make one

  std::atomic<Lsn> last_lsn_;
  std::atomic<Lsn> written_lsn_;
  std::atomic<Lsn> synced_lsn_;
  std::atomic<Lsn> durable_lsn_;
  std::atomic<bool> healthy_{true};
  std::atomic<bool> background_fsync_{false};
  std::atomic<bool> direct_io_;
  std::atomic<FsyncPolicy> policy_;
  std::atomic<uint64_t> fsync_count_{0};

  mutable std::mutex error_mu_;
  std::string last_error_;

  std::mutex durable_mu_;  // guards on_durable_, pairs with durable_cv_ (durable and synced)
  std::condition_variable durable_cv_;
  std::function<void(Lsn)> on_durable_;

  mutable std::mutex segments_mu_;
  std::map<Lsn, uint64_t> segments_;  // first LSN -> bytes on disk

  std::thread writer_;
};

}  // namespace runnel::persist
