// runnel-check DIR [--fix] [--allow-truncate]: verifies a data directory offline, like
// redis-check-aof: the MANIFEST, every checkpoint file (header, checksum, decompression) and
// every log record (framing, checksum, LSN order, no missing segment). Prints what it found.
//
// --fix cuts a torn record at the end of the log (what start-up would do anyway);
// --allow-truncate also drops damage in the middle of the log and everything after it (kept as
// *.dropped files). Exit status: 0 if the directory is sound (after fixing), 1 otherwise.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "persist/checkpoint.h"
#include "persist/wal_reader.h"

namespace {

using runnel::persist::CheckpointReader;
using runnel::persist::Record;
using runnel::persist::Status;
using runnel::persist::WalReader;
using runnel::persist::WalReaderOptions;

int Usage() {
  std::fprintf(stderr, "usage: runnel-check DIR [--fix] [--allow-truncate]\n");
  return 2;
}

// Checks the manifest and every shard file; returns the number of problems. Sets *from_lsn to
// the position the log must cover from.
int CheckCheckpoint(const std::string& dir, uint64_t* from_lsn) {
  std::unique_ptr<CheckpointReader> ckpt;
  Status s = CheckpointReader::Open(dir, &ckpt);
  if (!s.ok()) {
    std::printf("problem: %s\n", s.message().c_str());
    return 1;
  }
  if (ckpt->empty()) {
    std::printf("checkpoint: none (no MANIFEST)\n");
    return 0;
  }
  *from_lsn = ckpt->min_lsn();
  std::printf("checkpoint: id %llu, %d shards, LSN %llu..%llu\n",
              static_cast<unsigned long long>(ckpt->id()), ckpt->shard_count(),
              static_cast<unsigned long long>(ckpt->min_lsn()),
              static_cast<unsigned long long>(ckpt->max_lsn()));
  int problems = 0;
  uint64_t raw_total = 0;
  std::string raw;
  for (int i = 0; i < ckpt->shard_count(); ++i) {
    s = ckpt->ReadShard(i, &raw);
    if (!s.ok()) {
      std::printf("problem: %s\n", s.message().c_str());
      ++problems;
    }
    raw_total += raw.size();
  }
  std::printf("checkpoint: %d of %d shards OK, %llu bytes of data\n",
              ckpt->shard_count() - problems, ckpt->shard_count(),
              static_cast<unsigned long long>(raw_total));
  return problems;
}

int CheckWal(const std::string& dir, const WalReaderOptions& opts) {
  std::unique_ptr<WalReader> wal;
  Status s = WalReader::Open(dir, opts, &wal);
  if (!s.ok()) {
    std::printf("problem: %s\n", s.message().c_str());
    return 1;
  }
  Record r;
  uint64_t after = 0;
  while (wal->Next(&r)) ++after;
  const auto& st = wal->stats();
  std::printf(
      "wal: %llu segments, %llu bytes, %llu records", static_cast<unsigned long long>(st.segments),
      static_cast<unsigned long long>(st.bytes), static_cast<unsigned long long>(st.records));
  if (st.records > 0)
    std::printf(", LSN %llu..%llu", static_cast<unsigned long long>(st.first_lsn),
                static_cast<unsigned long long>(st.last_lsn));
  std::printf(" (%llu after the checkpoint)\n", static_cast<unsigned long long>(after));
  int problems = 0;
  for (const auto& w : wal->warnings()) {
    // With read_only set nothing was changed: a warning is a problem still on disk.
    std::printf("%s: %s\n", opts.read_only ? "problem" : "fixed", w.c_str());
    if (opts.read_only) ++problems;
  }
  if (!wal->status().ok()) {
    std::printf("problem: %s\n", wal->status().message().c_str());
    ++problems;
  }
  return problems;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  bool fix = false;
  bool allow_truncate = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fix") == 0) {
      fix = true;
    } else if (std::strcmp(argv[i], "--allow-truncate") == 0) {
      allow_truncate = true;
    } else if (argv[i][0] == '-' || !dir.empty()) {
      return Usage();
    } else {
      dir = argv[i];
    }
  }
  if (dir.empty()) return Usage();
  std::printf("runnel-check: %s\n", dir.c_str());
  uint64_t from_lsn = 0;
  int problems = CheckCheckpoint(dir, &from_lsn);
  WalReaderOptions opts;
  opts.from_lsn = from_lsn;
  opts.read_only = !fix;
  opts.allow_truncate = fix && allow_truncate;
  problems += CheckWal(dir, opts);
  if (problems == 0) {
    std::printf("OK\n");
    return 0;
  }
  std::printf("%d problem%s found\n", problems, problems == 1 ? "" : "s");
  if (!fix) {
    std::printf(
        "--fix truncates a torn tail; --fix --allow-truncate also drops damage in the "
        "log and everything after it (kept as *.dropped)\n");
  }
  return 1;
}
