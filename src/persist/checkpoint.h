// Checkpoints: one zstd-compressed file per shard, each tagged with the LSN it covers, published
// all at once by a MANIFEST (written to a temporary name, fsynced, renamed, directory fsynced).
// A checkpoint exists only once its MANIFEST names it; files no manifest names are leftovers of
// an older or unfinished checkpoint and are deleted by the next Commit. An empty shard has no
// file.
//
//   dir/MANIFEST                                   text, ends with a CRC line
//   dir/checkpoint/<id %016llu>-<shard %04d>.ckpt  48-byte header + zstd frame
//
// docs/PERSISTENCE.md has both layouts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "persist/log_format.h"
#include "persist/status.h"

namespace runnel::persist {

constexpr const char* kManifestName = "MANIFEST";
constexpr const char* kCheckpointDirName = "checkpoint";
constexpr size_t kCheckpointHeaderSize = 48;
constexpr char kCheckpointMagic[8] = {'R', 'N', 'C', 'K', 'P', 'T', '0', '1'};
constexpr int kCheckpointZstdLevel = 1;

std::string CheckpointFileName(uint64_t id, int shard);

class CheckpointWriter {
 public:
  // Starts checkpoint `id`, which must be greater than the committed one's.
  static std::unique_ptr<CheckpointWriter> Begin(const std::string& dir, uint64_t id,
                                                 std::string* err);
  // Compresses and writes one shard's serialized bytes, tagged with `lsn` (every log record of
  // this shard up to lsn is in raw_bytes), and fsyncs the file; no bytes, no file. Thread-safe:
  // shards may be added from several threads. Call it after releasing the shard's lock.
  bool AddShard(int shard, Lsn lsn, std::string_view raw_bytes, std::string* err);
  // Publishes the checkpoint; shards 0..n-1 must all have been added. Then deletes the files
  // of older checkpoints. The log must be durable up to max_lsn() before this is called
  // (Wal::SyncUpTo), or a crash could leave a log that ends before the checkpoint.
  bool Commit(std::string* err);

  Lsn min_lsn() const;
  Lsn max_lsn() const;
  uint64_t raw_bytes() const;   // serialized, before compression
  uint64_t file_bytes() const;  // on disk

 private:
  struct ShardFile {
    Lsn lsn;
    std::string name;
    uint64_t size;
    uint64_t raw;
  };
  CheckpointWriter(std::string dir, uint64_t id) : dir_(std::move(dir)), id_(id) {}

  const std::string dir_;
  const uint64_t id_;
  mutable std::mutex mu_;
  std::map<int, ShardFile> shards_;
  bool committed_ = false;
};

class CheckpointReader {
 public:
  // Reads and checks dir/MANIFEST. No manifest is an empty start: OK, shard_count() == 0.
  static Status Open(const std::string& dir, std::unique_ptr<CheckpointReader>* reader);

  bool empty() const { return shards_.empty(); }
  uint64_t id() const { return id_; }
  int shard_count() const { return static_cast<int>(shards_.size()); }
  Lsn shard_lsn(int shard) const { return shards_[shard].lsn; }
  // Empty for a shard without a file (empty).
  const std::string& shard_path(int shard) const { return shards_[shard].path; }
  // Replay starts after min_lsn(); the next log record gets an LSN above max_lsn().
  Lsn min_lsn() const;
  Lsn max_lsn() const;
  uint64_t file_bytes() const;  // of every shard's file, as the manifest has them

  // Reads one shard's file, checks header and checksum, decompresses (a shard without a file
  // reads as no bytes). Damage is reported with the file and offset. Safe to call for
  // different shards from several threads at once.
  Status ReadShard(int shard, std::string* raw_bytes) const;

 private:
  struct Shard {
    Lsn lsn;
    std::string path;
    uint64_t size;
  };
  Status Parse(const std::string& text);

  std::string dir_;
  std::string manifest_path_;
  uint64_t id_ = 0;
  std::vector<Shard> shards_;
};

}  // namespace runnel::persist
