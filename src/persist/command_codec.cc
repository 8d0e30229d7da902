// Encoding and checked decoding of kCommands and kFlushDb payloads.
#include "persist/command_codec.h"

#include <climits>

#include "persist/coding.h"

namespace runnel::persist {

namespace {

void PutPrefix(int db, int64_t time_ms, size_t count, std::string* out) {
  PutVarint(out, static_cast<uint64_t>(db));
  PutVarint(out, static_cast<uint64_t>(time_ms));
  PutVarint(out, count);
}

template <typename Args>
void PutCommand(const Args& argv, std::string* out) {
  PutVarint(out, argv.size());
  for (const auto& arg : argv) PutLengthPrefixed(out, arg);
}

bool GetDb(std::string_view* in, int* db) {
  uint64_t v;
  if (!GetVarint(in, &v) || v > INT_MAX) return false;
  *db = static_cast<int>(v);
  return true;
}

}  // namespace

void EncodeCommands(int db, int64_t time_ms, const std::vector<std::vector<std::string>>& cmds,
                    std::string* out) {
  PutPrefix(db, time_ms, cmds.size(), out);
  for (const auto& argv : cmds) PutCommand(argv, out);
}

void CommandsBuilder::Add(std::span<const std::string_view> argv) {
  PutCommand(argv, &body_);
  ++count_;
}

void CommandsBuilder::Finish(int db, int64_t time_ms, std::string* out) const {
  out->clear();
  PutPrefix(db, time_ms, count_, out);
  out->append(body_);
}

void EncodeCommands(int db, int64_t time_ms, std::span<const std::string_view> argv,
                    std::string* out) {
  PutPrefix(db, time_ms, 1, out);
  PutCommand(argv, out);
}

void EncodeCommands(int db, int64_t time_ms, std::span<const std::vector<std::string_view>> cmds,
                    std::string* out) {
  PutPrefix(db, time_ms, cmds.size(), out);
  for (const auto& argv : cmds) PutCommand(argv, out);
}

void EncodeCommands(int db, const std::vector<std::vector<std::string>>& cmds, std::string* out) {
  EncodeCommands(db, 0, cmds, out);
}

void EncodeCommands(int db, std::span<const std::string_view> argv, std::string* out) {
  EncodeCommands(db, 0, argv, out);
}

void EncodeCommands(int db, std::span<const std::vector<std::string_view>> cmds, std::string* out) {
  EncodeCommands(db, 0, cmds, out);
}

bool DecodeCommands(std::string_view in, CommandsView* out) {
  out->args_.clear();
  out->ends_.clear();
  uint64_t time, count;
  if (!GetDb(&in, &out->db) || !GetVarint(&in, &time) || !GetVarint(&in, &count)) return false;
  out->time_ms = static_cast<int64_t>(time);
  // Every command takes at least one byte (its argc), every argument at least one (its
  // length): counts larger than the bytes left are lies, and must not size allocations.
  if (count > in.size()) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t argc;
    if (!GetVarint(&in, &argc) || argc > in.size()) return false;
    for (uint64_t j = 0; j < argc; ++j) {
      std::string_view arg;
      if (!GetLengthPrefixed(&in, &arg)) return false;
      out->args_.push_back(arg);
    }
    out->ends_.push_back(out->args_.size());
  }
  return in.empty();
}

bool DecodeCommands(std::string_view in, int* db, int64_t* time_ms,
                    std::vector<std::vector<std::string>>* cmds) {
  cmds->clear();
  CommandsView view;
  if (!DecodeCommands(in, &view)) return false;
  *db = view.db;
  *time_ms = view.time_ms;
  cmds->reserve(view.size());
  for (size_t i = 0; i < view.size(); ++i) {
    std::span<const std::string_view> argv = view.command(i);
    cmds->emplace_back(argv.begin(), argv.end());
  }
  return true;
}

bool DecodeCommands(std::string_view payload, int* db,
                    std::vector<std::vector<std::string>>* cmds) {
  int64_t time_ms;
  return DecodeCommands(payload, db, &time_ms, cmds);
}

void EncodeFlushDb(int db, std::string* out) { PutVarint(out, static_cast<uint64_t>(db)); }

bool DecodeFlushDb(std::string_view in, int* db) { return GetDb(&in, db) && in.empty(); }

}  // namespace runnel::persist
