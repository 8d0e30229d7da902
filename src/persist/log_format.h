// The write-ahead log's on-disk format; docs/PERSISTENCE.md has the byte diagram and the rules
// for reading it back. Every record is framed on its own (no blocks): segments are written
// whole records at a time and only the tail of the last one can be torn.
//
//   +-----------+-----------+---------+--------+-----------------+
//   | length 4  | crc32c 4  | lsn 8   | type 1 | payload (length)|
//   +-----------+-----------+---------+--------+-----------------+
//
// Little-endian. `crc32c` is the masked CRC-32C of lsn, type and payload. Segments are files
// wal/<first lsn as %016llu>.log.
#pragma once

#include <cstddef>
#include <cstdint>

namespace runnel::persist {

using Lsn = uint64_t;

enum RecordType : uint8_t {
  kCommands = 1,  // command_codec.h: db, then whole commands applied together
  kFlushAll = 2,  // empty payload
  kFlushDb = 3,   // payload: db (varint)
};

constexpr size_t kRecordHeaderSize = 4 + 4 + 8 + 1;
// Offsets inside the header.
constexpr size_t kLengthOffset = 0;
constexpr size_t kCrcOffset = 4;
constexpr size_t kLsnOffset = 8;
constexpr size_t kTypeOffset = 16;
// Largest payload a record may carry; a reader treats a bigger length as damage.
constexpr uint32_t kMaxRecordPayload = 1u << 30;

constexpr const char* kWalDirName = "wal";
constexpr const char* kSegmentSuffix = ".log";
constexpr uint64_t kDefaultSegmentSize = 64ull << 20;

}  // namespace runnel::persist
