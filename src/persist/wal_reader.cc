// Reading log segments back, and deciding what a damaged byte range means: a torn tail to cut,
// or damage that stops recovery.
#include "persist/wal_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "persist/coding.h"
#include "persist/crc32c.h"
#include "persist/file_util.h"

namespace runnel::persist {

namespace {

struct Parsed {
  Lsn lsn;
  uint8_t type;
  std::string_view payload;
  size_t size;
};

// nullptr if a whole, intact record starts at data[pos]; otherwise what is wrong with it.
const char* ParseRecord(std::string_view data, size_t pos, Parsed* out) {
  if (data.size() - pos < kRecordHeaderSize) return "incomplete header";
  const char* h = data.data() + pos;
  const uint32_t len = DecodeFixed32(h + kLengthOffset);
  if (len > kMaxRecordPayload) return "impossible length";
  if (data.size() - pos - kRecordHeaderSize < len) return "length runs past the end of the file";
  const uint32_t expected = UnmaskCrc(DecodeFixed32(h + kCrcOffset));
  const uint32_t actual = Crc32c(0, h + kLsnOffset, kRecordHeaderSize - kLsnOffset + len);
  if (expected != actual) return "checksum mismatch";
  out->lsn = DecodeFixed64(h + kLsnOffset);
  out->type = static_cast<uint8_t>(h[kTypeOffset]);
  out->payload = std::string_view(h + kRecordHeaderSize, len);
  out->size = kRecordHeaderSize + len;
  return nullptr;
}

bool IsZero(std::string_view bytes) {
  if (bytes.empty() || bytes[0] != 0) return false;  // the common case: a record starts here
  static const char kZeros[4096] = {};
  for (size_t pos = 0; pos < bytes.size(); pos += sizeof kZeros) {
    const size_t n = std::min(sizeof kZeros, bytes.size() - pos);
    if (std::memcmp(bytes.data() + pos, kZeros, n) != 0) return false;
  }
  return true;
}

std::string Where(const std::string& path, size_t offset) {
  return path + " at offset " + std::to_string(offset);
}

}  // namespace

Status WalReader::Open(const std::string& dir, const WalReaderOptions& opts,
                       std::unique_ptr<WalReader>* reader) {
  const std::string wal_dir = JoinPath(dir, kWalDirName);
  std::unique_ptr<WalReader> r(new WalReader(wal_dir, opts));
  Status s = ListSegments(wal_dir, &r->segments_);
  if (!s.ok()) return s;
  r->expected_ = r->segments_.empty() ? opts.from_lsn + 1 : r->segments_[0].first_lsn;
  for (const SegmentFile& seg : r->segments_) r->total_bytes_ += seg.size;
  *reader = std::move(r);
  return Status::Ok();
}

Status WalReader::Open(const std::string& dir, Lsn from_lsn, const Options& opts,
                       std::unique_ptr<WalReader>* reader) {
  Options with_from = opts;
  with_from.from_lsn = from_lsn;
  return Open(dir, with_from, reader);
}

bool WalReader::LoadSegment() {
  if (index_ == segments_.size()) {
    done_ = true;
    return false;
  }
  // A fresh mapping per segment: the last one may still be held by whoever took payloads.
  auto file = std::make_shared<MappedFile>();
  Status s = file->Map(path());
  data_ = file->data();
  segment_ = std::move(file);
  if (!s.ok()) {
    status_ = s;
    done_ = true;
    return false;
  }
  loaded_ = true;
  pos_ = 0;
  limit_ = last_segment() ? UINT64_MAX : segments_[index_ + 1].first_lsn - 1;
  stats_.segments++;
  stats_.bytes += data_.size();
  if (index_ == 0 && segments_[0].first_lsn > opts_.from_lsn + 1) {
    expected_ = opts_.from_lsn + 1;  // nothing usable was read
    Damage("log starts at LSN " + std::to_string(segments_[0].first_lsn) + " but records from " +
           std::to_string(opts_.from_lsn + 1) + " on are needed: a segment is missing");
    return false;
  }
  return true;
}

bool WalReader::Next(Record* record) {
  RecordView view;
  if (!Next(&view)) return false;
  record->lsn = view.lsn;
  record->type = view.type;
  record->payload.assign(view.payload);
  return true;
}

bool WalReader::Next(RecordView* record) {
  while (!done_) {
    if (!loaded_ && !LoadSegment()) return false;
    if (expected_ > limit_ || (pos_ == data_.size() && !last_segment())) {
      // This segment is done; whatever follows expected_ here was superseded by the next one.
      if (expected_ <= limit_ && limit_ > opts_.from_lsn) {
        Damage("segment ends after LSN " + std::to_string(expected_ - 1) + " but the next one (" +
               segments_[index_ + 1].path + ") starts at LSN " + std::to_string(limit_ + 1) +
               ": a segment is missing");
        return false;
      }
      done_bytes_ += data_.size();
      pos_ = 0;
      ++index_;
      loaded_ = false;
      expected_ = segments_[index_].first_lsn;
      continue;
    }
    if (pos_ == data_.size()) {  // the clean end of the last segment
      done_ = true;
      return false;
    }
    if (IsZero(data_.substr(pos_))) {
      EndAtZeros();
      continue;
    }
    Parsed p;
    if (const char* why = ParseRecord(data_, pos_, &p)) {
      if (last_segment() && !ValidRecordFrom(pos_ + 1)) {
        CutTornTail(why);
      } else {
        Damage(std::string(why) + " in the record after LSN " + std::to_string(expected_ - 1));
      }
      return false;
    }
    if (p.lsn != expected_) {
      Damage("LSN out of order: expected " + std::to_string(expected_) + ", found " +
             std::to_string(p.lsn));
      return false;
    }
    pos_ += p.size;
    ++expected_;
    stats_.records++;
    if (stats_.first_lsn == 0) stats_.first_lsn = p.lsn;
    stats_.last_lsn = p.lsn;
    if (p.lsn > opts_.from_lsn) {
      record->lsn = p.lsn;
      record->type = p.type;
      record->payload = p.payload;
      return true;
    }
  }
  return false;
}

// A torn write leaves a prefix of a record (and maybe zeros or stale bytes where the rest
// would be) and nothing valid after it. An intact record with a later LSN further on means the
// bad bytes are damage inside the log, not a tail.
bool WalReader::ValidRecordFrom(size_t start) const {
  for (size_t pos = start; pos + kRecordHeaderSize <= data_.size(); ++pos) {
    const char* h = data_.data() + pos;
    if (DecodeFixed64(h + kLsnOffset) < expected_) continue;  // cheap filter before the CRC
    if (DecodeFixed32(h + kLengthOffset) > data_.size() - pos - kRecordHeaderSize) continue;
    Parsed p;
    if (ParseRecord(data_, pos, &p) == nullptr) return true;
  }
  return false;
}

// The writer allocates a segment's space when it creates it (Wal: fdatasync then needs no size
// change), so zeros to the end of the file are space never written: the segment's records end
// at pos_. That is the normal state of a segment the server did not close, so it is cut without
// a warning. A header of zeros with anything else after it is not this: it is read as damage.
void WalReader::EndAtZeros() {
  const size_t unused = data_.size() - pos_;
  data_ = data_.substr(0, pos_);
  stats_.bytes -= unused;
  total_bytes_ -= unused;
  if (opts_.read_only) return;
  if (::truncate(path().c_str(), static_cast<off_t>(pos_)) != 0) {
    done_ = true;
    status_ = Status::IoError("cannot truncate " + Where(path(), pos_) + ": " + ErrnoText(errno));
  }
}

void WalReader::CutTornTail(const char* why) {
  done_ = true;
  const size_t cut = data_.size() - pos_;
  stats_.torn_bytes = cut;
  std::string msg = "torn record at the end of the log (" + std::string(why) + ") in " +
                    Where(path(), pos_) + ", after LSN " + std::to_string(expected_ - 1);
  if (opts_.read_only) {
    warnings_.push_back(msg + "; " + std::to_string(cut) + " bytes to truncate");
    return;
  }
  int fd = ::open(path().c_str(), O_WRONLY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  if (err == 0 && ::ftruncate(fd, static_cast<off_t>(pos_)) != 0) err = errno;
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (fd >= 0) ::close(fd);
  if (err != 0) {
    status_ = Status::IoError("cannot truncate " + Where(path(), pos_) + ": " + ErrnoText(err));
    return;
  }
  warnings_.push_back(msg + "; truncated " + std::to_string(cut) + " bytes");
}

void WalReader::Damage(const std::string& what) {
  done_ = true;
  const std::string where = Where(path(), pos_);
  if (!opts_.allow_truncate) {
    status_ = Status::Corruption("wal: " + where + ": " + what);
    return;
  }
  // Everything from here on is dropped, but kept aside: the rest of this segment (the whole
  // original file is copied) and every later segment.
  uint64_t dropped = data_.size() - pos_;
  std::vector<std::string> later;
  for (size_t i = index_ + 1; i < segments_.size(); ++i) {
    dropped += segments_[i].size;
    later.push_back(segments_[i].path);
  }
  stats_.dropped_bytes = dropped;
  std::string msg = "damage in " + where + " (" + what + "): dropped everything after LSN " +
                    std::to_string(expected_ - 1) + ", " + std::to_string(dropped) +
                    " bytes: this file from that offset on";
  for (const auto& p : later) msg += ", " + p;
  if (opts_.read_only) {
    warnings_.push_back(msg + " [not changed: read-only]");
    return;
  }
  Status s = Status::Ok();
  if (pos_ == 0) {
    later.insert(later.begin(), path());  // nothing of it is kept: set the whole file aside
  } else if (pos_ < data_.size()) {
    std::string name = path().substr(path().rfind('/') + 1);
    s = WriteFileDurably(wal_dir_, name + ".dropped", std::string(data_));
    if (s.ok() && ::truncate(path().c_str(), static_cast<off_t>(pos_)) != 0)
      s = Status::IoError("cannot truncate " + where + ": " + ErrnoText(errno));
  }
  for (size_t i = 0; s.ok() && i < later.size(); ++i) {
    if (::rename(later[i].c_str(), (later[i] + ".dropped").c_str()) != 0)
      s = Status::IoError("cannot rename " + later[i] + ": " + ErrnoText(errno));
  }
  if (s.ok()) s = SyncDir(wal_dir_);
  if (!s.ok()) {
    status_ = s;
    return;
  }
  warnings_.push_back(msg + "; originals kept as *.dropped in " + wal_dir_);
}

Status SyncLog(const std::string& dir) {
  const std::string wal_dir = JoinPath(dir, kWalDirName);
  std::vector<SegmentFile> segments;
  Status s = ListSegments(wal_dir, &segments);
  if (!s.ok() || segments.empty()) return s;
  for (const SegmentFile& seg : segments)
    if (int err = FsyncFile(seg.path); err != 0)
      return Status::IoError("cannot fsync " + seg.path + ": " + ErrnoText(err));
  return SyncDir(wal_dir);
}

}  // namespace runnel::persist
