// The payload of a kCommands log record: the database, the time the commands ran at (so a
// replay sees the clock they saw), then one or more whole commands (the effect of one client
// command, or a whole MULTI/EXEC) that recovery replays together.
//
//   db (varint) | time_ms (varint, 0 = not recorded) | count (varint) |
//   count x [ argc (varint) | argc x [ len (varint) | bytes ] ]
//
// Decoding checks every count and length against the bytes left, so a damaged or hostile
// payload is rejected, never trusted.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace runnel::persist {

void EncodeCommands(int db, int64_t time_ms, const std::vector<std::vector<std::string>>& cmds,
                    std::string* out);
// One command, from argument slices (no copies until they reach `out`).
void EncodeCommands(int db, int64_t time_ms, std::span<const std::string_view> argv,
                    std::string* out);
// Several commands from slices (a transaction).
void EncodeCommands(int db, int64_t time_ms, std::span<const std::vector<std::string_view>> cmds,
                    std::string* out);
// The same without a time (time_ms 0).
void EncodeCommands(int db, const std::vector<std::vector<std::string>>& cmds, std::string* out);
void EncodeCommands(int db, std::span<const std::string_view> argv, std::string* out);
void EncodeCommands(int db, std::span<const std::vector<std::string_view>> cmds, std::string* out);

// False on malformed input (truncated, trailing bytes, impossible counts, db out of int range).
bool DecodeCommands(std::string_view payload, int* db, int64_t* time_ms,
                    std::vector<std::vector<std::string>>* cmds);
bool DecodeCommands(std::string_view payload, int* db, std::vector<std::vector<std::string>>* cmds);

// kFlushDb's payload.
void EncodeFlushDb(int db, std::string* out);
bool DecodeFlushDb(std::string_view payload, int* db);

}  // namespace runnel::persist
