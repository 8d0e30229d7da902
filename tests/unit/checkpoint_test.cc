// Tests of checkpoints: the round trip through shard files and the MANIFEST, publication and
// clean-up, and one case per kind of damage to a shard file or the manifest.
#include "persist/checkpoint.h"
#include "persist/crc32c.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace runnel::persist;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "runnel-ckpt-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(uint64_t id, int shard) const {
    return path_ + "/checkpoint/" + CheckpointFileName(id, shard);
  }
  std::string manifest() const { return path_ + "/MANIFEST"; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// Compressible but not trivial shard contents.
std::string ShardData(int shard, size_t n) {
  std::mt19937 rng(shard);
  std::string s;
  while (s.size() < n)
    s += "key:" + std::to_string(rng() % 1000) + "=" + std::to_string(shard) + ";";
  s.resize(n);
  return s;
}

void WriteCheckpoint(const std::string& dir, uint64_t id, const std::vector<std::string>& shards,
                     bool commit = true) {
  std::string err;
  auto w = CheckpointWriter::Begin(dir, id, &err);
  INFO(err);
  REQUIRE(w != nullptr);
  for (size_t i = 0; i < shards.size(); ++i)
    REQUIRE(w->AddShard(static_cast<int>(i), 100 * id + i, shards[i], &err));
  if (commit) REQUIRE(w->Commit(&err));
}

std::unique_ptr<CheckpointReader> OpenReader(const std::string& dir) {
  std::unique_ptr<CheckpointReader> r;
  Status s = CheckpointReader::Open(dir, &r);
  INFO(s.message());
  REQUIRE(s.ok());
  return r;
}

Status ReadShardStatus(const std::string& dir, int shard) {
  std::string raw;
  return OpenReader(dir)->ReadShard(shard, &raw);
}

}  // namespace

TEST_CASE("checkpoint: no manifest is an empty start") {
  TempDir dir;
  auto r = OpenReader(dir.path());
  CHECK(r->empty());
  CHECK(r->shard_count() == 0);
  CHECK(r->min_lsn() == 0);
  std::string raw;
  CHECK_FALSE(r->ReadShard(0, &raw).ok());
}

TEST_CASE("checkpoint: round trip with several shards, read from two threads") {
  TempDir dir;
  std::vector<std::string> shards = {ShardData(0, 100000), "", ShardData(2, 1), ShardData(3, 5000),
                                     std::string("\0\xff\0", 3)};
  {
    std::string err;
    auto w = CheckpointWriter::Begin(dir.path(), 7, &err);
    REQUIRE(w != nullptr);
    // Shards may be added from several threads, in any order.
    std::thread t([&] {
      for (int i = 4; i >= 3; --i) CHECK(w->AddShard(i, 700 + i, shards[i], &err));
    });
    for (int i = 0; i <= 2; ++i) CHECK(w->AddShard(i, 700 + i, shards[i], &err));
    t.join();
    CHECK(w->raw_bytes() == 105004);
    CHECK(w->file_bytes() < w->raw_bytes());  // zstd did its job on the repetitive data
    REQUIRE(w->Commit(&err));
  }
  auto r = OpenReader(dir.path());
  REQUIRE(r->shard_count() == 5);
  CHECK(r->id() == 7);
  CHECK(r->min_lsn() == 700);
  CHECK(r->max_lsn() == 704);
  for (int i = 0; i < 5; ++i) CHECK(r->shard_lsn(i) == 700u + i);
  std::vector<std::string> got(5);
  std::vector<Status> status(5);
  auto read = [&](int from) {
    for (int i = from; i < 5; i += 2) status[i] = r->ReadShard(i, &got[i]);
  };
  std::thread t(read, 1);
  read(0);
  t.join();
  for (int i = 0; i < 5; ++i) {
    CHECK(status[i].ok());
    CHECK(got[i] == shards[i]);
  }
  CHECK_FALSE(fs::exists(dir.manifest() + ".tmp"));
  CHECK_FALSE(fs::exists(dir.file(7, 1)));  // the empty shard has no file
  CHECK(r->shard_path(1).empty());
  CHECK(fs::exists(dir.file(7, 2)));
}

TEST_CASE("checkpoint: manifest shard lines without a file, and version 1 manifests") {
  TempDir dir;
  WriteCheckpoint(dir.path(), 4, {"a", ""});
  const std::string m = ReadFile(dir.manifest());
  CHECK(m.rfind("runnel-manifest 2\n", 0) == 0);
  CHECK(m.find("\nshard 1 401 - 0\n") != std::string::npos);
  // The manifest with its CRC line made anew after `from` became `to`.
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string body = m.substr(0, m.rfind("crc "));
    body.replace(body.find(from), from.size(), to);
    char crc[32];
    std::snprintf(crc, sizeof crc, "crc %08x\n", MaskCrc(Crc32c(0, body.data(), body.size())));
    return body + crc;
  };
  std::unique_ptr<CheckpointReader> r;
  WriteFile(dir.manifest(), edited("shard 1 401 - 0", "shard 1 401 - 5"));
  Status s = CheckpointReader::Open(dir.path(), &r);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("has no file but a size") != std::string::npos);
  // Version 1 (written by earlier versions) names a file for every shard.
  fs::copy_file(dir.file(4, 0), dir.file(4, 1));
  const std::string size0 = std::to_string(fs::file_size(dir.file(4, 0)));
  WriteFile(dir.manifest(), edited("runnel-manifest 2\n", "runnel-manifest 1\n"));
  CHECK(CheckpointReader::Open(dir.path(), &r).ok());
  WriteFile(dir.manifest(), edited("- 0", CheckpointFileName(4, 0) + " " + size0));
  CHECK(CheckpointReader::Open(dir.path(), &r).ok());
  std::string raw;
  CHECK(r->ReadShard(0, &raw).ok());
  CHECK(raw == "a");
  WriteFile(dir.manifest(), edited("runnel-manifest 2\n", "runnel-manifest 3\n"));
  CHECK(CheckpointReader::Open(dir.path(), &r).IsCorruption());
}

TEST_CASE("checkpoint: a flipped bit in a shard's data is detected, naming file and offset") {
  TempDir dir;
  WriteCheckpoint(dir.path(), 1, {ShardData(0, 2000), ShardData(1, 2000)});
  std::string f = ReadFile(dir.file(1, 1));
  f[kCheckpointHeaderSize + 10] ^= 0x04;
  WriteFile(dir.file(1, 1), f);
  CHECK(ReadShardStatus(dir.path(), 0).ok());
  Status s = ReadShardStatus(dir.path(), 1);
  CHECK(s.IsCorruption());
  CHECK(s.message().find(dir.file(1, 1) + " at offset 48") != std::string::npos);
  CHECK(s.message().find("data checksum mismatch") != std::string::npos);
}

TEST_CASE("checkpoint: a damaged shard header is detected") {
  TempDir dir;
  WriteCheckpoint(dir.path(), 1, {ShardData(0, 2000)});
  std::string f = ReadFile(dir.file(1, 0));
  f[20] ^= 0x01;  // the LSN
  WriteFile(dir.file(1, 0), f);
  Status s = ReadShardStatus(dir.path(), 0);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("header checksum mismatch") != std::string::npos);
  CHECK(s.message().find(dir.file(1, 0) + " at offset 0") != std::string::npos);
}

TEST_CASE("checkpoint: a truncated shard file is detected") {
  TempDir dir;
  WriteCheckpoint(dir.path(), 1, {ShardData(0, 2000)});
  const std::string f = ReadFile(dir.file(1, 0));
  for (size_t n : {size_t{0}, size_t{20}, kCheckpointHeaderSize, f.size() - 1}) {
    CAPTURE(n);
    WriteFile(dir.file(1, 0), f.substr(0, n));
    Status s = ReadShardStatus(dir.path(), 0);
    CHECK(s.IsCorruption());
    CHECK(s.message().find(dir.file(1, 0)) != std::string::npos);
  }
  fs::remove(dir.file(1, 0));
  CHECK(ReadShardStatus(dir.path(), 0).IsIoError());
}

TEST_CASE("checkpoint: a shard file swapped for another shard's is detected") {
  TempDir dir;
  WriteCheckpoint(dir.path(), 1, {ShardData(0, 500), ShardData(0, 500)});
  fs::copy_file(dir.file(1, 0), dir.file(1, 1), fs::copy_options::overwrite_existing);
  Status s = ReadShardStatus(dir.path(), 1);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("another shard") != std::string::npos);
}

TEST_CASE("checkpoint: a damaged manifest is detected") {
  TempDir dir;
  WriteCheckpoint(dir.path(), 3, {"a", "b"});
  const std::string m = ReadFile(dir.manifest());
  std::unique_ptr<CheckpointReader> r;

  std::string flipped = m;
  flipped[flipped.find("shard 1 ") + 6] = '2';
  WriteFile(dir.manifest(), flipped);
  Status s = CheckpointReader::Open(dir.path(), &r);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("checksum mismatch") != std::string::npos);
  CHECK(s.message().find(dir.manifest()) != std::string::npos);

  WriteFile(dir.manifest(), m.substr(0, m.size() - 5));
  s = CheckpointReader::Open(dir.path(), &r);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("no CRC line") != std::string::npos);

  WriteFile(dir.manifest(), "");
  CHECK(CheckpointReader::Open(dir.path(), &r).IsCorruption());

  WriteFile(dir.manifest(), m);
  CHECK(CheckpointReader::Open(dir.path(), &r).ok());
}

TEST_CASE("checkpoint: a newer commit replaces the old one and deletes its files") {
  TempDir dir;
  WriteCheckpoint(dir.path(), 1, {"one-0", "one-1", "one-2"});
  CHECK(fs::exists(dir.file(1, 2)));
  WriteCheckpoint(dir.path(), 2, {"two-0", "two-1"});
  CHECK_FALSE(fs::exists(dir.file(1, 0)));
  CHECK_FALSE(fs::exists(dir.file(1, 2)));
  auto r = OpenReader(dir.path());
  CHECK(r->id() == 2);
  REQUIRE(r->shard_count() == 2);
  std::string raw;
  CHECK(r->ReadShard(1, &raw).ok());
  CHECK(raw == "two-1");
}

TEST_CASE("checkpoint: an uncommitted checkpoint is invisible and cannot harm the committed one") {
  TempDir dir;
  WriteCheckpoint(dir.path(), 1, {"one-0"});
  WriteCheckpoint(dir.path(), 2, {"two-0"}, /*commit=*/false);
  auto r = OpenReader(dir.path());
  CHECK(r->id() == 1);
  std::string raw;
  CHECK(r->ReadShard(0, &raw).ok());
  CHECK(raw == "one-0");
  // Reusing the committed id would overwrite its files.
  std::string err;
  CHECK(CheckpointWriter::Begin(dir.path(), 1, &err) == nullptr);
  CHECK(err.find("not above") != std::string::npos);
  // The next commit removes the abandoned files of checkpoint 2 too.
  WriteCheckpoint(dir.path(), 3, {"three-0"});
  CHECK_FALSE(fs::exists(dir.file(2, 0)));
  CHECK_FALSE(fs::exists(dir.file(1, 0)));
}

TEST_CASE("checkpoint: Commit requires every shard from 0 on") {
  TempDir dir;
  std::string err;
  auto w = CheckpointWriter::Begin(dir.path(), 1, &err);
  REQUIRE(w != nullptr);
  REQUIRE(w->AddShard(0, 1, "a", &err));
  REQUIRE(w->AddShard(2, 1, "c", &err));
  CHECK_FALSE(w->Commit(&err));
  CHECK(err.find("shard 1") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.manifest()));
}
