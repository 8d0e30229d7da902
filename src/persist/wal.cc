// The log writer: framing under the appenders' mutex, and the writer thread's drain, fsync,
// segment roll and failure recovery.
#include "persist/wal.h"

#include <fcntl.h>
#include <immintrin.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "common/log.h"
#include "common/util.h"
#include "persist/coding.h"
#include "persist/crc32c.h"
#include "persist/file_util.h"
#include "persist/segment.h"

namespace runnel::persist {

namespace {

constexpr auto kEverySecInterval = std::chrono::seconds(1);
// Command threads commit the log themselves (Commit); records no command waits for (expired
// keys) are committed by the writer thread within about this, or once this many bytes pile up.
constexpr auto kSweep = std::chrono::milliseconds(50);
constexpr size_t kBacklogBytes = 1 << 20;
// Commit: how many rounds one caller does for others before handing over to the writer thread.
constexpr int kCommitRounds = 2;

// Allocates a new segment's space up front, so that the appends that fill it don't change the
// file's size and fdatasync has less metadata to commit (about a third less time per fsync on
// ext4). The reader takes the zeros after the last record for the segment's end. Not every file
// system can do it; appending works without it. This is the fallback: segments are normally
// made ahead of time and written full of zeros (FillSpare), which is better still.
void Preallocate(int fd, uint64_t size) {
  (void)::fallocate(fd, 0, 0, static_cast<off_t>(size));
}

// The next segment's file, made by the writer thread: wal/spare.tmp while being zero-filled,
// wal/spare once complete and fsynced. A roll (or the next start) renames it to the segment's
// name. Space from fallocate is "unwritten" on ext4 and XFS: the first write into each block
// converts it, and the fdatasync that follows commits that change to the journal. In blocks
// written before (zeros), fdatasync flushes only the data: on the development VM a 24 KB
// write + fdatasync took 135 us and 60 us of CPU against 220 us and 85 us in fallocate'd space.
constexpr const char* kSpareName = "spare";
constexpr const char* kFillingName = "spare.tmp";
// Zeros written per step, each followed by an fdatasync, so that the writeback comes in small
// pieces and the writer thread gets back to its other work between them.
constexpr uint64_t kFillStep = 4 << 20;
constexpr size_t kZeroBytes = 1 << 20;

// Turns O_DIRECT on or off for fd; false (errno set) if refused.
bool SetODirect(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT) == 0;
}

// Aligned for O_DIRECT (FillSpare).
const char* Zeros() {
  static const char* zeros = [] {
    auto* z = static_cast<char*>(std::aligned_alloc(4096, kZeroBytes));
    if (z != nullptr) std::memset(z, 0, kZeroBytes);
    return z;
  }();
  return zeros;
}

void FrameRecord(Lsn lsn, uint8_t type, std::string_view payload, std::string* out) {
  char header[kRecordHeaderSize];
  EncodeFixed32(header + kLengthOffset, static_cast<uint32_t>(payload.size()));
  EncodeFixed64(header + kLsnOffset, lsn);
  header[kTypeOffset] = static_cast<char>(type);
  uint32_t crc = Crc32c(0, header + kLsnOffset, kRecordHeaderSize - kLsnOffset);
  crc = Crc32c(crc, payload.data(), payload.size());
  EncodeFixed32(header + kCrcOffset, MaskCrc(crc));
  out->append(header, kRecordHeaderSize);
  out->append(payload);
}

}  // namespace

bool ParseFsyncPolicy(std::string_view name, FsyncPolicy* out) {
  if (EqualsIgnoreCase(name, "always")) {
    *out = FsyncPolicy::kAlways;
  } else if (EqualsIgnoreCase(name, "everysec")) {
    *out = FsyncPolicy::kEverySec;
  } else if (EqualsIgnoreCase(name, "no")) {
    *out = FsyncPolicy::kNo;
  } else {
    return false;
  }
  return true;
}

const char* FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySec:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "?";
}

Wal::Wal(std::string wal_dir, Lsn next_lsn, const WalOptions& opts)
    : wal_dir_(std::move(wal_dir)),
      opts_(opts),
      next_lsn_(next_lsn),
      taken_lsn_(next_lsn - 1),
      segment_first_(next_lsn),
      last_sync_(Clock::now()),
      last_lsn_(next_lsn - 1),
      written_lsn_(next_lsn - 1),
      synced_lsn_(next_lsn - 1),
      durable_lsn_(next_lsn - 1),
      direct_io_(opts.direct_io),
      policy_(opts.fsync) {}

std::unique_ptr<Wal> Wal::Open(const std::string& dir, Lsn next_lsn, const WalOptions& opts,
                               std::string* error) {
  if (next_lsn == 0) next_lsn = 1;  // LSN 0 means "nothing", never a record
  const std::string wal_dir = JoinPath(dir, kWalDirName);
  Status s = MakeDirs(wal_dir);
  std::vector<SegmentFile> segments;
  if (s.ok()) s = ListSegments(wal_dir, &segments);
  if (!s.ok()) {
    *error = s.message();
    return nullptr;
  }
  std::unique_ptr<Wal> wal(new Wal(wal_dir, next_lsn, opts));
  for (const SegmentFile& seg : segments) {
    if (seg.first_lsn == next_lsn && seg.size == 0) continue;  // replaced below
    if (seg.first_lsn >= next_lsn) {
      *error = "wal: " + seg.path + " holds records from LSN " + std::to_string(seg.first_lsn) +
               " but the log is to continue at LSN " + std::to_string(next_lsn);
      return nullptr;
    }
    wal->segments_[seg.first_lsn] = seg.size;
  }
  // Rewrites that did not finish (a crash, or still failing at shutdown) leave *.log.tmp files,
  // and a spare being made, spare.tmp.
  std::error_code ec;
  for (const auto& ent : std::filesystem::directory_iterator(wal_dir, ec)) {
    const std::string name = ent.path().filename().string();
    if (name.ends_with(std::string(kSegmentSuffix) + ".tmp") || name == kFillingName)
      ::unlink(ent.path().c_str());
  }
  // A spare the last run made for this segment size starts the log.
  const std::string spare = JoinPath(wal_dir, kSpareName);
  if (FileSize(spare) == static_cast<int64_t>(opts.segment_size)) {
    wal->spare_fd_ = ::open(spare.c_str(), O_RDWR | O_CLOEXEC);
  } else {
    ::unlink(spare.c_str());
  }
  const std::string path = JoinPath(wal_dir, SegmentFileName(next_lsn));
  ::unlink(path.c_str());  // empty, if it exists (checked above)
  const int fault = wal->Fault(WalIo::kCreate);
  wal->fd_ = fault != 0 ? -fault : wal->NewSegmentFile(path);
  if (wal->fd_ < 0) {
    *error = "wal: cannot create " + path + ": " + ErrnoText(-wal->fd_);
    return nullptr;
  }
  s = SyncDir(wal_dir);
  if (!s.ok()) {
    *error = "wal: " + s.message();
    return nullptr;
  }
  // Whether this file system takes O_DIRECT at all; the first direct write finds out the rest.
  if (wal->direct_io() && !wal->SetDirect(true)) wal->direct_io_.store(false);
  wal->segments_[next_lsn] = 0;
  wal->writer_ = std::thread([w = wal.get()] { w->Run(); });
  return wal;
}

Wal::~Wal() { Close(); }

Lsn Wal::Append(uint8_t type, std::string_view payload) {
  if (payload.size() > kMaxRecordPayload) return 0;
  bool wake;
  Lsn lsn;
  {
    std::lock_guard lock(mu_);
    if (stop_) return 0;
    lsn = next_lsn_++;
    FrameRecord(lsn, type, payload, &pending_);
    last_lsn_.store(lsn, std::memory_order_release);
    // Command threads commit their own records (Commit); only a big backlog wakes the writer.
    wake = writer_waiting_ && pending_.size() >= kBacklogBytes;
    if (wake) {
      writer_waiting_ = false;
      wake_ = true;
    }
  }
  if (wake) cv_.notify_one();
  return lsn;
}

void Wal::OnDurable(std::function<void(Lsn)> fn) {
  std::lock_guard lock(durable_mu_);
  on_durable_ = std::move(fn);
}

bool Wal::WaitDurable(Lsn lsn, std::chrono::milliseconds timeout) {
  if (durable_lsn() < lsn) Commit();
  std::unique_lock lock(durable_mu_);
  return durable_cv_.wait_for(lock, timeout, [&] { return durable_lsn() >= lsn; });
}

bool Wal::SyncUpTo(Lsn lsn, std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mu_);
    if (lsn > next_lsn_ - 1) lsn = next_lsn_ - 1;
    if (lsn > sync_requested_) sync_requested_ = lsn;
    wake_ = true;
  }
  cv_.notify_one();
  std::unique_lock lock(durable_mu_);
  return durable_cv_.wait_for(lock, timeout, [&] { return synced_lsn() >= lsn; });
}

void Wal::SetFsyncPolicy(FsyncPolicy policy) {
  policy_.store(policy, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    wake_ = true;  // switching to kAlways fsyncs what is only written so far
  }
  cv_.notify_one();
}

std::string Wal::last_error() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

size_t Wal::total_bytes() const {
  std::lock_guard lock(segments_mu_);
  size_t total = 0;
  for (const auto& [first, size] : segments_) total += size;
  return total;
}

size_t Wal::buffered_bytes() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

uint64_t Wal::segment_count() const {
  std::lock_guard lock(segments_mu_);
  return segments_.size();
}

void Wal::RemoveSegmentsBelow(Lsn lsn) {
  std::lock_guard lock(segments_mu_);
  // A segment's records end where the next segment begins (a later one supersedes any
  // overlap), so it is all below `lsn` when its successor starts at or below `lsn`.
  for (auto it = segments_.begin(); it != segments_.end();) {
    auto next = std::next(it);
    if (next == segments_.end() || next->first > lsn) break;
    ::unlink(JoinPath(wal_dir_, SegmentFileName(it->first)).c_str());
    it = segments_.erase(it);
  }
}

void Wal::SetSegmentSize(Lsn first, uint64_t size) {
  std::lock_guard lock(segments_mu_);
  segments_[first] = size;
}

void Wal::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    stop_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) writer_.join();
  std::lock_guard io(io_mu_);
  if (fd_ >= 0) {
    (void)::ftruncate(fd_, static_cast<off_t>(segment_bytes_));  // the space never used
    ::close(fd_);
  }
  fd_ = -1;
  // A finished spare stays for the next start; an unfinished one goes.
  const int spare = spare_fd_.exchange(-1);
  if (spare >= 0) ::close(spare);
  DropFilling();
  // A closed log may stay in memory (CONFIG SET appendonly no: another thread may still hold
  // it), but not its buffers. Nothing is written after this (fd_ is closed).
  block_.reset();
  block_cap_ = 0;
  block_at_ = kNoBlock;
  std::string().swap(unsynced_);
  written_bytes_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Writer thread
// ---------------------------------------------------------------------------------------------

void Wal::Run() {
  std::unique_lock lock(mu_);
  bool filling = false;  // FillSpare has more to do: look for work, but don't wait for it
  while (true) {
    const auto deadline = NextDeadline();
    writer_waiting_ = true;
    const bool due = cv_.wait_until(lock, filling ? Clock::now() : deadline,
                                    [&] { return stop_ || wake_ || Clock::now() >= deadline; });
    writer_waiting_ = false;
    const bool stopping = stop_;
    if (due) {
      wake_ = false;
      sync_wanted_ = sync_requested_;
    }
    lock.unlock();
    if (due) {
      std::unique_lock io(io_mu_);
      commit_requested_.store(false, std::memory_order_seq_cst);
      TakePending();
      Drain(stopping, io);
    }
    // Only always gains from writing zeros ahead: its many fsyncs then flush data alone. The
    // everysec fsync commits a second's worth of extent conversions at once, which costs less
    // than writing every segment twice (docs/PERFORMANCE.md); no fsyncs only at rolls.
    filling = !stopping && spare_fd_.load() < 0 &&
              policy_.load(std::memory_order_relaxed) == FsyncPolicy::kAlways && FillSpare();
    lock.lock();
    if (commit_requested_.load(std::memory_order_seq_cst)) wake_ = true;  // see Commit
    if (stopping) break;
  }
  if (!healthy()) {
    LogWarning("WAL: closed with records after LSN {} not durable: {}", durable_lsn(),
               last_error());
  }
}

Wal::Clock::time_point Wal::NextDeadline() const {
  if (!healthy()) return next_retry_.load(std::memory_order_relaxed);
  // Appends don't wake the writer: it looks for records nobody committed this often.
  const auto idle = Clock::now() + kSweep;
  if (written_lsn() > synced_lsn() && policy_.load() == FsyncPolicy::kEverySec)
    return std::min(idle, last_sync_.load(std::memory_order_relaxed) + kEverySecInterval);
  return idle;
}

void Wal::TakePending() {
  std::lock_guard lock(mu_);
  if (pending_.empty()) return;
  if (unsynced_.empty()) {
    unsynced_.swap(pending_);  // the common case: no copy, and the buffers alternate
  } else {
    unsynced_.append(pending_);
    pending_.clear();
  }
  taken_lsn_ = next_lsn_ - 1;
}

void Wal::Commit() {
  if (!lazy()) {
    // always: wait for the file, as Redis's loop waits for its fsync. The wait is one fsync at
    // most, and the pass that follows it is the bigger for it; the fsync that ends it often
    // covers our records already.
    const Lsn want = last_lsn();
    std::unique_lock io(io_mu_);
    bool wake = false;
    if (synced_lsn() < want) {
      commit_requested_.store(false, std::memory_order_seq_cst);
      wake = CommitLocked();
    }
    io.unlock();
    // A lazy commit's request left just before a switch to always.
    if (wake || commit_requested_.load(std::memory_order_seq_cst)) WakeWriter();
    return;
  }
  // everysec/no: a loop does not wait for the file, not even with a short spin. Whoever holds
  // it (another loop's write, the writer thread's fsync or roll) writes our records too, and
  // the replies waiting for them are released when it publishes. Spinning for a holder that
  // the scheduler has put aside (two loops and a client on two CPUs) took 4% of the server's
  // CPU at -P 1 and slowed everyone (docs/PERFORMANCE.md). Ask first, then try: whoever holds
  // the file looks at the request after letting it go (and whoever takes it next clears the
  // request before taking the pending records), so records appended before this call are never
  // left behind.
  commit_requested_.store(true, std::memory_order_seq_cst);
  for (int round = 0; round < kCommitRounds; ++round) {
    std::unique_lock io(io_mu_, std::try_to_lock);
    if (!io.owns_lock()) return;
    commit_requested_.store(false, std::memory_order_seq_cst);
    const bool wake = CommitLocked();
    io.unlock();
    if (wake) WakeWriter();
    if (!commit_requested_.load(std::memory_order_seq_cst)) return;
  }
  WakeWriter();  // other threads keep asking: the writer thread takes over
}

bool Wal::CommitLocked() {
  if (fd_ < 0 || !healthy()) return false;  // the writer thread retries
  TakePending();
  bool ok = written_bytes_ == unsynced_.size() || WriteOut();
  if (ok && !lazy() && written_lsn() > synced_lsn()) ok = Sync();
  if (!ok) return true;
  Publish();
  if (segment_bytes_ < opts_.segment_size) return false;
  // Full. With always it is all fsynced now, so the next segment starts here (the writer
  // thread could wait long for the file while loops take turns with it); otherwise the writer
  // thread fsyncs the segment and rolls it. A failed roll leaves the writer thread to retry.
  return lazy() || !Roll();
}

void Wal::WakeWriter() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_one();
}

void Wal::Drain(bool stopping, std::unique_lock<std::mutex>& io) {
  const auto now = Clock::now();
  if (!healthy()) {
    if (!stopping && now < next_retry_.load(std::memory_order_relaxed)) return;
    if (!Rewrite()) return;
  } else if (written_bytes_ < unsynced_.size() && !WriteOut()) {
    return;
  }
  const FsyncPolicy policy = policy_.load(std::memory_order_relaxed);
  const bool full = segment_bytes_ >= opts_.segment_size;
  const bool due = policy == FsyncPolicy::kAlways || sync_wanted_ > synced_lsn() ||
                   (policy == FsyncPolicy::kEverySec &&
                    now - last_sync_.load(std::memory_order_relaxed) >= kEverySecInterval);
  if (written_lsn() > synced_lsn() && (stopping || full || due)) {
    // A lazy policy's fsync lets go of the file meanwhile; a roll or a close needs all synced.
    const bool lazy = policy != FsyncPolicy::kAlways;
    const bool ok = lazy && !stopping && !full ? SyncOutsideLock(io) : Sync();
    if (!ok) return;
  }
  Publish();
  if (full && !stopping) Roll();
}

bool Wal::WriteOut() {
  // Direct only when nothing written is waiting for an fsync (after a switch to always): the
  // direct write would not cover it.
  if (!lazy() && direct_io() && written_bytes_ == 0) {
    if (WriteDirect()) return true;
    if (!healthy()) return false;
  }
  if (direct_ && !SetDirect(false)) {
    Fail("Write error", errno);
    return false;
  }
  const size_t n = unsynced_.size() - written_bytes_;
  int err = Fault(WalIo::kWrite);
  if (err == 0)
    err = WriteAll(fd_, unsynced_.data() + written_bytes_, n, static_cast<int64_t>(segment_bytes_));
  if (err != 0) {
    Fail("Write error", err);
    return false;
  }
  written_bytes_ += n;
  segment_bytes_ += n;
  SetSegmentSize(segment_first_, segment_bytes_);
  written_lsn_.store(taken_lsn_, std::memory_order_release);
  return true;
}

bool Wal::SetDirect(bool on) {
  if (!SetODirect(fd_, on)) return false;
  direct_ = on;
  block_at_ = kNoBlock;
  return true;
}

void Wal::StopDirect(int err) {
  LogWarning("WAL: direct writes do not work here ({}); writing through the page cache instead",
             ErrnoText(err));
  direct_io_.store(false, std::memory_order_relaxed);
}

// always: the records not yet written go to the disk in one call, O_DIRECT with RWF_DSYNC, from
// the start of the block the segment's end is in (that block's bytes so far are written again,
// unchanged) to the next block boundary (zeros after the records, as in a new segment). False
// with the log still healthy where the file system refuses: the caller writes through the page
// cache, and so does every later write.
bool Wal::WriteDirect() {
  if (!direct_ && !SetDirect(true)) {
    StopDirect(errno);
    return false;
  }
  const size_t n = unsynced_.size() - written_bytes_;
  const uint64_t start = segment_bytes_ & ~(kBlock - 1);
  const size_t head = segment_bytes_ - start;
  const size_t len = (head + n + kBlock - 1) & ~(kBlock - 1);
  if (len > block_cap_ &&
      !ResizeBlockBuffer(std::max(len, 2 * block_cap_), block_at_ == start ? head : 0)) {
    Fail("Write error", ENOMEM);
    return false;
  }
  if (head > 0 && block_at_ != start) {  // the block was written through the page cache
    const ssize_t r = ::pread(fd_, block_.get(), kBlock, static_cast<off_t>(start));
    if (r < static_cast<ssize_t>(head)) {
      Fail("Read error", r < 0 ? errno : EIO);
      return false;
    }
  }
  std::memcpy(block_.get() + head, unsynced_.data() + written_bytes_, n);
  std::memset(block_.get() + head + n, 0, len - head - n);
  // The test hook, for the write and for the fsync this call also is.
  const char* what = "Write error";
  int err = Fault(WalIo::kWrite);
  if (err == 0 && (err = Fault(WalIo::kSync)) != 0) what = "Fsync error";
  if (err == 0) {
    iovec iov{block_.get(), len};
    const ssize_t w = ::pwritev2(fd_, &iov, 1, static_cast<off_t>(start), RWF_DSYNC);
    if (w < 0) {
      err = errno;
    } else if (static_cast<size_t>(w) != len) {
      err = EIO;  // the rest is not known to be there
    }
  }
  if (err == EINVAL || err == EOPNOTSUPP) {  // alignment, or no RWF_DSYNC: nothing was written
    StopDirect(err);
    return false;
  }
  if (err != 0) {
    Fail(what, err);
    return false;
  }
  segment_bytes_ += n;
  SetSegmentSize(segment_first_, segment_bytes_);
  const uint64_t next = segment_bytes_ & ~(kBlock - 1);  // the block the next write starts in
  char* block = block_.get();
  if (next > start) std::memmove(block, block + (next - start), segment_bytes_ - next);
  block_at_ = next;
  // A big commit (a large value) gives its buffer back; if that fails, the big one stays.
  if (block_cap_ > kKeptBlockBuffer)
    (void)ResizeBlockBuffer(kKeptBlockBuffer, segment_bytes_ - next);
  CountSync();
  written_lsn_.store(taken_lsn_, std::memory_order_release);
  synced_lsn_.store(taken_lsn_, std::memory_order_release);
  unsynced_.clear();
  written_bytes_ = 0;
  return true;
}

// Replaces the direct writes' buffer with one of `cap` bytes that starts with the old one's
// first `keep` bytes; false if out of memory.
bool Wal::ResizeBlockBuffer(size_t cap, size_t keep) {
  char* buffer = static_cast<char*>(std::aligned_alloc(kBlock, cap));
  if (buffer == nullptr) return false;
  if (keep > 0) std::memcpy(buffer, block_.get(), keep);
  block_.reset(buffer);
  block_cap_ = cap;
  return true;
}

// The fsync of a segment's records (or the fault the test hook puts in its place); 0 or errno.
// fdatasync: the size change of an append is flushed with the data; mtime is not needed.
int Wal::DataSync(int fd) const {
  const int err = Fault(WalIo::kSync);
  if (err != 0) return err;
  return ::fdatasync(fd) == 0 ? 0 : errno;
}

void Wal::CountSync() {
  fsync_count_.fetch_add(1, std::memory_order_relaxed);
  last_sync_.store(Clock::now(), std::memory_order_relaxed);
}

bool Wal::Sync() {
  int err;
  {
    std::lock_guard sync(sync_mu_);
    // The writer thread's fsync may have failed while this thread waited for it: the file is
    // not to be fsynced again (see Fail), and the rewrite takes these records.
    if (!healthy()) return false;
    err = DataSync(fd_);
  }
  if (err != 0) {
    Fail("Fsync error", err);
    return false;
  }
  CountSync();
  assert(written_lsn() == taken_lsn_);
  synced_lsn_.store(taken_lsn_, std::memory_order_release);
  unsynced_.clear();
  written_bytes_ = 0;
  return true;
}

// everysec's fsync (and a checkpoint's with everysec or no) runs without the file, as Redis's
// background fsync does: event loops go on writing records, and their replies don't wait for
// the disk. It covers what was written before it started. The loops never fsync under a lazy
// policy, but a switch to always may start one meanwhile, which waits for this one (sync_mu_).
bool Wal::SyncOutsideLock(std::unique_lock<std::mutex>& io) {
  assert(written_lsn() == taken_lsn_);
  const Lsn lsn = taken_lsn_;
  const size_t bytes = written_bytes_;
  const int fd = fd_;  // closed only by this thread or under sync_mu_ (Roll)
  io.unlock();
  int err;
  {
    std::lock_guard sync(sync_mu_);
    background_fsync_.store(true, std::memory_order_relaxed);
    err = DataSync(fd);
    background_fsync_.store(false, std::memory_order_relaxed);
    // Before sync_mu_ is let go: nobody fsyncs this file after a failure.
    if (err != 0) Fail("Fsync error", err);
  }
  io.lock();
  if (err != 0) return false;
  CountSync();
  // Unless a loop's fsync covered more meanwhile (and dropped them all), the records synced
  // are still the first `bytes` of unsynced_.
  if (synced_lsn() < lsn) {
    synced_lsn_.store(lsn, std::memory_order_release);
    unsynced_.erase(0, bytes);
    written_bytes_ -= bytes;
  }
  return true;
}

// Starts the next segment once the current one is full and fsynced.
bool Wal::Roll() {
  const Lsn first = synced_lsn() + 1;
  const std::string path = JoinPath(wal_dir_, SegmentFileName(first));
  int err = Fault(WalIo::kCreate);
  int fd = -1;
  if (err == 0) {
    fd = NewSegmentFile(path);
    if (fd < 0) err = -fd;
  }
  if (err == 0) err = FsyncDir(wal_dir_);
  if (err != 0) {
    if (fd >= 0) ::close(fd);
    Fail("Write error", err);  // the retry (Rewrite) starts this segment instead
    return false;
  }
  {
    std::lock_guard sync(sync_mu_);  // not while the writer thread fsyncs it (SyncOutsideLock)
    // A direct write may have padded the file past its records to a block's end: the zeros go.
    (void)::ftruncate(fd_, static_cast<off_t>(segment_bytes_));
    ::close(fd_);
    fd_ = fd;
  }
  segment_first_ = first;
  segment_bytes_ = 0;
  direct_ = false;
  SetSegmentSize(first, 0);
  return true;
}

// The file of a new segment at `path`: the spare if one is ready, else a new file with its space
// allocated. Its fd, or -errno.
int Wal::NewSegmentFile(const std::string& path) {
  int fd = TakeSpare(path);
  if (fd >= 0) return fd;
  fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return -errno;
  Preallocate(fd, opts_.segment_size);
  return fd;
}

// The spare (if one is ready) renamed to `path`, as an fd; -1 if there is none or it cannot be
// moved there (then it is dropped).
int Wal::TakeSpare(const std::string& path) {
  const int fd = spare_fd_.exchange(-1);
  if (fd < 0) return -1;
  const std::string spare = JoinPath(wal_dir_, kSpareName);
  if (::renameat2(AT_FDCWD, spare.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0)
    return fd;
  ::close(fd);
  ::unlink(spare.c_str());
  return -1;
}

// Writer thread: one step of making the next segment's file (zeros up to wal-segment-size,
// fdatasync'd, then renamed to wal/spare). True while there is more to do. A failure (a full
// disk, say) only means the next segment is allocated the slower way; it is tried again later.
bool Wal::FillSpare() {
  const auto now = Clock::now();
  if (now < next_fill_) return false;
  const std::string tmp = JoinPath(wal_dir_, kFillingName);
  int err = 0;
  if (Zeros() == nullptr) err = ENOMEM;
  if (err == 0 && filling_fd_ < 0) {
    // The zeros go straight to the disk where the file system allows: through the page cache
    // they cost a copy, its page faults and writeback, as much as the log's own writes.
    const int flags = O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC;
    if (opts_.segment_size % kBlock == 0) filling_fd_ = ::open(tmp.c_str(), flags | O_DIRECT, 0644);
    if (filling_fd_ < 0) filling_fd_ = ::open(tmp.c_str(), flags, 0644);
    if (filling_fd_ < 0) err = errno;
    filled_ = 0;
  }
  const uint64_t end = std::min(opts_.segment_size, filled_ + kFillStep);
  while (err == 0 && filled_ < end) {
    const size_t n = std::min<uint64_t>(end - filled_, kZeroBytes);
    err = WriteAll(filling_fd_, Zeros(), n);
    filled_ += n;
  }
  if (err == 0 && ::fdatasync(filling_fd_) != 0) err = errno;
  if (err == 0 && filled_ == opts_.segment_size) {
    // The log turns O_DIRECT on and off itself (SetDirect): it starts off.
    if (!SetODirect(filling_fd_, false)) {
      err = errno;
    } else if (::rename(tmp.c_str(), JoinPath(wal_dir_, kSpareName).c_str()) != 0) {
      err = errno;
    } else {
      spare_fd_.store(std::exchange(filling_fd_, -1));
      return false;
    }
  }
  if (err == 0) return true;
  LogWarning("WAL: cannot make the next segment ahead of time ({}: {}); trying again in a minute",
             tmp, ErrnoText(err));
  DropFilling();
  next_fill_ = now + std::chrono::minutes(1);
  return false;
}

void Wal::DropFilling() {
  if (filling_fd_ < 0) return;
  ::close(std::exchange(filling_fd_, -1));
  ::unlink(JoinPath(wal_dir_, kFillingName).c_str());
}

// Recovery after a failed write or fsync: the current file is abandoned, and every record not
// known to be fsynced goes to a new segment starting at the first of them, built under a
// temporary name and renamed into place once fsynced. If that name is the current segment's
// (all of its records were unsynced), the rename replaces it whole; otherwise the old segment
// keeps its fsynced prefix and readers stop reading it where the new one begins.
bool Wal::Rewrite() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  direct_ = false;
  const Lsn first = synced_lsn() + 1;
  const std::string path = JoinPath(wal_dir_, SegmentFileName(first));
  const std::string tmp = path + ".tmp";
  const char* what = "Write error";
  int err = Fault(WalIo::kCreate);
  int fd = -1;
  if (err == 0) {
    fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) err = errno;
  }
  if (err == 0) err = Fault(WalIo::kWrite);
  if (err == 0) err = WriteAll(fd, unsynced_.data(), unsynced_.size());
  if (err == 0) {
    what = "Fsync error";
    err = Fault(WalIo::kSync);
    if (err == 0 && ::fsync(fd) != 0) err = errno;
  }
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err == 0) err = FsyncDir(wal_dir_);
  if (err != 0) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    Fail(what, err);
    return false;
  }
  fd_ = fd;
  segment_first_ = first;
  segment_bytes_ = unsynced_.size();
  SetSegmentSize(first, segment_bytes_);
  CountSync();
  written_lsn_.store(taken_lsn_, std::memory_order_release);
  synced_lsn_.store(taken_lsn_, std::memory_order_release);
  unsynced_.clear();
  written_bytes_ = 0;
  // Healthy before durable advances: whoever sees its record durable may write again.
  healthy_.store(true, std::memory_order_release);
  LogNotice("WAL: writing works again ({} rewritten)", SegmentFileName(first));
  Publish();
  return true;
}

void Wal::Fail(const char* what, int err) {
  std::string msg = std::string(what) + ": " + ErrnoText(err);
  if (healthy()) LogWarning("WAL: {}; writes are refused until the log can be written", msg);
  {
    std::lock_guard lock(error_mu_);
    last_error_ = std::move(msg);
  }
  next_retry_.store(Clock::now() + opts_.retry_interval, std::memory_order_relaxed);
  healthy_.store(false, std::memory_order_release);
}

void Wal::Publish() {
  const bool always = policy_.load(std::memory_order_relaxed) == FsyncPolicy::kAlways;
  const Lsn target = always ? synced_lsn() : written_lsn();
  std::lock_guard lock(durable_mu_);
  if (target > durable_lsn()) {
    durable_lsn_.store(target, std::memory_order_release);
    if (on_durable_) on_durable_(target);
  }
  // Also wakes SyncUpTo callers, whose condition is the synced position.
  durable_cv_.notify_all();
}

}  // namespace runnel::persist
