#include "common/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace runnel {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kNotice};
std::mutex g_mu;
FILE* g_out = nullptr;  // nullptr: stdout

constexpr const char* kLevelNames[] = {"debug", "verbose", "notice", "warning"};
constexpr char kLevelMarks[] = {'.', '-', '*', '#'};

}  // namespace

bool ParseLogLevel(std::string_view name, LogLevel* out) {
  for (int i = 0; i < 4; ++i) {
    if (name == kLevelNames[i]) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

const char* LogLevelName(LogLevel level) { return kLevelNames[static_cast<int>(level)]; }
void SetLogLevel(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel GetLogLevel() { return g_level.load(std::memory_order_relaxed); }

bool SetLogFile(const std::string& path) {
  FILE* f = nullptr;
  if (!path.empty()) {
    f = std::fopen(path.c_str(), "a");
    if (f == nullptr) return false;
  }
  std::lock_guard lock(g_mu);
  if (g_out != nullptr) std::fclose(g_out);
  g_out = f;
  return true;
}

void LogRaw(LogLevel level, std::string_view msg) {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  char date[64];
  size_t n = std::strftime(date, sizeof date, "%d %b %Y %H:%M:%S", &tm);
  std::lock_guard lock(g_mu);
  FILE* out = g_out != nullptr ? g_out : stdout;
  std::fprintf(out, "%d:M %.*s.%03d %c %.*s\n", static_cast<int>(getpid()), static_cast<int>(n),
               date, static_cast<int>(tv.tv_usec / 1000), kLevelMarks[static_cast<int>(level)],
               static_cast<int>(msg.size()), msg.data());
  std::fflush(out);
}

}  // namespace runnel
