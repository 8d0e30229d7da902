// Segment file names and directory listing.
#include "persist/segment.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "persist/file_util.h"

namespace runnel::persist {

std::string SegmentFileName(Lsn first_lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llu%s", static_cast<unsigned long long>(first_lsn),
                kSegmentSuffix);
  return buf;
}

bool ParseSegmentFileName(std::string_view name, Lsn* first_lsn) {
  constexpr size_t kDigits = 16;
  if (name.size() != kDigits + 4 || name.substr(kDigits) != kSegmentSuffix) return false;
  Lsn v = 0;
  for (size_t i = 0; i < kDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + static_cast<Lsn>(name[i] - '0');
  }
  *first_lsn = v;
  return true;
}

Status ListSegments(const std::string& wal_dir, std::vector<SegmentFile>* out) {
  out->clear();
  DIR* d = ::opendir(wal_dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::Ok();
    return Status::IoError("cannot list " + wal_dir + ": " + ErrnoText(errno));
  }
  while (struct dirent* ent = ::readdir(d)) {
    SegmentFile seg;
    if (!ParseSegmentFileName(ent->d_name, &seg.first_lsn)) continue;
    seg.path = JoinPath(wal_dir, ent->d_name);
    struct stat st;
    if (::stat(seg.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    seg.size = static_cast<uint64_t>(st.st_size);
    out->push_back(std::move(seg));
  }
  ::closedir(d);
  std::sort(out->begin(), out->end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_lsn < b.first_lsn; });
  return Status::Ok();
}

}  // namespace runnel::persist
