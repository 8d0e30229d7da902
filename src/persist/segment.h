// Naming and listing of log segments: wal/<first lsn as %016llu>.log, ordered by first LSN.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "persist/log_format.h"
#include "persist/status.h"

namespace runnel::persist {

struct SegmentFile {
  Lsn first_lsn = 0;
  std::string path;
  uint64_t size = 0;
};

std::string SegmentFileName(Lsn first_lsn);
// True for exactly 16 digits followed by ".log"; sets *first_lsn.
bool ParseSegmentFileName(std::string_view name, Lsn* first_lsn);
// The segments in `wal_dir` sorted by first LSN; other files are ignored. A missing directory
// is an empty log.
Status ListSegments(const std::string& wal_dir, std::vector<SegmentFile>* out);

}  // namespace runnel::persist
