// powerloss-shim: an LD_PRELOAD library for `scripts/crash-test.sh` with POWERLOSS=1. For every
// fsync or fdatasync that succeeds, and every write made with RWF_DSYNC, it notes how far the
// file was durable then, so that after kill -9 `crash-writer powerloss` can take from the log
// segments what a power loss could have taken: everything nothing made durable.
//
// Journal ($POWERLOSS_JOURNAL, appended to): one line per durable point, "<bytes> <path>",
// written before the call returns, so before the server can acknowledge anything it covered.
// For an fsync, <bytes> is where the last write(2), pwrite(2) or lseek(2) on that descriptor
// ended when the fsync began. The log writes each segment front to back, so that is the length
// of the segment's records then. Through a descriptor that neither wrote nor moved (recovery's,
// which cuts segments to their records and fsyncs them), an fsync covers the file as it stands:
// <bytes> is its size. For a write with RWF_DSYNC (appendfsync always), <bytes> is where it
// ended. Other ways of writing are not tracked.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr int kMaxFd = 1 << 16;
std::atomic<int64_t> g_position[kMaxFd];  // position + 1; 0: no write or lseek since open
int g_journal = -1;

template <class Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

using WriteFn = ssize_t (*)(int, const void*, size_t);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using Pwritev2Fn = ssize_t (*)(int, const iovec*, int, off_t, int);
using SeekFn = off_t (*)(int, off_t, int);
using SyncFn = int (*)(int);
using CloseFn = int (*)(int);

WriteFn RealWrite() {
  static WriteFn fn = Real<WriteFn>("write");
  return fn;
}

SeekFn RealSeek() {
  static SeekFn fn = Real<SeekFn>("lseek");
  return fn;
}

bool Tracked(int fd) { return fd >= 0 && fd < kMaxFd && fd != g_journal; }

void Note(int fd, int64_t bytes) {
  char link[64];
  char path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = '\0';
  char line[sizeof path + 32];
  const int len =
      std::snprintf(line, sizeof line, "%lld %s\n", static_cast<long long>(bytes), path);
  if (len > 0) RealWrite()(g_journal, line, static_cast<size_t>(len));  // O_APPEND: whole lines
}

void NoteKeepingErrno(int fd, int64_t bytes) {
  const int saved = errno;
  Note(fd, bytes);
  errno = saved;
}

int Synced(int fd, int (*real)(int)) {
  int64_t bytes = -1;  // -1: nothing to note
  if (Tracked(fd)) {
    bytes = g_position[fd].load() - 1;
    struct stat st;
    if (bytes < 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) bytes = st.st_size;
  }
  const int rc = real(fd);
  if (rc == 0 && bytes >= 0 && g_journal >= 0) NoteKeepingErrno(fd, bytes);
  return rc;
}

__attribute__((constructor)) void Init() {
  if (const char* path = std::getenv("POWERLOSS_JOURNAL"))
    g_journal = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  const ssize_t w = RealWrite()(fd, buf, n);
  if (w > 0 && Tracked(fd)) {
    const int saved = errno;
    const off_t pos = RealSeek()(fd, 0, SEEK_CUR);  // fails (ESPIPE) on sockets and pipes
    if (pos >= 0) g_position[fd].store(pos + 1);
    errno = saved;
  }
  return w;
}

// The server is built with 64-bit file offsets, so it calls pwrite and pwritev2 by their *64
// names.
ssize_t pwrite64(int fd, const void* buf, size_t n, off_t offset) {
  static PwriteFn real = Real<PwriteFn>("pwrite64");
  const ssize_t w = real(fd, buf, n, offset);
  if (w > 0 && Tracked(fd)) g_position[fd].store(offset + w + 1);
  return w;
}

ssize_t pwritev64v2(int fd, const iovec* iov, int count, off_t offset, int flags) {
  static Pwritev2Fn real = Real<Pwritev2Fn>("pwritev64v2");
  const ssize_t w = real(fd, iov, count, offset, flags);
  if (w > 0 && Tracked(fd) && offset >= 0) {
    g_position[fd].store(offset + w + 1);
    if ((flags & RWF_DSYNC) != 0 && g_journal >= 0) NoteKeepingErrno(fd, offset + w);
  }
  return w;
}

off_t lseek(int fd, off_t offset, int whence) {
  const off_t pos = RealSeek()(fd, offset, whence);
  if (pos >= 0 && Tracked(fd)) g_position[fd].store(pos + 1);
  return pos;
}

int fsync(int fd) {
  static SyncFn real = Real<SyncFn>("fsync");
  return Synced(fd, real);
}

int fdatasync(int fd) {
  static SyncFn real = Real<SyncFn>("fdatasync");
  return Synced(fd, real);
}

int close(int fd) {
  static CloseFn real = Real<CloseFn>("close");
  if (Tracked(fd)) g_position[fd].store(0);
  return real(fd);
}

}  // extern "C"
