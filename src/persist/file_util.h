// Thin wrappers over the POSIX calls the log and checkpoints need, returning errno values or a
// Status that names the path, instead of throwing or logging.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "persist/status.h"

namespace runnel::persist {

std::string JoinPath(const std::string& dir, const std::string& name);
// "No space left on device" for ENOSPC.
std::string ErrnoText(int err);

// Writes all n bytes (retrying short writes and EINTR) at the file position, or from `offset`
// (pwrite, leaving the position alone) if one is given; returns 0 or the errno.
int WriteAll(int fd, const char* data, size_t n, int64_t offset = -1);
// Creates `path` and any missing parents.
Status MakeDirs(const std::string& path);
// Makes a directory's entries (created, renamed files) durable.
Status SyncDir(const std::string& path);
// The same, returning 0 or the errno.
int FsyncDir(const std::string& path);
// Makes a file's contents durable (opened read-only: fsync flushes the file, whoever wrote it);
// returns 0 or the errno.
int FsyncFile(const std::string& path);
Status ReadWholeFile(const std::string& path, std::string* out);
// Writes `path` through `path`.tmp: write, fsync, rename, fsync the directory.
Status WriteFileDurably(const std::string& dir, const std::string& name, const std::string& data);
// Size of a file, or -1 if it cannot be stat'ed.
int64_t FileSize(const std::string& path);

// A file mapped read-only: its bytes come straight from the page cache, with no copy and no
// buffer to clear first. The bytes are those the file had when mapped; it must not be cut
// shorter while they are read.
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile() { Unmap(); }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path` (unmapping what was mapped before).
  Status Map(const std::string& path);
  void Unmap();
  std::string_view data() const { return {static_cast<const char*>(addr_), size_}; }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace runnel::persist
