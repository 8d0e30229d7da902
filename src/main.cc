// runnel-server: reads the config file and command-line options into the Config, then runs the
// Server. Options follow redis-server: [config-file] [--name value ...].
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/log.h"
#include "server/server.h"

namespace {

void PrintUsage() {
  std::printf(
      "Usage: runnel-server [/path/to/runnel.conf] [options]\n"
      "       runnel-server -v or --version\n"
      "       runnel-server -h or --help\n\n"
      "Options (also valid as config file directives, without the dashes):\n"
      "  --port <port>             TCP port (default 6379)\n"
      "  --bind <addr> [addr ...]  addresses to listen on (default 127.0.0.1 -::1)\n"
      "  --dir <path>              working and data directory (default .)\n"
      "  --threads <n>             event-loop and loading threads (default: number of CPUs)\n"
      "  --requirepass <password>  require AUTH\n"
      "  --loglevel <level>        debug, verbose, notice, warning\n"
      "  --logfile <path>          log file (default: standard output)\n"
      "  --maxclients <n>          maximum connected clients (default 10000)\n"
      "  --databases <n>           number of databases (default 16)\n"
      "  --appendonly no, --save \"\" persistence (not available in this build)\n"
      "  and: hz, timeout, tcp-keepalive, tcp-backlog, proto-max-bulk-len,\n"
      "       client-query-buffer-limit, client-output-buffer-limit, protected-mode,\n"
      "       active-expire-effort, redis-version\n\n"
      "Examples:\n"
      "  runnel-server --port 6380 --dir ./data\n"
      "  runnel-server /etc/runnel.conf --loglevel verbose\n");
}

void Fatal(const std::string& msg) {
  std::fprintf(stderr, "\n*** FATAL CONFIG ERROR (runnel %s) ***\n%s\n", RUNNEL_VERSION,
               msg.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  using runnel::GlobalConfig;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-v" || args[0] == "--version")) {
    std::printf("runnel-server v=%s redis-compat=%s\n", RUNNEL_VERSION,
                GlobalConfig().RedisVersion().c_str());
    return 0;
  }
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    PrintUsage();
    return 0;
  }
  size_t i = 0;
  if (!args.empty() && !args[0].starts_with("--")) {
    std::string err = GlobalConfig().LoadFile(args[0]);
    if (!err.empty()) Fatal("Reading the configuration file '" + args[0] + "', at " + err);
    i = 1;
  }
  while (i < args.size()) {
    const std::string& opt = args[i];
    if (!opt.starts_with("--") || opt.size() == 2) Fatal("Invalid option '" + opt + "'");
    std::string name = opt.substr(2);
    std::vector<std::string> values;
    ++i;
    // Values run until the next "--" option; "" is a value (--save "").
    while (i < args.size() && !args[i].starts_with("--")) values.push_back(args[i++]);
    std::string err = GlobalConfig().Set(name, values, true);
    if (err == "unknown") Fatal("Unknown option '--" + name + "'");
    if (!err.empty()) Fatal("Invalid value for '--" + name + "': " + err);
  }
  std::string logfile = GlobalConfig().LogFile();
  if (!logfile.empty() && !runnel::SetLogFile(logfile))
    Fatal("Can't open the log file '" + logfile + "': " + std::strerror(errno));
  runnel::LogNotice("runnel {} starting (Redis {} compatible), pid={}", RUNNEL_VERSION,
                    GlobalConfig().RedisVersion(), getpid());
  runnel::server::Server server;
  return server.Run();
}
