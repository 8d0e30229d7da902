// Reads the log back: every segment of dir/wal in LSN order, checking each record's framing,
// checksum and LSN, and yields the records after a given LSN (recovery, runnel-check).
//
// What it does with damage (docs/PERSISTENCE.md, "Reading the log"):
//  - zeros from a record boundary to the end of a segment are space the writer allocated and
//    never used: the segment ends there (the file is cut to it, silently);
//  - a torn record at the end of the last segment (short header, short payload, or a bad
//    record with nothing valid after it) is what a crash mid-write leaves: the file is cut
//    there and a warning says so;
//  - anything else (a bad checksum before the tail, an LSN out of order, a missing segment) is
//    an error naming the file and offset, unless allow_truncate is set: then reading stops
//    there, the damaged segment is cut at the damage and it and every later segment are kept
//    as *.dropped copies; a warning says what was dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "persist/file_util.h"
#include "persist/log_format.h"
#include "persist/segment.h"
#include "persist/status.h"

namespace runnel::persist {

struct Record {
  Lsn lsn = 0;
  uint8_t type = 0;
  std::string payload;
};

// A record whose payload points into the reader's buffer: valid until the next call to Next.
struct RecordView {
  Lsn lsn = 0;
  uint8_t type = 0;
  std::string_view payload;
};

struct WalReaderOptions {
  Lsn from_lsn = 0;             // yield records with lsn > from_lsn (older ones are checked only)
  bool allow_truncate = false;  // drop damage and all after it instead of failing
  bool read_only = false;       // report what would be cut, change no file (runnel-check)
};

struct WalStats {
  uint64_t segments = 0;  // segment files read
  uint64_t records = 0;   // valid records read, including those at or below from_lsn
  uint64_t bytes = 0;     // size of the segment files read
  Lsn first_lsn = 0;      // of the records read (0: none)
  Lsn last_lsn = 0;
  uint64_t torn_bytes = 0;     // cut (or to cut, read-only) from the end of the last segment
  uint64_t dropped_bytes = 0;  // dropped because of allow_truncate
};

class WalReader {
 public:
  using Options = WalReaderOptions;

  // Lists dir/wal; a missing directory is an empty log.
  static Status Open(const std::string& dir, const Options& opts,
                     std::unique_ptr<WalReader>* reader);
  // The same with opts.from_lsn replaced by `from_lsn`.
  static Status Open(const std::string& dir, Lsn from_lsn, const Options& opts,
                     std::unique_ptr<WalReader>* reader);

  // The next record after from_lsn; false at the end of the log or when reading stopped.
  bool Next(Record* record);
  // The same without copying the payload.
  bool Next(RecordView* record);
  // The mapping the last record's payload lies in: whoever holds it may keep using the
  // payload after the next call (recovery hands payloads to other threads this way).
  const std::shared_ptr<const MappedFile>& segment() const { return segment_; }
  // Once Next returned false: OK (end of log, maybe after a cut that warnings() reports), or the
  // damage or I/O error that stopped reading, naming the file and offset.
  const Status& status() const { return status_; }
  // Torn tails cut and damage dropped, one line each, for the caller to log.
  const std::vector<std::string>& warnings() const { return warnings_; }
  const WalStats& stats() const { return stats_; }
  // Size of all the segments, and how far reading has got through them (progress reports).
  uint64_t total_bytes() const { return total_bytes_; }
  uint64_t bytes_read() const { return done_bytes_ + pos_; }
  // The LSN a Wal should continue at after the whole log was read: one past the last record,
  // and never at or below from_lsn + 1.
  Lsn next_lsn() const { return expected_ > opts_.from_lsn ? expected_ : opts_.from_lsn + 1; }

 private:
  WalReader(std::string wal_dir, const Options& opts) : wal_dir_(std::move(wal_dir)), opts_(opts) {}
  bool LoadSegment();
  bool last_segment() const { return index_ + 1 == segments_.size(); }
  const std::string& path() const { return segments_[index_].path; }
  // Damage at pos_ of the current segment (or at its end, for a missing next segment).
  void Damage(const std::string& what);
  void CutTornTail(const char* why);
  void EndAtZeros();
  bool ValidRecordFrom(size_t start) const;

  const std::string wal_dir_;
  const WalReaderOptions opts_;
  std::vector<SegmentFile> segments_;
  size_t index_ = 0;
  bool loaded_ = false;
  bool done_ = false;
  std::shared_ptr<const MappedFile> segment_;
  std::string_view data_;  // the current segment, mapped
  size_t pos_ = 0;
  Lsn expected_ = 1;  // LSN the next record must have
  Lsn limit_ = 0;     // last LSN this segment may hold; the next one takes over
  uint64_t total_bytes_ = 0;
  uint64_t done_bytes_ = 0;  // of the segments before the current one
  Status status_;
  std::vector<std::string> warnings_;
  WalStats stats_;
};

// Recovery's last step before the log takes new records: fsyncs every segment in `dir`'s log,
// and the log's directory. A process killed before its last fsync leaves records in the page
// cache that replay accepted and built on; the new records go to a new segment, and once they
// were fsynced there a power loss could take the old ones and leave a gap that stops the next
// start-up (scripts/crash-test.sh POWERLOSS=1 found this). Segments already on disk cost little.
Status SyncLog(const std::string& dir);

}  // namespace runnel::persist
