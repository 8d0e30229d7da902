// POSIX file helpers for src/persist.
#include "persist/file_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runnel::persist {

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r may return a static string instead of filling buf.
  return strerror_r(err, buf, sizeof buf);
}

int WriteAll(int fd, const char* data, size_t n, int64_t offset) {
  while (n > 0) {
    ssize_t w = offset < 0 ? ::write(fd, data, n) : ::pwrite(fd, data, n, offset);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += w;
    n -= static_cast<size_t>(w);
    if (offset >= 0) offset += w;
  }
  return 0;
}

Status MakeDirs(const std::string& path) {
  std::string prefix;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return Status::IoError("cannot create directory " + prefix + ": " + ErrnoText(errno));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::IoError(path + " is not a directory");
  return Status::Ok();
}

namespace {

int FsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return errno;
  int err = ::fsync(fd) != 0 ? errno : 0;
  ::close(fd);
  return err;
}

}  // namespace

int FsyncDir(const std::string& path) { return FsyncPath(path, O_DIRECTORY); }

int FsyncFile(const std::string& path) { return FsyncPath(path, 0); }

Status SyncDir(const std::string& path) {
  int err = FsyncDir(path);
  if (err != 0) return Status::IoError("cannot fsync directory " + path + ": " + ErrnoText(err));
  return Status::Ok();
}

Status ReadWholeFile(const std::string& path, std::string* out) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + path + ": " + ErrnoText(errno));
  // Reads straight into the string, sized from fstat; grows if the file turns out longer.
  struct stat st;
  size_t size = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  out->resize(size + 1);
  size_t used = 0;
  while (true) {
    if (used == out->size()) out->resize(out->size() * 2);
    ssize_t r = ::read(fd, out->data() + used, out->size() - used);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int err = errno;
      ::close(fd);
      out->clear();
      return Status::IoError("cannot read " + path + " at offset " + std::to_string(used) + ": " +
                             ErrnoText(err));
    }
    if (r == 0) break;
    used += static_cast<size_t>(r);
  }
  ::close(fd);
  out->resize(used);
  return Status::Ok();
}

Status MappedFile::Map(const std::string& path) {
  Unmap();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + path + ": " + ErrnoText(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IoError("cannot stat " + path + ": " + ErrnoText(err));
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    // MAP_POPULATE: the file is read whole anyway; map it all at once instead of page by page.
    void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (addr == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return Status::IoError("cannot map " + path + ": " + ErrnoText(err));
    }
    addr_ = addr;
    size_ = size;
  }
  ::close(fd);
  return Status::Ok();
}

void MappedFile::Unmap() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

Status WriteFileDurably(const std::string& dir, const std::string& name, const std::string& data) {
  const std::string path = JoinPath(dir, name);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot create " + tmp + ": " + ErrnoText(errno));
  int err = WriteAll(fd, data.data(), data.size());
  const char* what = "write";
  if (err == 0 && ::fsync(fd) != 0) {
    err = errno;
    what = "fsync";
  }
  ::close(fd);
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    what = "rename";
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
    return Status::IoError(std::string("cannot ") + what + " " + tmp + ": " + ErrnoText(err));
  }
  return SyncDir(dir);
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_size;
}

}  // namespace runnel::persist
