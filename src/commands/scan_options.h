// The options after a SCAN-family cursor (SCAN, HSCAN, SSCAN, ZSCAN), read as Redis reads them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace runnel::commands {

class CommandContext;

struct ScanOptions {
  int64_t count = 10;
  std::string_view pattern;  // empty: no MATCH, or MATCH *
  std::string_view type;     // SCAN's TYPE; empty: none
};

// Parses MATCH, COUNT (and TYPE when `allow_type`) from argument `first` on; replies with the
// error and returns false if they are invalid.
bool ParseScanOptions(CommandContext& ctx, size_t first, bool allow_type, ScanOptions* out);

}  // namespace runnel::commands
