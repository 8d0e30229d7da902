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

// Builds a kCommands payload one command at a time, encoding each as it comes (the count goes
// in front, so the commands wait in a body until Finish). Reused, it allocates nothing once
// its buffer has grown.
class CommandsBuilder {
 public:
  void Add(std::span<const std::string_view> argv);
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Sets *out to the whole payload.
  void Finish(int db, int64_t time_ms, std::string* out) const;
  void Clear() {
    count_ = 0;
    body_.clear();
  }

 private:
  size_t count_ = 0;
  std::string body_;
};

// A decoded kCommands payload whose arguments point into the payload, so decoding allocates
// nothing once the vectors have grown (recovery decodes millions of records with one of these).
class CommandsView {
 public:
  int db = 0;
  int64_t time_ms = 0;
  size_t size() const { return ends_.size(); }
  std::span<const std::string_view> command(size_t i) const {
    size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::span<const std::string_view>(args_).subspan(begin, ends_[i] - begin);
  }

 private:
  friend bool DecodeCommands(std::string_view payload, CommandsView* out);
  std::vector<std::string_view> args_;  // every command's arguments, one command after another
  std::vector<size_t> ends_;            // one past each command's last argument in args_
};

// False on malformed input (truncated, trailing bytes, impossible counts, db out of int range).
// The views stay valid while `payload`'s bytes do.
bool DecodeCommands(std::string_view payload, CommandsView* out);
bool DecodeCommands(std::string_view payload, int* db, int64_t* time_ms,
                    std::vector<std::vector<std::string>>* cmds);
bool DecodeCommands(std::string_view payload, int* db, std::vector<std::vector<std::string>>* cmds);

// kFlushDb's payload.
void EncodeFlushDb(int db, std::string* out);
bool DecodeFlushDb(std::string_view payload, int* db);

}  // namespace runnel::persist
