// libFuzzer target for what recovery reads from disk. The first input byte picks the mode and
// options; the rest is:
//   mode 0: a kCommands payload for DecodeCommands; what decodes must re-encode and decode to
//           the same commands;
//   mode 1: a log segment file read by WalReader; the records must come out with consecutive
//           LSNs, a read-only read must change nothing, and after a repairing read a second
//           read must find a clean log with the same records;
//   mode 2: a shard's checkpoint data for LoadSnapshot; what loads must serialize and load back
//           with the same keys.
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/keyspace.h"
#include "engine/snapshot.h"
#include "persist/command_codec.h"
#include "persist/segment.h"
#include "persist/wal_reader.h"
#include "fuzz_check.h"

namespace {

using namespace runnel;
namespace fs = std::filesystem;

void FuzzCommands(std::string_view data) {
  int db;
  int64_t time_ms;
  std::vector<std::vector<std::string>> cmds;
  if (!persist::DecodeCommands(data, &db, &time_ms, &cmds)) return;
  std::string again;
  persist::EncodeCommands(db, time_ms, cmds, &again);
  int db2;
  int64_t time2;
  std::vector<std::vector<std::string>> cmds2;
  FUZZ_CHECK(persist::DecodeCommands(again, &db2, &time2, &cmds2));
  FUZZ_CHECK(db2 == db && time2 == time_ms && cmds2 == cmds);
}

// A directory for the segment files, removed at exit. Never destroyed itself, so the exit
// handler can still use it.
const std::string& WorkDir() {
  static const std::string* dir = [] {
    std::string base = fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string();
    auto* tmpl = new std::string(base + "/runnel-walfuzz-XXXXXX");
    FUZZ_CHECK(::mkdtemp(tmpl->data()) != nullptr);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(WorkDir(), ec);
    });
    return tmpl;
  }();
  return *dir;
}

struct Read {
  std::vector<persist::Record> records;
  bool ok;
  size_t warnings;
};

Read ReadLog(const persist::WalReaderOptions& opts) {
  std::unique_ptr<persist::WalReader> reader;
  FUZZ_CHECK(persist::WalReader::Open(WorkDir(), opts, &reader).ok());
  Read out;
  persist::Record r;
  persist::Lsn prev = 0;
  while (reader->Next(&r)) {
    FUZZ_CHECK(r.lsn > opts.from_lsn);
    FUZZ_CHECK(prev == 0 || r.lsn == prev + 1);
    prev = r.lsn;
    out.records.push_back(r);
  }
  out.ok = reader->status().ok();
  out.warnings = reader->warnings().size();
  FUZZ_CHECK(reader->next_lsn() > opts.from_lsn);
  return out;
}

void FuzzSegment(uint8_t flags, std::string_view data) {
  const std::string wal_dir = WorkDir() + "/wal";
  fs::remove_all(wal_dir);
  fs::create_directories(wal_dir);
  const std::string path = wal_dir + "/" + persist::SegmentFileName(1 + (flags >> 5));
  {
    std::ofstream f(path, std::ios::binary);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  persist::WalReaderOptions opts;
  opts.from_lsn = (flags >> 2) & 7;
  opts.allow_truncate = flags & 1;
  opts.read_only = flags & 2;
  Read first = ReadLog(opts);
  if (opts.read_only) {
    FUZZ_CHECK(fs::file_size(path) == data.size());
    return;
  }
  if (!first.ok) return;
  // The repair (cutting a torn tail, or damage with allow_truncate) leaves a clean log.
  opts.read_only = true;
  opts.allow_truncate = false;
  Read second = ReadLog(opts);
  FUZZ_CHECK(second.ok);
  FUZZ_CHECK(second.warnings == 0);
  FUZZ_CHECK(second.records.size() == first.records.size());
  for (size_t i = 0; i < first.records.size(); ++i) {
    FUZZ_CHECK(second.records[i].lsn == first.records[i].lsn);
    FUZZ_CHECK(second.records[i].payload == first.records[i].payload);
  }
}

// Keys in the shard; with skip_min, not counting those expiring at INT64_MIN.
size_t CountKeys(engine::Shard& shard, bool skip_min) {
  size_t n = 0;
  for (int db = 0; db < shard.databases(); ++db) {
    engine::Table* t = shard.find_table(db);
    if (t == nullptr) continue;
    uint64_t cursor = 0;
    do {
      cursor = t->dict().Scan(cursor, [&](engine::Entry* e) {
        if (!skip_min || t->ExpireAt(e) != INT64_MIN) ++n;
      });
    } while (cursor != 0);
  }
  return n;
}

void FuzzSnapshot(std::string_view data) {
  engine::Shard shard(4);
  std::string err;
  if (!engine::LoadSnapshot(data, &shard, &err)) {
    FUZZ_CHECK(err.rfind("snapshot: offset ", 0) == 0);
    return;
  }
  std::string again;
  for (int db = 0; db < shard.databases(); ++db)
    if (engine::Table* t = shard.find_table(db)) engine::SerializeTable(db, *t, INT64_MIN, &again);
  engine::Shard reloaded(4);
  FUZZ_CHECK(engine::LoadSnapshot(again, &reloaded, &err));
  // Only a key expiring at INT64_MIN counts as expired at INT64_MIN.
  FUZZ_CHECK(CountKeys(reloaded, false) == CountKeys(shard, true));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = bytes[0];
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (mode % 3) {
    case 0:
      FuzzCommands(data);
      break;
    case 1:
      if (data.empty()) return 0;
      FuzzSegment(static_cast<uint8_t>(data[0]), data.substr(1));
      break;
    case 2:
      FuzzSnapshot(data);
      break;
  }
  return 0;
}
