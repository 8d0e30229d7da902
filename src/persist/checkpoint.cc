// Checkpoint files (header + zstd frame), the MANIFEST that publishes them, and reading both
// back with every length and checksum verified.
#include "persist/checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "persist/coding.h"
#include "persist/crc32c.h"
#include "persist/file_util.h"

namespace runnel::persist {

namespace {

// Shard file header, little-endian:
//   0 magic 8 | 8 shard u32 | 12 codec u32 (1 = zstd) | 16 lsn u64 | 24 raw length u64 |
//   32 body length u64 | 40 body crc u32 (masked) | 44 header crc u32 (masked, of bytes 0..43)
constexpr uint32_t kCodecZstd = 1;
// Version 2 may name no file for a shard ("-"); version 1 (earlier versions) always names one.
constexpr const char* kManifestHeader = "runnel-manifest 2";
constexpr const char* kManifestHeaderV1 = "runnel-manifest 1";
constexpr const char* kNoFile = "-";  // an empty shard, in a manifest's shard line

std::string At(const std::string& path, uint64_t offset) {
  return path + " at offset " + std::to_string(offset);
}

std::string EncodeHeader(int shard, Lsn lsn, uint64_t raw_len, std::string_view body) {
  std::string h(kCheckpointMagic, sizeof kCheckpointMagic);
  PutFixed32(&h, static_cast<uint32_t>(shard));
  PutFixed32(&h, kCodecZstd);
  PutFixed64(&h, lsn);
  PutFixed64(&h, raw_len);
  PutFixed64(&h, body.size());
  PutFixed32(&h, MaskCrc(Crc32c(0, body.data(), body.size())));
  PutFixed32(&h, MaskCrc(Crc32c(0, h.data(), h.size())));
  return h;
}

Status WriteShardFile(const std::string& path, const std::string& header, std::string_view body) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot create " + path + ": " + ErrnoText(errno));
  int err = WriteAll(fd, header.data(), header.size());
  if (err == 0) err = WriteAll(fd, body.data(), body.size());
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) return Status::IoError("cannot write " + path + ": " + ErrnoText(err));
  return Status::Ok();
}

// The id in a checkpoint file's name, or false for other files.
bool ParseCheckpointFileName(const std::string& name, uint64_t* id) {
  unsigned long long v;
  int shard;
  char tail[8];
  if (std::sscanf(name.c_str(), "%16llu-%4d.ckp%1s", &v, &shard, tail) != 3 || tail[0] != 't')
    return false;
  *id = v;
  return true;
}

void RemoveOtherCheckpoints(const std::string& ckpt_dir, uint64_t keep_id) {
  DIR* d = ::opendir(ckpt_dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> doomed;
  while (struct dirent* ent = ::readdir(d)) {
    uint64_t id;
    if (ParseCheckpointFileName(ent->d_name, &id) && id != keep_id) doomed.push_back(ent->d_name);
  }
  ::closedir(d);
  for (const auto& name : doomed) ::unlink(JoinPath(ckpt_dir, name).c_str());
}

}  // namespace

std::string CheckpointFileName(uint64_t id, int shard) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%016llu-%04d.ckpt", static_cast<unsigned long long>(id), shard);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

std::unique_ptr<CheckpointWriter> CheckpointWriter::Begin(const std::string& dir, uint64_t id,
                                                          std::string* err) {
  std::unique_ptr<CheckpointReader> current;
  Status s = CheckpointReader::Open(dir, &current);
  // Rewriting the files of the committed checkpoint would damage it until the next commit.
  if (s.ok() && !current->empty() && id <= current->id()) {
    *err = "checkpoint id " + std::to_string(id) + " is not above the committed one (" +
           std::to_string(current->id()) + ")";
    return nullptr;
  }
  s = MakeDirs(JoinPath(dir, kCheckpointDirName));
  if (!s.ok()) {
    *err = s.message();
    return nullptr;
  }
  return std::unique_ptr<CheckpointWriter>(new CheckpointWriter(dir, id));
}

bool CheckpointWriter::AddShard(int shard, Lsn lsn, std::string_view raw_bytes, std::string* err) {
  if (raw_bytes.empty()) {
    std::lock_guard lock(mu_);
    shards_[shard] = ShardFile{lsn, kNoFile, 0, 0};
    return true;
  }
  std::string body(ZSTD_compressBound(raw_bytes.size()), '\0');
  size_t n = ZSTD_compress(body.data(), body.size(), raw_bytes.data(), raw_bytes.size(),
                           kCheckpointZstdLevel);
  if (ZSTD_isError(n)) {
    *err = std::string("zstd: ") + ZSTD_getErrorName(n);
    return false;
  }
  body.resize(n);
  const std::string name = CheckpointFileName(id_, shard);
  const std::string header = EncodeHeader(shard, lsn, raw_bytes.size(), body);
  Status s = WriteShardFile(JoinPath(JoinPath(dir_, kCheckpointDirName), name), header, body);
  if (!s.ok()) {
    *err = s.message();
    return false;
  }
  std::lock_guard lock(mu_);
  shards_[shard] = ShardFile{lsn, name, header.size() + body.size(), raw_bytes.size()};
  return true;
}

bool CheckpointWriter::Commit(std::string* err) {
  std::lock_guard lock(mu_);
  if (committed_) {
    *err = "checkpoint already committed";
    return false;
  }
  int expected = 0;
  for (const auto& [shard, f] : shards_) {
    if (shard != expected++) {
      *err = "checkpoint: shard " + std::to_string(expected - 1) + " was not added";
      return false;
    }
  }
  const std::string ckpt_dir = JoinPath(dir_, kCheckpointDirName);
  Status s = SyncDir(ckpt_dir);  // the shard files' names, before a manifest points at them
  if (!s.ok()) {
    *err = s.message();
    return false;
  }
  std::ostringstream text;
  text << kManifestHeader << "\n";
  text << "checkpoint " << id_ << "\n";
  text << "lsn-min " << min_lsn() << "\n";
  text << "lsn-max " << max_lsn() << "\n";
  text << "shards " << shards_.size() << "\n";
  for (const auto& [shard, f] : shards_)
    text << "shard " << shard << " " << f.lsn << " " << f.name << " " << f.size << "\n";
  std::string body = text.str();
  char crc_line[32];
  std::snprintf(crc_line, sizeof crc_line, "crc %08x\n",
                MaskCrc(Crc32c(0, body.data(), body.size())));
  body += crc_line;
  s = WriteFileDurably(dir_, kManifestName, body);
  if (!s.ok()) {
    *err = s.message();
    return false;
  }
  committed_ = true;
  RemoveOtherCheckpoints(ckpt_dir, id_);
  return true;
}

// Callers of these hold mu_ or own the writer alone.
Lsn CheckpointWriter::min_lsn() const {
  Lsn v = UINT64_MAX;
  for (const auto& [shard, f] : shards_) v = std::min(v, f.lsn);
  return shards_.empty() ? 0 : v;
}

Lsn CheckpointWriter::max_lsn() const {
  Lsn v = 0;
  for (const auto& [shard, f] : shards_) v = std::max(v, f.lsn);
  return v;
}

uint64_t CheckpointWriter::raw_bytes() const {
  std::lock_guard lock(mu_);
  uint64_t v = 0;
  for (const auto& [shard, f] : shards_) v += f.raw;
  return v;
}

uint64_t CheckpointWriter::file_bytes() const {
  std::lock_guard lock(mu_);
  uint64_t v = 0;
  for (const auto& [shard, f] : shards_) v += f.size;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

Status CheckpointReader::Open(const std::string& dir, std::unique_ptr<CheckpointReader>* reader) {
  auto r = std::unique_ptr<CheckpointReader>(new CheckpointReader());
  r->dir_ = dir;
  r->manifest_path_ = JoinPath(dir, kManifestName);
  if (::access(r->manifest_path_.c_str(), F_OK) != 0 && errno == ENOENT) {
    *reader = std::move(r);
    return Status::Ok();
  }
  std::string text;
  Status s = ReadWholeFile(r->manifest_path_, &text);
  if (s.ok()) s = r->Parse(text);
  if (!s.ok()) return s;
  *reader = std::move(r);
  return Status::Ok();
}

Status CheckpointReader::Parse(const std::string& text) {
  auto bad = [&](size_t offset, const std::string& what) {
    return Status::Corruption("checkpoint: " + At(manifest_path_, offset) + ": " + what);
  };
  const size_t crc_pos = text.rfind("crc ");
  unsigned crc = 0;
  char nl = 0;
  if (crc_pos == std::string::npos || (crc_pos != 0 && text[crc_pos - 1] != '\n') ||
      std::sscanf(text.c_str() + crc_pos, "crc %8x%c", &crc, &nl) != 2 || nl != '\n' ||
      crc_pos + 13 != text.size())
    return bad(text.size(), "no CRC line at the end (truncated?)");
  if (UnmaskCrc(crc) != Crc32c(0, text.data(), crc_pos)) return bad(crc_pos, "checksum mismatch");

  // The lines before the CRC line, with their offsets for error messages.
  std::vector<std::pair<size_t, std::string>> lines;
  for (size_t pos = 0; pos < crc_pos;) {
    const size_t eol = text.find('\n', pos);
    lines.emplace_back(pos, text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  size_t li = 0;
  size_t offset = 0;
  auto next_line = [&](std::istringstream* ls) {
    if (li == lines.size()) {
      offset = crc_pos;
      return false;
    }
    offset = lines[li].first;
    ls->clear();
    ls->str(lines[li++].second);
    return true;
  };
  std::istringstream ls;
  std::string key, rest;
  auto field = [&](const char* name, uint64_t* v) {
    return next_line(&ls) && (ls >> key >> *v) && key == name && !(ls >> rest);
  };
  if (!next_line(&ls) || (ls.str() != kManifestHeader && ls.str() != kManifestHeaderV1))
    return bad(0, "not a runnel manifest");
  uint64_t lsn_min = 0, lsn_max = 0, count = 0;
  if (!field("checkpoint", &id_)) return bad(offset, "expected 'checkpoint <id>'");
  if (!field("lsn-min", &lsn_min)) return bad(offset, "expected 'lsn-min <lsn>'");
  if (!field("lsn-max", &lsn_max)) return bad(offset, "expected 'lsn-max <lsn>'");
  if (!field("shards", &count) || count != lines.size() - 5)
    return bad(offset, "expected 'shards <n>' followed by n shard lines");
  const std::string ckpt_dir = JoinPath(dir_, kCheckpointDirName);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t shard;
    Shard s;
    std::string name;
    if (!next_line(&ls) || !(ls >> key >> shard >> s.lsn >> name >> s.size) || key != "shard" ||
        shard != i || (ls >> rest) || name.find('/') != std::string::npos)
      return bad(offset, "expected 'shard " + std::to_string(i) + " <lsn> <file> <size>'");
    if (name == kNoFile && s.size != 0)
      return bad(offset, "shard " + std::to_string(i) + " has no file but a size");
    if (name != kNoFile) s.path = JoinPath(ckpt_dir, name);
    shards_.push_back(std::move(s));
  }
  if (count > 0 && (lsn_min != min_lsn() || lsn_max != max_lsn()))
    return bad(0, "lsn-min/lsn-max disagree with the shard lines");
  return Status::Ok();
}

Lsn CheckpointReader::min_lsn() const {
  Lsn v = UINT64_MAX;
  for (const auto& s : shards_) v = std::min(v, s.lsn);
  return shards_.empty() ? 0 : v;
}

Lsn CheckpointReader::max_lsn() const {
  Lsn v = 0;
  for (const auto& s : shards_) v = std::max(v, s.lsn);
  return v;
}

uint64_t CheckpointReader::file_bytes() const {
  uint64_t v = 0;
  for (const auto& s : shards_) v += s.size;
  return v;
}

Status CheckpointReader::ReadShard(int shard, std::string* raw_bytes) const {
  raw_bytes->clear();
  if (shard < 0 || shard >= shard_count())
    return Status::Invalid("checkpoint has no shard " + std::to_string(shard));
  const Shard& info = shards_[shard];
  const std::string& path = info.path;
  if (path.empty()) return Status::Ok();  // an empty shard
  std::string file;
  Status s = ReadWholeFile(path, &file);
  if (!s.ok()) return s;
  auto bad = [&](uint64_t offset, const std::string& what) {
    return Status::Corruption("checkpoint: " + At(path, offset) + ": " + what);
  };
  if (file.size() != info.size)
    return bad(std::min<uint64_t>(file.size(), info.size),
               "file is " + std::to_string(file.size()) + " bytes, the manifest says " +
                   std::to_string(info.size));
  if (file.size() < kCheckpointHeaderSize) return bad(file.size(), "incomplete header");
  const char* h = file.data();
  if (UnmaskCrc(DecodeFixed32(h + 44)) != Crc32c(0, h, 44))
    return bad(0, "header checksum mismatch");
  if (std::memcmp(h, kCheckpointMagic, sizeof kCheckpointMagic) != 0) return bad(0, "bad magic");
  if (DecodeFixed32(h + 8) != static_cast<uint32_t>(shard))
    return bad(8, "belongs to another shard");
  if (DecodeFixed32(h + 12) != kCodecZstd) return bad(12, "unknown codec");
  if (DecodeFixed64(h + 16) != info.lsn) return bad(16, "LSN differs from the manifest's");
  const uint64_t raw_len = DecodeFixed64(h + 24);
  const uint64_t body_len = DecodeFixed64(h + 32);
  if (body_len != file.size() - kCheckpointHeaderSize)
    return bad(32, "body length " + std::to_string(body_len) + " does not match the file");
  const char* body = h + kCheckpointHeaderSize;
  if (UnmaskCrc(DecodeFixed32(h + 40)) != Crc32c(0, body, body_len))
    return bad(kCheckpointHeaderSize, "data checksum mismatch");
  // Sizes the output buffer from the header only when the zstd frame agrees with it.
  if (ZSTD_getFrameContentSize(body, body_len) != raw_len)
    return bad(kCheckpointHeaderSize, "compressed data does not match its length");
  raw_bytes->resize(raw_len);
  size_t n = ZSTD_decompress(raw_bytes->data(), raw_len, body, body_len);
  if (ZSTD_isError(n) || n != raw_len) {
    raw_bytes->clear();
    return bad(kCheckpointHeaderSize, std::string("cannot decompress: ") +
                                          (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  }
  return Status::Ok();
}

}  // namespace runnel::persist
