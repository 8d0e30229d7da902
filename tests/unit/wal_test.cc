// Tests of the log: CRC-32C, the command payload codec, the writer (threads, segments, group
// commit, disk errors through the fault hook) and the reader, with one case per kind of damage,
// each building the damaged bytes by hand.
#include "persist/wal.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "persist/coding.h"
#include "persist/command_codec.h"
#include "persist/crc32c.h"
#include "persist/log_format.h"
#include "persist/segment.h"
#include "persist/wal_reader.h"

using namespace runnel::persist;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "runnel-wal-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string wal() const { return path_ + "/wal"; }
  std::string segment(Lsn first) const { return wal() + "/" + SegmentFileName(first); }

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

// One record framed by hand from the format's constants, independently of the writer.
std::string Frame(Lsn lsn, uint8_t type, const std::string& payload) {
  std::string body;
  PutFixed64(&body, lsn);
  body.push_back(static_cast<char>(type));
  body += payload;
  std::string rec;
  PutFixed32(&rec, static_cast<uint32_t>(payload.size()));
  PutFixed32(&rec, MaskCrc(Crc32c(0, body.data(), body.size())));
  return rec + body;
}

std::string Payload(Lsn lsn) {
  return "payload-" + std::to_string(lsn) + std::string(lsn % 7, 'x');
}

// A segment holding records first..last, built by hand; *offsets gets where each one starts.
std::string Segment(Lsn first, Lsn last, std::vector<size_t>* offsets = nullptr) {
  std::string s;
  for (Lsn l = first; l <= last; ++l) {
    if (offsets) offsets->push_back(s.size());
    s += Frame(l, kCommands, Payload(l));
  }
  return s;
}

struct ReadResult {
  std::vector<Record> records;
  Status status;
  std::vector<std::string> warnings;
  WalStats stats;
  Lsn next_lsn = 0;
};

ReadResult ReadAll(const std::string& dir, WalReaderOptions opts = {}) {
  std::unique_ptr<WalReader> reader;
  ReadResult out;
  out.status = WalReader::Open(dir, opts, &reader);
  REQUIRE(out.status.ok());
  Record r;
  while (reader->Next(&r)) out.records.push_back(r);
  out.status = reader->status();
  out.warnings = reader->warnings();
  out.stats = reader->stats();
  out.next_lsn = reader->next_lsn();
  return out;
}

// Checks that the records are exactly first..last with the hand-built payloads.
void CheckRange(const std::vector<Record>& records, Lsn first, Lsn last) {
  REQUIRE(records.size() == last - first + 1);
  for (Lsn l = first; l <= last; ++l) {
    CHECK(records[l - first].lsn == l);
    CHECK(records[l - first].payload == Payload(l));
  }
}

// Reads the whole log in `dir` and checks that it holds exactly records first..last.
void CheckLog(const std::string& dir, Lsn first, Lsn last) {
  auto got = ReadAll(dir);
  CHECK(got.status.ok());
  CheckRange(got.records, first, last);
}

std::unique_ptr<Wal> OpenWal(const std::string& dir, Lsn next, WalOptions opts = {}) {
  std::string err;
  auto wal = Wal::Open(dir, next, opts, &err);
  INFO(err);
  REQUIRE(wal != nullptr);
  return wal;
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CRC-32C
// ---------------------------------------------------------------------------------------------

TEST_CASE("crc32c: known vectors") {
  CHECK(Crc32c(0, "123456789", 9) == 0xE3069283u);
  CHECK(Crc32cPortable(0, "123456789", 9) == 0xE3069283u);
  // RFC 3720 (iSCSI) B.4 test vectors.
  std::string zeros(32, '\0'), ones(32, '\xff'), ascending(32, '\0'), descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  CHECK(Crc32c(0, zeros.data(), 32) == 0x8A9136AAu);
  CHECK(Crc32c(0, ones.data(), 32) == 0x62A8AB43u);
  CHECK(Crc32c(0, ascending.data(), 32) == 0x46DD794Eu);
  CHECK(Crc32c(0, descending.data(), 32) == 0x113FDB5Cu);
  CHECK(Crc32c(0, "", 0) == 0u);
}

TEST_CASE("crc32c: extending equals checksumming the concatenation") {
  const std::string s = "hello, write-ahead log";
  for (size_t split = 0; split <= s.size(); ++split)
    CHECK(Crc32c(Crc32c(0, s.data(), split), s.data() + split, s.size() - split) ==
          Crc32c(0, s.data(), s.size()));
}

TEST_CASE("crc32c: hardware and table implementations agree at every length and alignment") {
  std::mt19937 rng(42);
  std::string buf(300, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t start = 0; start < 9; ++start)
    for (size_t len = 0; start + len <= buf.size(); len += 7)
      CHECK(Crc32c(7, buf.data() + start, len) == Crc32cPortable(7, buf.data() + start, len));
  MESSAGE("crc32c hardware: " << Crc32cHardware());
}

TEST_CASE("crc32c: masking changes the value and round-trips") {
  const uint32_t crc = Crc32c(0, "foo", 3);
  CHECK(MaskCrc(crc) != crc);
  CHECK(MaskCrc(MaskCrc(crc)) != crc);
  CHECK(UnmaskCrc(MaskCrc(crc)) == crc);
  CHECK(UnmaskCrc(UnmaskCrc(MaskCrc(MaskCrc(crc)))) == crc);
}

// ---------------------------------------------------------------------------------------------
// Command payloads
// ---------------------------------------------------------------------------------------------

TEST_CASE("wal: command payloads round-trip") {
  std::vector<std::vector<std::string>> cmds = {
      {"SET", "k", "v", "PXAT", "1700000000000"},
      {"XADD", "s", "1-1", "f", std::string("bin\0ary", 7)},
      {"DEL"},
      {std::string(300, 'z')},
  };
  std::string out;
  EncodeCommands(3, cmds, &out);
  int db = -1;
  std::vector<std::vector<std::string>> back;
  REQUIRE(DecodeCommands(out, &db, &back));
  CHECK(db == 3);
  CHECK(back == cmds);

  // The slice overloads write the same bytes.
  std::vector<std::string_view> argv(cmds[0].begin(), cmds[0].end());
  std::string one, one_ref;
  EncodeCommands(3, std::span<const std::string_view>(argv), &one);
  EncodeCommands(3, std::vector<std::vector<std::string>>{cmds[0]}, &one_ref);
  CHECK(one == one_ref);
  std::vector<std::vector<std::string_view>> views;
  for (const auto& c : cmds) views.emplace_back(c.begin(), c.end());
  std::string many;
  EncodeCommands(3, std::span<const std::vector<std::string_view>>(views), &many);
  CHECK(many == out);

  std::string flush;
  EncodeFlushDb(15, &flush);
  CHECK(DecodeFlushDb(flush, &db));
  CHECK(db == 15);
  CHECK_FALSE(DecodeFlushDb(flush + "x", &db));
}

TEST_CASE("wal: command payloads decode into views of the payload, reusably") {
  std::vector<std::vector<std::string>> cmds = {
      {"MULTI-LIKE", "a"}, {"SET", "k", std::string("bin\0ary", 7)}, {}, {"DEL", "x", "y"}};
  std::string out;
  EncodeCommands(7, 1700000000123, cmds, &out);
  CommandsView view;
  REQUIRE(DecodeCommands(out, &view));
  CHECK(view.db == 7);
  CHECK(view.time_ms == 1700000000123);
  REQUIRE(view.size() == cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) {
    std::span<const std::string_view> argv = view.command(i);
    REQUIRE(argv.size() == cmds[i].size());
    for (size_t j = 0; j < argv.size(); ++j) {
      CHECK(argv[j] == cmds[i][j]);
      // No copies: every argument lies inside the payload.
      CHECK(argv[j].data() >= out.data());
      CHECK(argv[j].data() + argv[j].size() <= out.data() + out.size());
    }
  }
  // Decoding again into the same view replaces what it held.
  std::string small;
  EncodeCommands(0, std::vector<std::vector<std::string>>{{"PING"}}, &small);
  REQUIRE(DecodeCommands(small, &view));
  REQUIRE(view.size() == 1);
  CHECK(view.time_ms == 0);
  REQUIRE(view.command(0).size() == 1);
  CHECK(view.command(0)[0] == "PING");
  CHECK_FALSE(DecodeCommands(out.substr(0, out.size() - 1), &view));
}

TEST_CASE("wal: malformed command payloads are rejected") {
  std::string good;
  EncodeCommands(0, {{"SET", "key", "value"}, {"INCR", "n"}}, &good);
  int db;
  std::vector<std::vector<std::string>> cmds;
  // Every strict prefix is truncated somewhere; one byte more is trailing garbage.
  for (size_t n = 0; n < good.size(); ++n)
    CHECK_FALSE(DecodeCommands(good.substr(0, n), &db, &cmds));
  CHECK_FALSE(DecodeCommands(good + '\0', &db, &cmds));
  // Counts and lengths that promise more than there is must not be trusted.
  std::string lie;
  PutVarint(&lie, 0);
  PutVarint(&lie, 1ull << 40);  // commands
  CHECK_FALSE(DecodeCommands(lie, &db, &cmds));
  lie.clear();
  PutVarint(&lie, 0);
  PutVarint(&lie, 1);
  PutVarint(&lie, 1);
  PutVarint(&lie, UINT64_MAX);  // argument length
  CHECK_FALSE(DecodeCommands(lie, &db, &cmds));
  lie.clear();
  PutVarint(&lie, 1ull << 33);  // db beyond int
  PutVarint(&lie, 0);
  CHECK_FALSE(DecodeCommands(lie, &db, &cmds));
  // An 11-byte varint is malformed.
  CHECK_FALSE(DecodeCommands(std::string(11, '\x80') + '\x01', &db, &cmds));
}

// ---------------------------------------------------------------------------------------------
// Writer and reader
// ---------------------------------------------------------------------------------------------

TEST_CASE("wal: many threads append concurrently; the file has every record once, in order") {
  TempDir dir;
  auto wal = OpenWal(dir.path(), 1);
  constexpr int kThreads = 8, kPerThread = 2000;
  std::vector<std::vector<Lsn>> lsns(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i)
        lsns[t].push_back(wal->Append(kCommands, std::to_string(t) + ":" + std::to_string(i)));
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wal->last_lsn() == kThreads * kPerThread);
  wal->Close();
  CHECK(wal->durable_lsn() == kThreads * kPerThread);

  auto got = ReadAll(dir.path());
  REQUIRE(got.status.ok());
  CHECK(got.warnings.empty());
  REQUIRE(got.records.size() == kThreads * kPerThread);
  std::vector<int> next(kThreads, 0);
  for (size_t i = 0; i < got.records.size(); ++i) {
    const Record& r = got.records[i];
    CHECK(r.lsn == i + 1);
    const int t = std::stoi(r.payload.substr(0, r.payload.find(':')));
    const int seq = std::stoi(r.payload.substr(r.payload.find(':') + 1));
    // Each thread's records appear in the order it appended them, under the LSN it was given.
    CHECK(seq == next[t]++);
    CHECK(lsns[t][seq] == r.lsn);
  }
  CHECK(got.next_lsn == kThreads * kPerThread + 1);
}

TEST_CASE("wal: segments roll at segment_size and are named by their first LSN") {
  TempDir dir;
  WalOptions opts;
  opts.segment_size = 1024;
  opts.fsync = FsyncPolicy::kAlways;  // one drain per record or so: rolls at many points
  auto wal = OpenWal(dir.path(), 1, opts);
  for (Lsn l = 1; l <= 300; ++l) {
    wal->Append(kCommands, Payload(l));
    if (l % 10 == 0) REQUIRE(wal->WaitDurable(l, 10s));
  }
  wal->Close();
  std::vector<SegmentFile> segs;
  REQUIRE(ListSegments(dir.wal(), &segs).ok());
  CHECK(segs.size() > 5);
  CHECK(wal->segment_count() == segs.size());
  uint64_t total = 0;
  for (const auto& seg : segs) {
    total += seg.size;
    // A segment is closed once it passes the limit, so it holds at most one drain beyond it.
    const std::string data = ReadFile(seg.path);
    if (!data.empty()) CHECK(DecodeFixed64(data.data() + kLsnOffset) == seg.first_lsn);
  }
  CHECK(wal->total_bytes() == total);
  auto got = ReadAll(dir.path());
  REQUIRE(got.status.ok());
  CheckRange(got.records, 1, 300);
  CHECK(got.stats.segments == segs.size());
}

TEST_CASE("wal: group commit: one fsync covers many records under concurrency") {
  TempDir dir;
  WalOptions opts;
  opts.fsync = FsyncPolicy::kAlways;
  // A slow disk: while one fsync runs, the other threads' records pile up for the next one.
  opts.inject_fault = [](WalIo io) {
    if (io == WalIo::kSync) std::this_thread::sleep_for(1ms);
    return 0;
  };
  auto wal = OpenWal(dir.path(), 1, opts);
  std::atomic<Lsn> seen_durable{0};
  std::atomic<bool> went_back{false};
  wal->OnDurable([&](Lsn lsn) {
    if (lsn <= seen_durable.load()) went_back = true;
    seen_durable = lsn;
  });
  constexpr int kThreads = 4, kPerThread = 300;
  std::vector<std::thread> threads;
  std::atomic<bool> early{false};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        Lsn lsn = wal->Append(kCommands, "record");
        // Nothing is durable before its fsync: durable never passes the synced position.
        if (wal->durable_lsn() > wal->synced_lsn()) early = true;
        if (i % 50 == 0) CHECK(wal->WaitDurable(lsn, 10s));
      }
    });
  }
  for (auto& th : threads) th.join();
  const Lsn last = wal->last_lsn();
  CHECK(last == kThreads * kPerThread);
  CHECK(wal->WaitDurable(last, 10s));
  CHECK(wal->durable_lsn() == last);
  CHECK(seen_durable.load() == last);
  CHECK_FALSE(went_back.load());
  CHECK_FALSE(early.load());
  CHECK(wal->fsync_count() < last);
  MESSAGE("records: " << last << ", fsyncs: " << wal->fsync_count());
}

TEST_CASE("wal: with appendfsync no nothing is fsynced until asked; durable means written") {
  TempDir dir;
  WalOptions opts;
  opts.fsync = FsyncPolicy::kNo;
  auto wal = OpenWal(dir.path(), 1, opts);
  for (Lsn l = 1; l <= 50; ++l) wal->Append(kCommands, Payload(l));
  CHECK(wal->WaitDurable(50, 10s));
  CHECK(wal->written_lsn() == 50);
  CHECK(wal->fsync_count() == 0);
  CHECK(wal->synced_lsn() == 0);
  // A checkpoint needs the log fsynced up to its LSN whatever the policy.
  CHECK(wal->SyncUpTo(30, 10s));
  CHECK(wal->synced_lsn() >= 30);
  CHECK(wal->fsync_count() == 1);
}

TEST_CASE("wal: everysec fsyncs in the background within about a second") {
  TempDir dir;
  WalOptions opts;
  opts.fsync = FsyncPolicy::kEverySec;
  auto wal = OpenWal(dir.path(), 1, opts);
  wal->Append(kCommands, "a");
  CHECK(wal->WaitDurable(1, 10s));
  wal->Append(kCommands, "b");
  CHECK(WaitFor([&] { return wal->synced_lsn() == 2; }, 3s));
}

TEST_CASE("wal: Commit writes on the calling thread under everysec/no, and fsyncs under always") {
  TempDir dir;
  WalOptions opts;
  opts.fsync = FsyncPolicy::kEverySec;
  auto wal = OpenWal(dir.path(), 1, opts);
  // Appends don't wake the writer thread: Commit (or the writer's sweep) writes them.
  for (Lsn l = 1; l <= 20; ++l) wal->Append(kCommands, Payload(l));
  wal->Commit();
  CHECK(wal->written_lsn() == 20);
  CHECK(wal->durable_lsn() == 20);
  // Everysec still fsyncs in the background what Commit wrote.
  CHECK(WaitFor([&] { return wal->synced_lsn() == 20; }, 3s));

  wal->SetFsyncPolicy(FsyncPolicy::kAlways);
  uint64_t fsyncs = wal->fsync_count();
  Lsn lsn = wal->Append(kCommands, "c");
  wal->Commit();
  CHECK(wal->synced_lsn() >= lsn);
  CHECK(wal->durable_lsn() >= lsn);
  CHECK(wal->fsync_count() > fsyncs);
  wal->Close();
  auto got = ReadAll(dir.path());
  REQUIRE(got.status.ok());
  REQUIRE(got.records.size() == 21);
  got.records.pop_back();
  CheckRange(got.records, 1, 20);
}

TEST_CASE("wal: Commit from many threads at once loses nothing and shares fsyncs") {
  TempDir dir;
  WalOptions opts;
  opts.fsync = FsyncPolicy::kAlways;
  auto wal = OpenWal(dir.path(), 1, opts);
  constexpr int kThreads = 4, kPerThread = 300;
  std::vector<std::thread> threads;
  std::atomic<int> not_durable{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        Lsn lsn = wal->Append(kCommands, "x");
        wal->Commit();
        // Either this call made it durable, or a thread holding the file was asked to: then
        // it is durable soon, without anybody else committing.
        if (!WaitFor([&] { return wal->durable_lsn() >= lsn; }, 5s)) not_durable.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(not_durable.load() == 0);
  CHECK(wal->synced_lsn() == kThreads * kPerThread);
  MESSAGE("records: " << kThreads * kPerThread << ", fsyncs: " << wal->fsync_count());
}

TEST_CASE("wal: records nobody commits reach the disk by the writer thread's sweep") {
  TempDir dir;
  for (FsyncPolicy policy : {FsyncPolicy::kEverySec, FsyncPolicy::kAlways}) {
    WalOptions opts;
    opts.fsync = policy;
    auto wal = OpenWal(dir.path(), policy == FsyncPolicy::kAlways ? 100 : 1, opts);
    Lsn lsn = wal->Append(kCommands, "expired-key deletion");
    CHECK(WaitFor([&] { return wal->durable_lsn() == lsn; }, 3s));
  }
}

TEST_CASE("wal: SetFsyncPolicy switches to always at run time") {
  TempDir dir;
  WalOptions opts;
  opts.fsync = FsyncPolicy::kNo;
  auto wal = OpenWal(dir.path(), 1, opts);
  wal->Append(kCommands, "a");
  CHECK(wal->WaitDurable(1, 10s));
  CHECK(wal->fsync_count() == 0);
  wal->SetFsyncPolicy(FsyncPolicy::kAlways);
  CHECK(wal->fsync_policy() == FsyncPolicy::kAlways);
  Lsn lsn = wal->Append(kCommands, "b");
  CHECK(wal->WaitDurable(lsn, 10s));
  CHECK(wal->synced_lsn() >= lsn);
  CHECK(wal->fsync_count() >= 1);
}

namespace {

// Whether files in `dir` take O_DIRECT (the direct writes' precondition).
bool DirectIoWorks(const std::string& dir) {
  const std::string path = dir + "/probe";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_DIRECT, 0644);
  if (fd >= 0) ::close(fd);
  ::unlink(path.c_str());
  return fd >= 0;
}

}  // namespace

TEST_CASE("wal: always writes straight to the disk, mid-block, across rolls and policy switches") {
  // Records of 27 to 2,026 bytes, each committed alone, end everywhere in 4 KB blocks, so most
  // writes rewrite the block they start in; segments of 30,000 bytes (not a whole number of
  // blocks) roll every 30 records or so; everysec in between writes through the page cache,
  // into the block the next direct write starts in.
  TempDir dir;
  WalOptions opts;
  opts.segment_size = 30000;
  opts.fsync = FsyncPolicy::kAlways;
  auto wal = OpenWal(dir.path(), 1, opts);
  CHECK(wal->direct_io() == DirectIoWorks(dir.wal()));
  std::mt19937 rng(7);
  std::map<Lsn, std::string> want;
  for (int i = 0; i < 300; ++i) {
    if (i == 100) wal->SetFsyncPolicy(FsyncPolicy::kEverySec);
    if (i == 105) {
      // All fsynced first, so that the next write is direct, from inside the block the page
      // cache wrote last (read back to be written again).
      REQUIRE(wal->SyncUpTo(wal->last_lsn(), 10s));
      wal->SetFsyncPolicy(FsyncPolicy::kAlways);
    }
    const std::string payload(rng() % 2000, static_cast<char>('a' + i % 26));
    const Lsn lsn = wal->Append(kCommands, payload);
    want[lsn] = payload;
    REQUIRE(wal->WaitDurable(lsn, 10s));
    if (wal->fsync_policy() == FsyncPolicy::kAlways) CHECK(wal->synced_lsn() >= lsn);
  }
  const uint64_t syncs = wal->fsync_count();
  CHECK(syncs >= 250);  // one per record under always: a direct write counts as one
  wal->Close();
  auto got = ReadAll(dir.path());
  REQUIRE(got.status.ok());
  CHECK(got.warnings.empty());
  REQUIRE(got.records.size() == want.size());
  for (const Record& r : got.records) CHECK(r.payload == want[r.lsn]);
  CHECK(got.stats.segments > 8);
  // Closed segments are cut to their records: no block padding is left behind.
  std::vector<SegmentFile> segs;
  REQUIRE(ListSegments(dir.wal(), &segs).ok());
  uint64_t total = 0;
  for (const auto& seg : segs) total += seg.size;
  CHECK(wal->total_bytes() == total);
}

TEST_CASE("wal: a commit bigger than the direct writes' kept buffer, amid small ones") {
  // The buffer grows for the 3 MB record and shrinks after it, keeping the partial block that
  // the next direct write starts in.
  TempDir dir;
  WalOptions opts;
  opts.segment_size = 8 << 20;
  opts.fsync = FsyncPolicy::kAlways;
  auto wal = OpenWal(dir.path(), 1, opts);
  std::map<Lsn, std::string> want;
  for (int i = 0; i < 21; ++i) {
    const std::string payload(i == 10 ? (3 << 20) + 1000 : 100 + i, static_cast<char>('a' + i));
    const Lsn lsn = wal->Append(kCommands, payload);
    want[lsn] = payload;
    REQUIRE(wal->WaitDurable(lsn, 10s));
  }
  wal->Close();
  auto got = ReadAll(dir.path());
  REQUIRE(got.status.ok());
  REQUIRE(got.records.size() == want.size());
  for (const Record& r : got.records) CHECK(r.payload == want[r.lsn]);
}

TEST_CASE("wal: a reopened log continues in a new segment and reads back whole") {
  TempDir dir;
  auto wal = OpenWal(dir.path(), 1);
  for (Lsn l = 1; l <= 10; ++l) wal->Append(kCommands, Payload(l));
  wal->Close();
  auto first = ReadAll(dir.path());
  REQUIRE(first.status.ok());
  CHECK(first.next_lsn == 11);
  // The old segment holds records from 1 on: a log cannot be restarted there.
  std::string err;
  CHECK(Wal::Open(dir.path(), 1, {}, &err) == nullptr);
  CHECK(err.find(SegmentFileName(1)) != std::string::npos);

  wal = OpenWal(dir.path(), first.next_lsn);
  for (Lsn l = 11; l <= 20; ++l) CHECK(wal->Append(kCommands, Payload(l)) == l);
  wal->Close();
  CHECK(wal->Append(kCommands, "after close") == 0);
  CHECK(fs::exists(dir.segment(11)));
  auto got = ReadAll(dir.path());
  REQUIRE(got.status.ok());
  CheckRange(got.records, 1, 20);
  CHECK(got.stats.segments == 2);
}

TEST_CASE("wal: an empty segment left by a clean shutdown is replaced on reopen") {
  TempDir dir;
  OpenWal(dir.path(), 1)->Close();
  REQUIRE(fs::exists(dir.segment(1)));
  auto got = ReadAll(dir.path());
  CHECK(got.records.empty());
  CHECK(got.next_lsn == 1);
  WriteFile(dir.segment(7) + ".tmp", "left by a rewrite that never finished");
  auto wal = OpenWal(dir.path(), got.next_lsn);
  CHECK_FALSE(fs::exists(dir.segment(7) + ".tmp"));
  CHECK(wal->Append(kCommands, Payload(1)) == 1);
  wal->Close();
  CheckRange(ReadAll(dir.path()).records, 1, 1);
}

TEST_CASE("wal: from_lsn skips older records but still checks them") {
  TempDir dir;
  fs::create_directories(dir.wal());
  WriteFile(dir.segment(1), Segment(1, 20));
  WalReaderOptions opts;
  opts.from_lsn = 15;
  auto got = ReadAll(dir.path(), opts);
  REQUIRE(got.status.ok());
  CheckRange(got.records, 16, 20);
  CHECK(got.stats.records == 20);
  CHECK(got.stats.first_lsn == 1);
  CHECK(got.stats.last_lsn == 20);
}

TEST_CASE("wal: RemoveSegmentsBelow deletes only segments entirely below the LSN") {
  TempDir dir;
  WalOptions opts;
  opts.segment_size = 200;
  opts.fsync = FsyncPolicy::kAlways;
  auto wal = OpenWal(dir.path(), 1, opts);
  for (Lsn l = 1; l <= 100; ++l) REQUIRE(wal->WaitDurable(wal->Append(kCommands, Payload(l)), 10s));
  std::vector<SegmentFile> before;
  REQUIRE(ListSegments(dir.wal(), &before).ok());
  REQUIRE(before.size() > 3);
  const Lsn cut = before[2].first_lsn + 1;  // inside the third segment
  wal->RemoveSegmentsBelow(cut);
  std::vector<SegmentFile> after;
  REQUIRE(ListSegments(dir.wal(), &after).ok());
  CHECK(after.size() == before.size() - 2);
  CHECK(after[0].first_lsn == before[2].first_lsn);
  // The closed segments' bytes on disk are their records (the open one's space is allocated
  // ahead, so its file may be longer than what total_bytes counts until Close).
  uint64_t closed = 0;
  for (size_t i = 0; i + 1 < after.size(); ++i) closed += after[i].size;
  CHECK(wal->total_bytes() > closed);
  // Even a position past everything keeps the current segment.
  wal->RemoveSegmentsBelow(UINT64_MAX);
  REQUIRE(ListSegments(dir.wal(), &after).ok());
  CHECK(after.size() == 1);
  wal->Close();
  REQUIRE(ListSegments(dir.wal(), &after).ok());
  CHECK(wal->total_bytes() == after[0].size);
  WalReaderOptions ropts;
  ropts.from_lsn = after[0].first_lsn - 1;
  auto got = ReadAll(dir.path(), ropts);
  REQUIRE(got.status.ok());
  CheckRange(got.records, after[0].first_lsn, 100);
}

// ---------------------------------------------------------------------------------------------
// Damage
// ---------------------------------------------------------------------------------------------

TEST_CASE("wal: a torn last record is truncated at every byte offset, with a warning") {
  std::vector<size_t> offsets;
  const std::string whole = Segment(1, 5, &offsets);
  const size_t start = offsets.back();
  for (size_t cut = start; cut < whole.size(); ++cut) {
    CAPTURE(cut);
    TempDir dir;
    fs::create_directories(dir.wal());
    WriteFile(dir.segment(1), whole.substr(0, cut));
    auto got = ReadAll(dir.path());
    CHECK(got.status.ok());
    CheckRange(got.records, 1, 4);
    CHECK(got.next_lsn == 5);
    CHECK(fs::file_size(dir.segment(1)) == start);
    if (cut == start) {
      CHECK(got.warnings.empty());  // a clean end between records
      continue;
    }
    REQUIRE(got.warnings.size() == 1);
    CHECK(got.warnings[0].find(dir.segment(1) + " at offset " + std::to_string(start)) !=
          std::string::npos);
    CHECK(got.stats.torn_bytes == cut - start);
    // Truncation is the repair: the next read is clean.
    auto again = ReadAll(dir.path());
    CHECK(again.warnings.empty());
    CheckRange(again.records, 1, 4);
  }
}

TEST_CASE("wal: a last record with a bad checksum and nothing after it is a torn tail") {
  TempDir dir;
  fs::create_directories(dir.wal());
  std::vector<size_t> offsets;
  std::string data = Segment(1, 5, &offsets);
  data[data.size() - 1] ^= 0x01;
  WriteFile(dir.segment(1), data);
  auto got = ReadAll(dir.path());
  CHECK(got.status.ok());
  CheckRange(got.records, 1, 4);
  REQUIRE(got.warnings.size() == 1);
  CHECK(got.warnings[0].find("checksum mismatch") != std::string::npos);
  CHECK(fs::file_size(dir.segment(1)) == offsets.back());
}

TEST_CASE("wal: zeros after the last record (space allocated, never written) end the log quietly") {
  TempDir dir;
  fs::create_directories(dir.wal());
  const std::string data = Segment(1, 3);
  WriteFile(dir.segment(1), data + std::string(100000, '\0'));
  WalReaderOptions read_only;
  read_only.read_only = true;
  auto looked = ReadAll(dir.path(), read_only);
  CHECK(looked.status.ok());
  CheckRange(looked.records, 1, 3);
  CHECK(looked.warnings.empty());
  CHECK(fs::file_size(dir.segment(1)) == data.size() + 100000);
  auto got = ReadAll(dir.path());
  CHECK(got.status.ok());
  CheckRange(got.records, 1, 3);
  CHECK(got.warnings.empty());
  CHECK(got.next_lsn == 4);
  CHECK(got.stats.bytes == data.size());
  CHECK(fs::file_size(dir.segment(1)) == data.size());
}

TEST_CASE("wal: a segment of nothing but allocated space is an empty segment") {
  TempDir dir;
  fs::create_directories(dir.wal());
  WriteFile(dir.segment(1), Segment(1, 3));
  WriteFile(dir.segment(4), std::string(8192, '\0'));
  auto got = ReadAll(dir.path());
  CHECK(got.status.ok());
  CHECK(got.warnings.empty());
  CheckRange(got.records, 1, 3);
  CHECK(got.next_lsn == 4);
  CHECK(fs::file_size(dir.segment(4)) == 0);
  // A writer reopening at LSN 4 replaces it, as it replaces any empty segment.
  auto wal = OpenWal(dir.path(), got.next_lsn);
  CHECK(wal->Append(kCommands, Payload(4)) == 4);
  wal->Close();
  CheckRange(ReadAll(dir.path()).records, 1, 4);
}

TEST_CASE("wal: allocated space at the end of a non-last segment is skipped") {
  TempDir dir;
  fs::create_directories(dir.wal());
  WriteFile(dir.segment(1), Segment(1, 5) + std::string(5000, '\0'));
  WriteFile(dir.segment(6), Segment(6, 8) + std::string(300, '\0'));
  auto got = ReadAll(dir.path());
  CHECK(got.status.ok());
  CHECK(got.warnings.empty());
  CheckRange(got.records, 1, 8);
  // ...but not where records are missing before the next segment starts.
  TempDir gap;
  fs::create_directories(gap.wal());
  WriteFile(gap.segment(1), Segment(1, 4) + std::string(5000, '\0'));
  WriteFile(gap.segment(6), Segment(6, 8));
  CHECK(ReadAll(gap.path()).status.IsCorruption());
}

TEST_CASE("wal: zeros followed by anything else are damage, not the end") {
  TempDir dir;
  fs::create_directories(dir.wal());
  // A zeroed block in the middle of the last segment, records after it.
  WriteFile(dir.segment(1), Segment(1, 3) + std::string(64, '\0') + Segment(4, 5));
  auto got = ReadAll(dir.path());
  CHECK(got.status.IsCorruption());
  CheckRange(got.records, 1, 3);
  // A torn record in allocated space: cut as a torn tail, with its warning.
  TempDir torn;
  fs::create_directories(torn.wal());
  const std::string whole = Segment(1, 3);
  const std::string rec4 = Frame(4, kCommands, Payload(4));
  WriteFile(torn.segment(1), whole + rec4.substr(0, 10) + std::string(4096, '\0'));
  auto cut = ReadAll(torn.path());
  CHECK(cut.status.ok());
  CheckRange(cut.records, 1, 3);
  CHECK(cut.warnings.size() == 1);
  CHECK(fs::file_size(torn.segment(1)) == whole.size());
}

TEST_CASE("wal: a new segment's space is allocated up front; unused space goes on close") {
  TempDir dir;
  WalOptions opts;
  opts.segment_size = 1 << 20;
  opts.fsync = FsyncPolicy::kAlways;
  auto wal = OpenWal(dir.path(), 1, opts);
  // fallocate is optional (tmpfs before 3.5, some FUSE): nothing to check where it is missing.
  const bool allocated = fs::file_size(dir.segment(1)) == opts.segment_size;
  for (Lsn l = 1; l <= 10; ++l) wal->Append(kCommands, Payload(l));
  REQUIRE(wal->WaitDurable(10, 10s));
  if (allocated) CHECK(fs::file_size(dir.segment(1)) == opts.segment_size);
  CHECK(wal->total_bytes() == Segment(1, 10).size());
  wal->Close();
  CHECK(fs::file_size(dir.segment(1)) == Segment(1, 10).size());
  CheckRange(ReadAll(dir.path()).records, 1, 10);
}

TEST_CASE("wal: the next segment is made ahead of time, full of zeros; a roll or a start takes it") {
  TempDir dir;
  WalOptions opts;
  opts.segment_size = 64 << 10;
  opts.fsync = FsyncPolicy::kAlways;
  const std::string spare = dir.wal() + "/spare";
  auto inode = [](const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
  };
  auto wal = OpenWal(dir.path(), 1, opts);
  REQUIRE(WaitFor([&] { return fs::exists(spare); }));
  CHECK(ReadFile(spare) == std::string(opts.segment_size, '\0'));
  const ino_t made = inode(spare);
  Lsn last = 0;
  while (wal->segment_count() < 2) {
    wal->Append(kCommands, Payload(++last));
    REQUIRE(wal->WaitDurable(last, 10s));
  }
  std::vector<SegmentFile> segs;
  REQUIRE(ListSegments(dir.wal(), &segs).ok());
  REQUIRE(segs.size() == 2);
  CHECK(inode(segs[1].path) == made);
  REQUIRE(WaitFor([&] { return fs::exists(spare); }));  // and the one after it
  wal->Close();
  const ino_t kept = inode(spare);
  auto got = ReadAll(dir.path());
  REQUIRE(got.status.ok());
  CheckRange(got.records, 1, last);

  // The next start begins in the spare, unless it was made for another segment size; a spare
  // left half made is removed.
  wal = OpenWal(dir.path(), got.next_lsn, opts);
  CHECK(inode(dir.segment(got.next_lsn)) == kept);
  wal->Append(kCommands, Payload(last + 1));
  REQUIRE(WaitFor([&] { return fs::exists(spare); }));
  wal->Close();
  got = ReadAll(dir.path());
  REQUIRE(got.status.ok());
  CheckRange(got.records, 1, last + 1);
  WriteFile(spare + ".tmp", "half made");
  opts.segment_size = 32 << 10;
  opts.fsync = FsyncPolicy::kEverySec;  // only always makes spares
  wal = OpenWal(dir.path(), got.next_lsn, opts);
  // Not the 64 KB spare (allocated at 32 KB where fallocate works, empty where not).
  CHECK(fs::file_size(dir.segment(got.next_lsn)) <= opts.segment_size);
  CHECK_FALSE(fs::exists(spare));
  CHECK_FALSE(fs::exists(spare + ".tmp"));
  REQUIRE(wal->WaitDurable(wal->Append(kCommands, Payload(last + 2)), 10s));
  CHECK_FALSE(WaitFor([&] { return fs::exists(spare) || fs::exists(spare + ".tmp"); }, 300ms));
  wal->Close();
}

TEST_CASE("wal: read-only reading reports a torn tail without changing the file") {
  TempDir dir;
  fs::create_directories(dir.wal());
  const std::string data = Segment(1, 3) + std::string("\x05\x00", 2);
  WriteFile(dir.segment(1), data);
  WalReaderOptions opts;
  opts.read_only = true;
  auto got = ReadAll(dir.path(), opts);
  CHECK(got.status.ok());
  CHECK(got.warnings.size() == 1);
  CHECK(got.stats.torn_bytes == 2);
  CHECK(fs::file_size(dir.segment(1)) == data.size());
}

TEST_CASE("wal: a flipped bit in a middle record is an error naming file and offset") {
  TempDir dir;
  fs::create_directories(dir.wal());
  std::vector<size_t> offsets;
  std::string data = Segment(1, 10, &offsets);
  data[offsets[4] + kRecordHeaderSize + 2] ^= 0x10;  // in record 5's payload
  WriteFile(dir.segment(1), data);
  auto got = ReadAll(dir.path());
  CHECK(got.status.IsCorruption());
  CHECK(got.status.message().find(dir.segment(1) + " at offset " + std::to_string(offsets[4])) !=
        std::string::npos);
  CHECK(got.status.message().find("checksum mismatch") != std::string::npos);
  CheckRange(got.records, 1, 4);                        // what came before the damage was yielded
  CHECK(fs::file_size(dir.segment(1)) == data.size());  // nothing changed without permission
}

TEST_CASE("wal: with allow_truncate a damaged middle record ends the log there, kept aside") {
  TempDir dir;
  fs::create_directories(dir.wal());
  std::vector<size_t> offsets;
  std::string data = Segment(1, 10, &offsets);
  data[offsets[4] + kRecordHeaderSize + 2] ^= 0x10;
  WriteFile(dir.segment(1), data);
  WriteFile(dir.segment(11), Segment(11, 12));
  WalReaderOptions opts;
  opts.allow_truncate = true;
  auto got = ReadAll(dir.path(), opts);
  CHECK(got.status.ok());
  CheckRange(got.records, 1, 4);
  REQUIRE(got.warnings.size() == 1);
  CHECK(got.warnings[0].find("after LSN 4") != std::string::npos);
  CHECK(got.warnings[0].find(dir.segment(11)) != std::string::npos);
  CHECK(got.next_lsn == 5);
  CHECK(fs::file_size(dir.segment(1)) == offsets[4]);
  CHECK(ReadFile(dir.segment(1) + ".dropped") == data);
  CHECK_FALSE(fs::exists(dir.segment(11)));
  CHECK(fs::exists(dir.segment(11) + ".dropped"));
  // The log continues cleanly where it was cut.
  auto wal = OpenWal(dir.path(), got.next_lsn);
  for (Lsn l = 5; l <= 7; ++l) wal->Append(kCommands, Payload(l));
  wal->Close();
  auto again = ReadAll(dir.path());
  CHECK(again.status.ok());
  CHECK(again.warnings.empty());
  CheckRange(again.records, 1, 7);
}

TEST_CASE("wal: an impossible length in a middle record is an error") {
  TempDir dir;
  fs::create_directories(dir.wal());
  std::vector<size_t> offsets;
  std::string data = Segment(1, 6, &offsets);
  EncodeFixed32(data.data() + offsets[2], 0xfffffff0u);
  WriteFile(dir.segment(1), data);
  auto got = ReadAll(dir.path());
  CHECK(got.status.IsCorruption());
  CHECK(got.status.message().find("offset " + std::to_string(offsets[2])) != std::string::npos);
  CheckRange(got.records, 1, 2);
}

TEST_CASE("wal: an LSN out of order is an error") {
  TempDir dir;
  fs::create_directories(dir.wal());
  const std::string data = Segment(1, 2) + Frame(4, kCommands, Payload(4));
  WriteFile(dir.segment(1), data);
  auto got = ReadAll(dir.path());
  CHECK(got.status.IsCorruption());
  CHECK(got.status.message().find("expected 3, found 4") != std::string::npos);
  CHECK(got.status.message().find("offset " + std::to_string(Segment(1, 2).size())) !=
        std::string::npos);
  // A repeated LSN too, even as the very last record: it is intact, so it is not a torn tail.
  WriteFile(dir.segment(1), Segment(1, 2) + Frame(2, kCommands, Payload(2)));
  CHECK(ReadAll(dir.path()).status.IsCorruption());
}

TEST_CASE("wal: a record whose LSN differs from its segment's name is an error") {
  TempDir dir;
  fs::create_directories(dir.wal());
  WriteFile(dir.segment(1), Segment(1, 3));
  WriteFile(dir.segment(4), Segment(5, 6));
  auto got = ReadAll(dir.path());
  CHECK(got.status.IsCorruption());
  CHECK(got.status.message().find(dir.segment(4) + " at offset 0") != std::string::npos);
}

TEST_CASE("wal: a missing segment is an error; allow_truncate stops before the gap") {
  TempDir dir;
  fs::create_directories(dir.wal());
  WriteFile(dir.segment(1), Segment(1, 5));
  WriteFile(dir.segment(11), Segment(11, 15));  // 6..10 are gone
  WriteFile(dir.segment(16), Segment(16, 20));
  auto got = ReadAll(dir.path());
  CHECK(got.status.IsCorruption());
  CHECK(got.status.message().find("missing") != std::string::npos);
  CHECK(got.status.message().find(dir.segment(1)) != std::string::npos);
  CHECK(got.status.message().find(dir.segment(11)) != std::string::npos);
  CheckRange(got.records, 1, 5);

  WalReaderOptions opts;
  opts.allow_truncate = true;
  got = ReadAll(dir.path(), opts);
  CHECK(got.status.ok());
  CheckRange(got.records, 1, 5);
  CHECK(got.warnings.size() == 1);
  CHECK(got.next_lsn == 6);
  CHECK(fs::exists(dir.segment(11) + ".dropped"));
  CHECK(fs::exists(dir.segment(16) + ".dropped"));
  CHECK(got.stats.dropped_bytes == Segment(11, 15).size() + Segment(16, 20).size());
}

TEST_CASE("wal: a missing first segment is an error unless a checkpoint covers the gap") {
  TempDir dir;
  fs::create_directories(dir.wal());
  WriteFile(dir.segment(6), Segment(6, 9));
  auto got = ReadAll(dir.path());
  CHECK(got.status.IsCorruption());
  CHECK(got.records.empty());
  WalReaderOptions opts;
  opts.from_lsn = 5;
  got = ReadAll(dir.path(), opts);
  CHECK(got.status.ok());
  CheckRange(got.records, 6, 9);
}

TEST_CASE("wal: damage in a non-last segment is never taken for a torn tail") {
  TempDir dir;
  fs::create_directories(dir.wal());
  WriteFile(dir.segment(1), Segment(1, 5).substr(0, Segment(1, 5).size() - 3));
  WriteFile(dir.segment(6), Segment(6, 8));
  auto got = ReadAll(dir.path());
  CHECK(got.status.IsCorruption());
  CheckRange(got.records, 1, 4);
}

TEST_CASE("wal: a later segment supersedes the overlapping end of the one before") {
  // What a failed fsync leaves: the old segment has records past the point where the
  // rewritten segment begins, possibly torn.
  TempDir dir;
  fs::create_directories(dir.wal());
  const std::string old_tail = Segment(1, 8);
  WriteFile(dir.segment(1), old_tail.substr(0, old_tail.size() - 4));
  WriteFile(dir.segment(5), Segment(5, 9));
  auto got = ReadAll(dir.path());
  CHECK(got.status.ok());
  CHECK(got.warnings.empty());
  CheckRange(got.records, 1, 9);
}

// ---------------------------------------------------------------------------------------------
// Disk errors
// ---------------------------------------------------------------------------------------------

namespace {

// A fault hook whose errno per call type the test sets and clears; counts the calls.
struct Faults {
  std::atomic<int> write{0}, sync{0}, create{0};
  std::atomic<int> sync_once{0}, write_once{0};  // failed once, then cleared
  std::atomic<int> syncs{0};
  WalOptions Options(FsyncPolicy policy, bool direct_io = true) {
    WalOptions opts;
    opts.fsync = policy;
    opts.direct_io = direct_io;
    opts.retry_interval = 20ms;
    opts.inject_fault = [this](WalIo io) {
      switch (io) {
        case WalIo::kWrite:
          if (int e = write_once.exchange(0)) return e;
          return write.load();
        case WalIo::kCreate:
          return create.load();
        case WalIo::kSync:
          syncs++;
          if (int e = sync_once.exchange(0)) return e;
          return sync.load();
      }
      return 0;
    };
    return opts;
  }
};

void AppendRange(Wal* wal, Lsn first, Lsn last) {
  for (Lsn l = first; l <= last; ++l) REQUIRE(wal->Append(kCommands, Payload(l)) == l);
}

// A log in `dir` whose system calls `faults` can fail, with records 1..last durable.
std::unique_ptr<Wal> OpenDurable(const TempDir& dir, Faults& faults, FsyncPolicy policy,
                                 bool direct, Lsn last) {
  auto wal = OpenWal(dir.path(), 1, faults.Options(policy, direct));
  AppendRange(wal.get(), 1, last);
  REQUIRE(wal->WaitDurable(last, 10s));
  return wal;
}

// Runs `body` with `always` writing straight to the disk, then through the page cache.
void ForBothWritePaths(const std::function<void(bool direct)>& body) {
  for (const bool direct : {true, false}) {
    CAPTURE(direct);
    body(direct);
  }
}

void CheckWriteErrorRecovers(int err, const char* text, FsyncPolicy policy, bool direct = true) {
  CAPTURE(direct);
  TempDir dir;
  Faults faults;
  auto wal = OpenDurable(dir, faults, policy, direct, 10);
  CHECK(wal->healthy());

  faults.write = err;
  AppendRange(wal.get(), 11, 20);
  REQUIRE(WaitFor([&] { return !wal->healthy(); }));
  CHECK(wal->last_error() == std::string("Write error: ") + text);
  CHECK(wal->durable_lsn() == 10);    // nothing after the failure is acknowledged
  std::this_thread::sleep_for(60ms);  // a few retries, all failing
  CHECK_FALSE(wal->healthy());
  AppendRange(wal.get(), 21, 25);  // appends still work (the server refuses writes meanwhile)

  faults.write = 0;
  CHECK(wal->WaitDurable(25, 10s));
  CHECK(wal->healthy());
  AppendRange(wal.get(), 26, 30);
  wal->Close();
  auto got = ReadAll(dir.path());
  CHECK(got.status.ok());
  CHECK(got.warnings.empty());
  CheckRange(got.records, 1, 30);
}

}  // namespace

TEST_CASE("wal: ENOSPC on write: unhealthy, then healthy again, nothing lost") {
  CheckWriteErrorRecovers(ENOSPC, "No space left on device", FsyncPolicy::kAlways);
  CheckWriteErrorRecovers(ENOSPC, "No space left on device", FsyncPolicy::kAlways, false);
  CheckWriteErrorRecovers(ENOSPC, "No space left on device", FsyncPolicy::kEverySec);
}

TEST_CASE("wal: EIO on write: unhealthy, then healthy again, nothing lost") {
  CheckWriteErrorRecovers(EIO, "Input/output error", FsyncPolicy::kAlways);
  CheckWriteErrorRecovers(EIO, "Input/output error", FsyncPolicy::kAlways, false);
  CheckWriteErrorRecovers(EIO, "Input/output error", FsyncPolicy::kNo);
}

TEST_CASE("wal: a direct write the file system refuses falls back to write + fsync for good") {
  TempDir dir;
  Faults faults;
  auto wal = OpenDurable(dir, faults, FsyncPolicy::kAlways, true, 5);
  REQUIRE(wal->direct_io() == DirectIoWorks(dir.wal()));
  if (!wal->direct_io()) {
    MESSAGE("no O_DIRECT in " << dir.wal() << ": nothing to fall back from");
    return;
  }
  faults.write_once = EINVAL;  // what a refused O_DIRECT or RWF_DSYNC write returns
  AppendRange(wal.get(), 6, 10);
  REQUIRE(wal->WaitDurable(10, 10s));
  CHECK(wal->healthy());  // a refusal is not a disk error
  CHECK_FALSE(wal->direct_io());
  AppendRange(wal.get(), 11, 15);  // through the page cache, each with an fsync
  REQUIRE(wal->WaitDurable(15, 10s));
  CHECK(wal->synced_lsn() == 15);
  CHECK_FALSE(wal->direct_io());
  wal->Close();
  CheckLog(dir.path(), 1, 15);
}

TEST_CASE("wal: a failed fsync is not retried on the same file: the records go to a new one") {
  ForBothWritePaths([](bool direct) {
    TempDir dir;
    Faults faults;
    auto wal = OpenDurable(dir, faults, FsyncPolicy::kAlways, direct, 10);

    faults.sync = EIO;
    AppendRange(wal.get(), 11, 20);
    REQUIRE(WaitFor([&] { return !wal->healthy(); }));
    CHECK(wal->last_error() == "Fsync error: Input/output error");
    std::this_thread::sleep_for(60ms);
    CHECK(wal->durable_lsn() == 10);  // written, but not acknowledged under `always`
    faults.sync = 0;
    REQUIRE(wal->WaitDurable(20, 10s));
    CHECK(wal->healthy());
    AppendRange(wal.get(), 21, 22);
    wal->Close();

    // Segment 1 keeps 1..10, and 11..20 too if they went through the page cache (never known
    // to be on disk); segment 11 has them again.
    CHECK(fs::exists(dir.segment(1)));
    CHECK(fs::exists(dir.segment(11)));
    const std::string rewritten = ReadFile(dir.segment(11));
    REQUIRE(rewritten.size() >= kRecordHeaderSize);
    CHECK(DecodeFixed64(rewritten.data() + kLsnOffset) == 11);
    CheckLog(dir.path(), 1, 22);
  });
}

TEST_CASE("wal: a failed fsync of a segment's first records replaces that segment whole") {
  ForBothWritePaths([](bool direct) {
    TempDir dir;
    Faults faults;
    auto wal = OpenWal(dir.path(), 1, faults.Options(FsyncPolicy::kAlways, direct));
    faults.sync_once = EIO;
    AppendRange(wal.get(), 1, 5);
    REQUIRE(wal->WaitDurable(5, 10s));
    CHECK(wal->healthy());
    CHECK(wal->last_error() == "Fsync error: Input/output error");
    wal->Close();
    std::vector<SegmentFile> segs;
    REQUIRE(ListSegments(dir.wal(), &segs).ok());
    REQUIRE(segs.size() == 1);
    CHECK(segs[0].first_lsn == 1);
    CHECK_FALSE(fs::exists(dir.segment(1) + ".tmp"));
    CheckRange(ReadAll(dir.path()).records, 1, 5);
  });
}

namespace {

// A fault hook that holds every fsync until the test lets it go, and can fail the next one.
struct SyncGate {
  std::mutex mu;
  std::condition_variable cv;
  bool in_sync = false;
  bool open = false;
  int fail_next = 0;
  WalOptions Options() {
    WalOptions opts;
    opts.fsync = FsyncPolicy::kEverySec;
    opts.retry_interval = 20ms;
    opts.inject_fault = [this](WalIo io) {
      if (io != WalIo::kSync) return 0;
      std::unique_lock lock(mu);
      in_sync = true;
      cv.notify_all();
      cv.wait(lock, [&] { return open; });
      return std::exchange(fail_next, 0);
    };
    return opts;
  }
  bool WaitInSync() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 5s, [&] { return in_sync; });
  }
  void Open(int fail = 0) {
    {
      std::lock_guard lock(mu);
      open = true;
      fail_next = fail;
    }
    cv.notify_all();
  }
};

// An everysec log whose first fsync (of records 1..10) is held while 11..20 are committed.
std::unique_ptr<Wal> WriteDuringHeldFsync(TempDir& dir, SyncGate& gate) {
  auto wal = OpenWal(dir.path(), 1, gate.Options());
  AppendRange(wal.get(), 1, 10);
  wal->Commit();
  REQUIRE(gate.WaitInSync());  // the writer thread's once-a-second fsync, held
  AppendRange(wal.get(), 11, 20);
  wal->Commit();
  return wal;
}

}  // namespace

TEST_CASE("wal: everysec's fsync does not hold the file: records are written while it runs") {
  TempDir dir;
  SyncGate gate;
  auto wal = WriteDuringHeldFsync(dir, gate);
  CHECK(wal->written_lsn() == 20);
  CHECK(wal->durable_lsn() == 20);  // everysec: written is acknowledged
  CHECK(wal->synced_lsn() == 0);
  gate.Open();
  // That fsync covers 1..10; the next one the rest.
  CHECK(WaitFor([&] { return wal->synced_lsn() >= 10; }, 3s));
  CHECK(WaitFor([&] { return wal->synced_lsn() == 20; }, 3s));
  CHECK(wal->healthy());
  wal->Close();
  CheckLog(dir.path(), 1, 20);
}

TEST_CASE("wal: a failed everysec fsync rewrites what was written during it too") {
  TempDir dir;
  SyncGate gate;
  auto wal = WriteDuringHeldFsync(dir, gate);
  gate.Open(EIO);
  REQUIRE(WaitFor([&] { return !wal->healthy(); }));
  CHECK(wal->last_error() == "Fsync error: Input/output error");
  // The retry writes 1..20 to a new segment named by LSN 1, replacing the first whole.
  REQUIRE(WaitFor([&] { return wal->healthy() && wal->synced_lsn() == 20; }));
  AppendRange(wal.get(), 21, 25);
  wal->Close();
  CheckLog(dir.path(), 1, 25);
}

TEST_CASE("wal: a segment that cannot be created at a roll is retried") {
  ForBothWritePaths([](bool direct) {
    TempDir dir;
    Faults faults;
    WalOptions opts = faults.Options(FsyncPolicy::kAlways, direct);
    opts.segment_size = 100;
    auto wal = OpenWal(dir.path(), 1, opts);
    faults.create = ENOSPC;
    AppendRange(wal.get(), 1, 5);  // 5 x 27 bytes: past the limit
    REQUIRE(WaitFor([&] { return !wal->healthy(); }));
    CHECK(wal->durable_lsn() >= 4);  // the full segment itself was fsynced
    AppendRange(wal.get(), 6, 8);
    faults.create = 0;
    REQUIRE(wal->WaitDurable(8, 10s));
    wal->Close();
    auto got = ReadAll(dir.path());
    CHECK(got.status.ok());
    CheckRange(got.records, 1, 8);
    CHECK(got.stats.segments >= 2);
  });
}

TEST_CASE("wal: records acknowledged before repeated failures survive a crash-like reopen") {
  ForBothWritePaths([](bool direct) {
    TempDir dir;
    Faults faults;
    auto wal = OpenDurable(dir, faults, FsyncPolicy::kAlways, direct, 10);
    faults.write = ENOSPC;
    faults.sync = EIO;
    AppendRange(wal.get(), 11, 15);
    REQUIRE(WaitFor([&] { return !wal->healthy(); }));
    const Lsn acknowledged = wal->durable_lsn();
    wal->Close();  // still failing: 11..15 were never acknowledged
    CHECK_FALSE(wal->healthy());
    auto got = ReadAll(dir.path());
    CHECK(got.status.ok());
    REQUIRE(got.records.size() >= acknowledged);
    CheckRange(std::vector<Record>(got.records.begin(), got.records.begin() + acknowledged), 1,
               acknowledged);
  });
}
