// Redis-style log lines: "<pid>:M 21 Nov 2026 23:31:16.123 * message", with Redis's levels
// (debug '.', verbose '-', notice '*', warning '#'). Thread-safe; writes to stdout or a file.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>

namespace runnel {

enum class LogLevel { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };

bool ParseLogLevel(std::string_view name, LogLevel* out);
const char* LogLevelName(LogLevel level);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Empty path: stdout. Returns false (and keeps the old target) if the file cannot be opened.
bool SetLogFile(const std::string& path);
void LogRaw(LogLevel level, std::string_view msg);

template <typename... Args>
void Log(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
  if (level < GetLogLevel()) return;
  LogRaw(level, fmt::format(f, std::forward<Args>(args)...));
}

#define RUNNEL_LOG_FN(name, level)                              \
  template <typename... Args>                                   \
  void name(fmt::format_string<Args...> f, Args&&... args) {    \
    Log(level, f, std::forward<Args>(args)...);                 \
  }
RUNNEL_LOG_FN(LogDebug, LogLevel::kDebug)
RUNNEL_LOG_FN(LogVerbose, LogLevel::kVerbose)
RUNNEL_LOG_FN(LogNotice, LogLevel::kNotice)
RUNNEL_LOG_FN(LogWarning, LogLevel::kWarning)
#undef RUNNEL_LOG_FN

}  // namespace runnel
