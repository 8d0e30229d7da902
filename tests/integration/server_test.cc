// Server commands (INFO CONFIG COMMAND DEBUG TIME LASTSAVE ROLE WAIT SHUTDOWN FUNCTION), server
// life cycle (SHUTDOWN, SIGTERM, maxclients) and Redis's own tools (redis-cli, redis-benchmark)
// against the real server. Expected replies and error texts are Redis 7's.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "fixture.h"

namespace runnel::test {
namespace {

long long InfoInt(const std::string& info, std::string_view name) {
  std::string v = InfoField(info, name);
  return v.empty() ? -1 : std::stoll(v);
}

// "calls=3,usec=..." -> 3 for key "calls"; -1 if absent.
long long SubField(const std::string& value, std::string_view key) {
  std::string needle = std::string(key) + "=";
  size_t pos = value.find(needle);
  if (pos == std::string::npos || (pos > 0 && value[pos - 1] != ',')) return -1;
  return std::stoll(value.substr(pos + needle.size()));
}

bool Contains(const Reply& array, std::string_view s) {
  for (const Reply& e : array.elements)
    if (e == s) return true;
  return false;
}

// Value for `key` in a RESP2 flat map (array of alternating keys and values).
const Reply* MapGet(const Reply& map, std::string_view key) {
  for (size_t i = 0; i + 1 < map.size(); i += 2)
    if (map[i] == key) return &map[i + 1];
  return nullptr;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls a log file until it contains `text` (logs may be written a moment later).
bool LogContains(const std::string& path, std::string_view text) {
  for (int i = 0; i < 100; ++i) {
    if (ReadFile(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

struct ShellResult {
  int exit_code = -1;
  std::string out;
};

// Runs a shell command; captures stdout (stderr too unless the command redirects it).
ShellResult Shell(const std::string& cmd) {
  ShellResult r;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool IsHex40(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

const std::string kZeroDigest(40, '0');

}  // namespace

// ---------------------------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------------------------

TEST_CASE("server: INFO default sections and fields") {
  Client c;
  Client other;
  Reply r = c.Run({"INFO"});
  REQUIRE(r.type == Reply::Type::kString);
  const std::string& info = r.str;
  for (const char* section : {"# Server\r\n", "# Clients\r\n", "# Memory\r\n", "# Persistence\r\n",
                              "# Stats\r\n", "# Replication\r\n", "# CPU\r\n", "# Keyspace\r\n"})
    CHECK_MESSAGE(info.find(section) != std::string::npos, section);
  CHECK(info.starts_with("# Server\r\n"));
  CHECK(info.find("# Commandstats") == std::string::npos);  // not a default section
  CHECK(!InfoField(info, "redis_version").empty());
  CHECK(!InfoField(info, "runnel_version").empty());
  CHECK(InfoField(info, "redis_mode") == "standalone");
  CHECK(InfoInt(info, "tcp_port") == SharedServer().port());
  CHECK(InfoInt(info, "process_id") == SharedServer().pid());
  CHECK(InfoInt(info, "uptime_in_seconds") >= 0);
  CHECK(InfoInt(info, "connected_clients") >= 2);
  CHECK(InfoInt(info, "blocked_clients") == 0);
  CHECK(InfoInt(info, "used_memory") > 0);
  CHECK(InfoInt(info, "maxclients") == 10000);
  CHECK(InfoField(info, "role") == "master");
  CHECK(InfoInt(info, "total_commands_processed") > 0);
  CHECK(InfoInt(info, "total_connections_received") >= 2);
  CHECK(info.find("db9:") == std::string::npos);  // db 9 was just flushed

  // The keyspace section counts keys and keys with a TTL per database.
  CHECK(c.Run({"SET", "info:a", "1"}) == "OK");
  CHECK(c.Run({"SET", "info:b", "2"}) == "OK");
  CHECK(c.Run({"SET", "info:c", "3", "EX", "1000"}) == "OK");
  std::string ks = c.Run({"INFO", "keyspace"}).str;
  CHECK(ks.starts_with("# Keyspace\r\n"));
  CHECK(InfoField(ks, "db9").starts_with("keys=3,expires=1,"));
  // connected_clients follows connections.
  long long before = InfoInt(c.Run({"INFO", "clients"}).str, "connected_clients");
  {
    Client third;
    CHECK(InfoInt(c.Run({"INFO", "clients"}).str, "connected_clients") == before + 1);
  }
}

TEST_CASE("server: INFO section selection") {
  Client c;
  std::string server = c.Run({"INFO", "server"}).str;
  CHECK(server.starts_with("# Server\r\n"));
  CHECK(server.find("# Clients") == std::string::npos);
  CHECK(c.Run({"INFO", "SERVER"}).str.starts_with("# Server\r\n"));
  std::string two = c.Run({"INFO", "server", "clients"}).str;
  CHECK(two.find("# Server\r\n") != std::string::npos);
  CHECK(two.find("# Clients\r\n") != std::string::npos);
  CHECK(two.find("# Memory") == std::string::npos);
  std::string all = c.Run({"INFO", "all"}).str;
  CHECK(all.find("# Commandstats\r\n") != std::string::npos);
  CHECK(all.find("# Keyspace\r\n") != std::string::npos);
  std::string everything = c.Run({"INFO", "everything"}).str;
  CHECK(everything.find("# Commandstats\r\n") != std::string::npos);
  Reply none = c.Run({"INFO", "nosuchsection"});
  CHECK(none.type == Reply::Type::kString);
  CHECK(none == "");
}

TEST_CASE("server: INFO commandstats counts calls per command and subcommand") {
  Client c;
  std::string before = c.Run({"INFO", "commandstats"}).str;
  CHECK(before.starts_with("# Commandstats\r\n"));
  long long pings = SubField(InfoField(before, "cmdstat_ping"), "calls");
  if (pings < 0) pings = 0;
  for (int i = 0; i < 3; ++i) CHECK(c.Run({"PING"}) == "PONG");
  CHECK(c.Run({"CLIENT", "ID"}).integer > 0);
  CHECK(c.Run({"ECHO"}).IsError());  // arity errors are rejected calls
  std::string after = c.Run({"INFO", "commandstats"}).str;
  std::string ping = InfoField(after, "cmdstat_ping");
  CHECK(ping.starts_with("calls="));
  CHECK(SubField(ping, "calls") == pings + 3);
  CHECK(SubField(ping, "usec") >= 0);
  CHECK(SubField(ping, "rejected_calls") >= 0);
  CHECK(SubField(ping, "failed_calls") >= 0);
  CHECK(ping.find(",usec_per_call=") != std::string::npos);
  CHECK(SubField(InfoField(after, "cmdstat_client|id"), "calls") >= 1);
  CHECK(SubField(InfoField(after, "cmdstat_echo"), "rejected_calls") >= 1);
}

TEST_CASE("server: INFO errorstats and CONFIG RESETSTAT") {
  ServerProcess p;
  Client c(p.port(), false);
  CHECK(c.Run({"CONFIG", "RESETSTAT"}) == "OK");
  CHECK(c.Run({"FOO"}).IsErrorPrefix("ERR unknown command 'FOO'"));
  CHECK(c.Run({"SELECT", "abc"}).IsError());
  CHECK(c.Run({"AUTH", "nosuchuser", "pw"}).IsErrorPrefix("WRONGPASS"));
  std::string es = c.Run({"INFO", "errorstats"}).str;
  CHECK(es.starts_with("# Errorstats\r\n"));
  CHECK(InfoField(es, "errorstat_ERR") == "count=2");
  CHECK(InfoField(es, "errorstat_WRONGPASS") == "count=1");
  CHECK(InfoInt(c.Run({"INFO", "stats"}).str, "total_error_replies") == 3);
  std::string cs = c.Run({"INFO", "commandstats"}).str;
  CHECK(SubField(InfoField(cs, "cmdstat_select"), "failed_calls") == 1);

  CHECK(c.Run({"CONFIG", "RESETSTAT"}) == "OK");
  es = c.Run({"INFO", "errorstats"}).str;
  CHECK(es.find("errorstat_ERR") == std::string::npos);
  CHECK(InfoInt(c.Run({"INFO", "stats"}).str, "total_error_replies") == 0);
  cs = c.Run({"INFO", "commandstats"}).str;
  CHECK(cs.find("cmdstat_select") == std::string::npos);
  CHECK(cs.find("cmdstat_ping") == std::string::npos);
  CHECK(c.Run({"CONFIG", "RESETSTAT", "x"})
            .IsError("ERR wrong number of arguments for 'config|resetstat' command"));
}

TEST_CASE("server: INFO in RESP3 is a verbatim string") {
  RawClient raw;
  REQUIRE(raw.Command({"HELLO", "3"}).starts_with("%7\r\n"));
  std::string info = raw.Command({"INFO", "server"});
  REQUIRE(info.starts_with("="));
  size_t eol = info.find("\r\n");
  CHECK(info.substr(eol + 2).starts_with("txt:# Server\r\n"));
  CHECK(info.find("redis_version:") != std::string::npos);
  // The length counts "txt:" and the text.
  long long len = std::stoll(info.substr(1, eol - 1));
  CHECK(static_cast<size_t>(len) == info.size() - eol - 2 - 2);
}

// ---------------------------------------------------------------------------------------------
// CONFIG
// ---------------------------------------------------------------------------------------------

TEST_CASE("server: CONFIG GET") {
  Client c;
  Reply one = c.Run({"CONFIG", "GET", "maxclients"});
  CHECK(one.Dump() == "[maxclients, 10000]");
  Reply upper = c.Run({"CONFIG", "GET", "MAXCLIENTS"});  // names are case-insensitive
  REQUIRE(upper.size() == 2);
  CHECK(upper[1] == "10000");

  Reply glob = c.Run({"CONFIG", "GET", "*max*"});
  REQUIRE(glob.IsArray());
  CHECK(glob.size() % 2 == 0);
  CHECK(glob.size() >= 4);
  const Reply* maxclients = MapGet(glob, "maxclients");
  REQUIRE(maxclients != nullptr);
  CHECK(*maxclients == "10000");
  CHECK(MapGet(glob, "proto-max-bulk-len") != nullptr);
  for (size_t i = 0; i < glob.size(); i += 2)
    CHECK_MESSAGE(glob[i].str.find("max") != std::string::npos, glob[i].str);
  CHECK(MapGet(glob, "port") == nullptr);

  Reply many = c.Run({"CONFIG", "GET", "maxclients", "port", "databases"});
  REQUIRE(many.size() == 6);
  REQUIRE(MapGet(many, "port") != nullptr);
  CHECK(*MapGet(many, "port") == std::to_string(SharedServer().port()));
  CHECK(*MapGet(many, "databases") == "16");
  CHECK(*MapGet(many, "maxclients") == "10000");
  // A name matched by two patterns is listed once.
  CHECK(c.Run({"CONFIG", "GET", "maxclients", "maxclient*"}).size() == 2);

  CHECK(c.Run({"CONFIG", "GET", "nosuchparam"}).Dump() == "[]");
  CHECK(c.Run({"CONFIG", "GET"}).IsError("ERR wrong number of arguments for 'config|get' command"));

  // In RESP3 the reply is a map.
  RawClient raw;
  REQUIRE(raw.Command({"HELLO", "3"}).starts_with("%7\r\n"));
  CHECK(raw.Command({"CONFIG", "GET", "maxclients"}) ==
        "%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
  CHECK(raw.Command({"CONFIG", "GET", "nosuchparam"}) == "%0\r\n");
}

TEST_CASE("server: CONFIG GET save and appendonly, as redis-benchmark asks") {
  Client c;
  Reply save = c.Run({"CONFIG", "GET", "save"});
  REQUIRE(save.size() == 2);
  CHECK(save[0] == "save");
  CHECK(save[1].type == Reply::Type::kString);
  CHECK(c.Run({"CONFIG", "GET", "appendonly"}).Dump() == "[appendonly, yes]");
}

TEST_CASE("server: CONFIG SET") {
  ServerProcess p;
  Client c(p.port(), false);
  CHECK(c.Run({"CONFIG", "SET", "maxclients", "50"}) == "OK");
  CHECK(c.Run({"CONFIG", "GET", "maxclients"}).Dump() == "[maxclients, 50]");
  CHECK(InfoInt(c.Run({"INFO", "clients"}).str, "maxclients") == 50);
  CHECK(c.Run({"CONFIG", "SET", "MAXCLIENTS", "60"}) == "OK");
  CHECK(c.Run({"CONFIG", "GET", "maxclients"}).Dump() == "[maxclients, 60]");
  CHECK(c.Run({"CONFIG", "SET", "loglevel", "warning"}) == "OK");
  CHECK(c.Run({"CONFIG", "GET", "loglevel"}).Dump() == "[loglevel, warning]");
  CHECK(c.Run({"CONFIG", "SET", "loglevel", "notice", "hz", "20"}) == "OK");
  CHECK(c.Run({"CONFIG", "GET", "loglevel", "hz"}).Dump() == "[loglevel, notice, hz, 20]");
  CHECK(c.Run({"CONFIG", "SET", "appendfsync", "always"}) == "OK");
  CHECK(c.Run({"CONFIG", "GET", "appendfsync"}).Dump() == "[appendfsync, always]");

  CHECK(c.Run({"CONFIG", "SET", "foo", "bar"})
            .IsError("ERR Unknown option or number of arguments for CONFIG SET - 'foo'"));
  CHECK(c.Run({"CONFIG", "SET", "maxclients", "abc"})
            .IsError("ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
                     "argument couldn't be parsed into an integer"));
  CHECK(c.Run({"CONFIG", "SET", "maxclients", "0"})
            .IsErrorPrefix("ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
                           "argument must be between 1 and "));
  CHECK(c.Run({"CONFIG", "SET", "databases", "3"})
            .IsError("ERR CONFIG SET failed (possibly related to argument 'databases') - can't "
                     "set immutable config"));
  CHECK(c.Run({"CONFIG", "SET", "loglevel", "loud"})
            .IsError("ERR CONFIG SET failed (possibly related to argument 'loglevel') - "
                     "argument(s) must be one of the following: debug, verbose, notice, warning"));
  CHECK(c.Run({"CONFIG", "SET", "appendonly", "maybe"})
            .IsError("ERR CONFIG SET failed (possibly related to argument 'appendonly') - "
                     "argument must be 'yes' or 'no'"));
  CHECK(c.Run({"CONFIG", "GET", "appendonly"}).Dump() == "[appendonly, yes]");
  CHECK(c.Run({"CONFIG", "SET", "maxclients"})
            .IsError("ERR wrong number of arguments for 'config|set' command"));
  CHECK(c.Run({"CONFIG", "GET", "maxclients"}).Dump() == "[maxclients, 60]");
}

TEST_CASE("server: CONFIG SET maxclients applies to new connections") {
  ServerProcess p;
  Client a(p.port(), false);
  CHECK(a.Run({"CONFIG", "SET", "maxclients", "1"}) == "OK");
  RawClient refused(p.port());
  CHECK(refused.ReadValue() == "-ERR max number of clients reached\r\n");
  CHECK(refused.Closed());
  CHECK(a.Run({"CONFIG", "SET", "maxclients", "10"}) == "OK");
  RawClient accepted(p.port());
  CHECK(accepted.Command({"PING"}) == "+PONG\r\n");
}

TEST_CASE("server: CONFIG SET error details") {
  ServerProcess p;
  Client c(p.port(), false);
  // An odd number of name/value words is a syntax error.
  CHECK(c.Run({"CONFIG", "SET", "maxclients", "10", "loglevel"}).IsError("ERR syntax error"));
  // The unknown name is echoed as given.
  CHECK(c.Run({"CONFIG", "SET", "FOO", "bar"})
            .IsError("ERR Unknown option or number of arguments for CONFIG SET - 'FOO'"));
}

TEST_CASE("server: CONFIG SET with several parameters is all or nothing") {
  ServerProcess p;
  Client c(p.port(), false);
  CHECK(c.Run({"CONFIG", "SET", "maxclients", "70", "foo", "bar"})
            .IsError("ERR Unknown option or number of arguments for CONFIG SET - 'foo'"));
  CHECK(c.Run({"CONFIG", "GET", "maxclients"}).Dump() == "[maxclients, 10000]");
  CHECK(c.Run({"CONFIG", "SET", "maxclients", "80", "hz", "abc"})
            .IsError("ERR CONFIG SET failed (possibly related to argument 'hz') - argument "
                     "couldn't be parsed into an integer"));
  CHECK(c.Run({"CONFIG", "GET", "maxclients"}).Dump() == "[maxclients, 10000]");
}

TEST_CASE("server: CONFIG HELP and unknown subcommands") {
  Client c;
  Reply help = c.Run({"CONFIG", "HELP"});
  REQUIRE(help.IsArray());
  CHECK(help.size() > 4);
  CHECK(help[0].str.starts_with("CONFIG <subcommand>"));
  CHECK(c.Run({"CONFIG", "foo"}).IsError("ERR unknown subcommand 'foo'. Try CONFIG HELP."));
  CHECK(c.Run({"CONFIG"}).IsError("ERR wrong number of arguments for 'config' command"));
}

// ---------------------------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------------------------

TEST_CASE("server: COMMAND COUNT and COMMAND") {
  Client c;
  Reply count = c.Run({"COMMAND", "COUNT"});
  REQUIRE(count.type == Reply::Type::kInteger);
  CHECK(count.integer > 50);
  Reply all = c.Run({"COMMAND"});
  REQUIRE(all.IsArray());
  CHECK(static_cast<long long>(all.size()) == count.integer);
  std::set<std::string> names;
  for (const Reply& cmd : all.elements) {
    REQUIRE(cmd.size() == 10);
    names.insert(cmd[0].str);
  }
  CHECK(names.size() == all.size());
  for (const char* n : {"get", "set", "ping", "config", "client", "info", "command"})
    CHECK_MESSAGE(names.count(n) == 1, n);
}

TEST_CASE("server: COMMAND INFO") {
  Client c;
  Reply r = c.Run({"COMMAND", "INFO", "get"});
  REQUIRE(r.size() == 1);
  const Reply& get = r[0];
  REQUIRE(get.size() == 10);
  CHECK(get[0] == "get");
  CHECK(get[1].IsInt(2));
  CHECK(Contains(get[2], "readonly"));
  CHECK(Contains(get[2], "fast"));
  CHECK(!Contains(get[2], "write"));
  CHECK(get[3].IsInt(1));  // first key
  CHECK(get[4].IsInt(1));  // last key
  CHECK(get[5].IsInt(1));  // step
  CHECK(Contains(get[6], "@read"));
  CHECK(Contains(get[6], "@string"));
  CHECK(Contains(get[6], "@fast"));
  CHECK(get[8].size() == 1);  // one key spec
  CHECK(get[9].size() == 0);  // no subcommands

  Reply set = c.Run({"COMMAND", "INFO", "SET"})[0];
  CHECK(set[0] == "set");
  CHECK(set[1].IsInt(-3));
  CHECK(Contains(set[2], "write"));
  CHECK(Contains(set[2], "denyoom"));
  CHECK(Contains(set[6], "@write"));

  Reply mset = c.Run({"COMMAND", "INFO", "mset"})[0];
  CHECK(mset[1].IsInt(-3));
  CHECK(mset[3].IsInt(1));
  CHECK(mset[4].IsInt(-1));
  CHECK(mset[5].IsInt(2));

  Reply config = c.Run({"COMMAND", "INFO", "config"})[0];
  CHECK(config[0] == "config");
  CHECK(config[9].size() >= 3);  // get, set, resetstat, ...
  Reply config_get = c.Run({"COMMAND", "INFO", "config|get"})[0];
  CHECK(config_get[0] == "config|get");
  CHECK(config_get[1].IsInt(-3));

  Reply several = c.Run({"COMMAND", "INFO", "get", "nosuch", "ping"});
  REQUIRE(several.size() == 3);
  CHECK(several[0][0] == "get");
  CHECK(several[1].IsNil());
  CHECK(several[2][0] == "ping");
  CHECK(c.Run({"COMMAND", "INFO", "nosuch"}).Dump() == "[(nil)]");
}

TEST_CASE("server: COMMAND INFO of an unknown command is a null bulk in RESP2") {
  RawClient raw;
  CHECK(raw.Command({"COMMAND", "INFO", "nosuch"}) == "*1\r\n$-1\r\n");
  REQUIRE(raw.Command({"HELLO", "3"}).starts_with("%7\r\n"));
  CHECK(raw.Command({"COMMAND", "INFO", "nosuch"}) == "*1\r\n_\r\n");
}

TEST_CASE("server: COMMAND DOCS") {
  Client c;
  Reply r = c.Run({"COMMAND", "DOCS", "set"});
  REQUIRE(r.size() == 2);
  CHECK(r[0] == "set");
  const Reply& doc = r[1];
  REQUIRE(doc.IsArray());
  const Reply* summary = MapGet(doc, "summary");
  REQUIRE(summary != nullptr);
  CHECK(!summary->str.empty());
  const Reply* since = MapGet(doc, "since");
  REQUIRE(since != nullptr);
  CHECK(*since == "1.0.0");
  const Reply* group = MapGet(doc, "group");
  REQUIRE(group != nullptr);
  CHECK(*group == "string");
  const Reply* args = MapGet(doc, "arguments");
  REQUIRE(args != nullptr);
  REQUIRE(args->size() >= 2);
  const Reply& first = (*args)[0];
  REQUIRE(MapGet(first, "name") != nullptr);
  CHECK(*MapGet(first, "name") == "key");
  CHECK(*MapGet(first, "type") == "key");
  CHECK(*MapGet((*args)[1], "name") == "value");
  CHECK(*MapGet((*args)[1], "type") == "string");

  Reply two = c.Run({"COMMAND", "DOCS", "get", "nosuch", "ping"});
  CHECK(two.size() == 4);  // unknown names are left out
  CHECK(c.Run({"COMMAND", "DOCS", "nosuch"}).Dump() == "[]");

  // Containers document their subcommands (nested too deep for hiredis 0.14: read raw bytes).
  RawClient raw;
  std::string config = raw.Command({"COMMAND", "DOCS", "config"});
  CHECK(config.starts_with("*2\r\n$6\r\nconfig\r\n*"));
  CHECK(config.find("$11\r\nsubcommands\r\n") != std::string::npos);
  CHECK(config.find("$10\r\nconfig|get\r\n") != std::string::npos);
  CHECK(config.find("$10\r\nconfig|set\r\n") != std::string::npos);

  REQUIRE(raw.Command({"HELLO", "3"}).starts_with("%7\r\n"));
  std::string docs = raw.Command({"COMMAND", "DOCS", "get"});
  CHECK(docs.starts_with("%1\r\n$3\r\nget\r\n%"));
}

TEST_CASE("server: COMMAND DOCS describes a bare one-of argument (CLIENT REPLY ON|OFF|SKIP)") {
  Client c;
  Reply r = c.Run({"COMMAND", "DOCS", "client|reply"});
  REQUIRE(r.size() == 2);
  CHECK(r[0] == "client|reply");
  const Reply* args = MapGet(r[1], "arguments");
  REQUIRE(args != nullptr);
  REQUIRE(args->size() == 1);
  const Reply& oneof = (*args)[0];
  REQUIRE(MapGet(oneof, "type") != nullptr);
  CHECK(*MapGet(oneof, "type") == "oneof");
  const Reply* choices = MapGet(oneof, "arguments");
  REQUIRE(choices != nullptr);
  REQUIRE(choices->size() == 3);
  const char* tokens[] = {"ON", "OFF", "SKIP"};
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(MapGet((*choices)[i], "token") != nullptr);
    CHECK(*MapGet((*choices)[i], "token") == tokens[i]);
    CHECK(*MapGet((*choices)[i], "type") == "pure-token");
  }
}

TEST_CASE("server: COMMAND LIST") {
  Client c;
  Reply all = c.Run({"COMMAND", "LIST"});
  REQUIRE(all.IsArray());
  CHECK(Contains(all, "get"));
  CHECK(Contains(all, "config|get"));
  CHECK(Contains(all, "client|kill"));
  CHECK(all.size() > static_cast<size_t>(c.Run({"COMMAND", "COUNT"}).integer));

  Reply pattern = c.Run({"COMMAND", "LIST", "FILTERBY", "PATTERN", "get*"});
  CHECK(Contains(pattern, "get"));
  CHECK(!Contains(pattern, "set"));
  for (const Reply& n : pattern.elements) CHECK(n.str.starts_with("get"));
  Reply cat = c.Run({"COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"});
  CHECK(Contains(cat, "get"));
  CHECK(!Contains(cat, "ping"));
  CHECK(c.Run({"COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"}).Dump() == "[]");
  CHECK(c.Run({"COMMAND", "LIST", "FILTERBY", "FOO", "x"}).IsError("ERR syntax error"));
  CHECK(c.Run({"COMMAND", "LIST", "x"}).IsError("ERR syntax error"));
}

TEST_CASE("server: COMMAND GETKEYS") {
  Client c;
  CHECK(c.Run({"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"}).Dump() == "[a, b]");
  CHECK(c.Run({"COMMAND", "GETKEYS", "SET", "k", "v", "EX", "10"}).Dump() == "[k]");
  CHECK(c.Run({"COMMAND", "GETKEYS", "del", "x", "y", "z"}).Dump() == "[x, y, z]");
  CHECK(c.Run({"COMMAND", "GETKEYS", "foo", "a"}).IsError("ERR Invalid command specified"));
  CHECK(c.Run({"COMMAND", "GETKEYS", "ping", "a"}).IsError("ERR The command has no key arguments"));
  CHECK(c.Run({"COMMAND", "GETKEYS", "get", "a", "b"})
            .IsError("ERR Invalid number of arguments specified for command"));
  CHECK(c.Run({"COMMAND", "GETKEYS"})
            .IsError("ERR wrong number of arguments for 'command|getkeys' command"));
}

TEST_CASE("server: COMMAND GETKEYS reports a keyless command before checking its arity") {
  Client c;
  CHECK(c.Run({"COMMAND", "GETKEYS", "time", "a"}).IsError("ERR The command has no key arguments"));
}

TEST_CASE("server: COMMAND HELP and unknown subcommands") {
  Client c;
  Reply help = c.Run({"COMMAND", "HELP"});
  REQUIRE(help.IsArray());
  CHECK(help.size() > 4);
  CHECK(help[0].str.starts_with("COMMAND <subcommand>"));
  CHECK(c.Run({"COMMAND", "foo"}).IsError("ERR unknown subcommand 'foo'. Try COMMAND HELP."));
}

// ---------------------------------------------------------------------------------------------
// TIME LASTSAVE ROLE WAIT FUNCTION, unknown commands
// ---------------------------------------------------------------------------------------------

TEST_CASE("server: TIME") {
  Client c;
  long long now = static_cast<long long>(std::time(nullptr));
  Reply r = c.Run({"TIME"});
  REQUIRE(r.size() == 2);
  CHECK(r[0].type == Reply::Type::kString);
  CHECK(r[1].type == Reply::Type::kString);
  long long secs = std::stoll(r[0].str);
  long long usecs = std::stoll(r[1].str);
  CHECK(secs >= now - 5);
  CHECK(secs <= now + 5);
  CHECK(usecs >= 0);
  CHECK(usecs < 1000000);
  // Time moves forward.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Reply r2 = c.Run({"TIME"});
  long long t1 = secs * 1000000 + usecs;
  long long t2 = std::stoll(r2[0].str) * 1000000 + std::stoll(r2[1].str);
  CHECK(t2 - t1 >= 15000);
  CHECK(c.Run({"TIME", "x"}).IsError("ERR wrong number of arguments for 'time' command"));
}

TEST_CASE("server: LASTSAVE and ROLE") {
  Client c;
  Reply last = c.Run({"LASTSAVE"});
  REQUIRE(last.type == Reply::Type::kInteger);
  CHECK(last.integer > 1600000000);
  CHECK(last.integer <= static_cast<long long>(std::time(nullptr)) + 1);

  Reply role = c.Run({"ROLE"});
  CHECK(role.Dump() == "[master, :0, []]");
}

TEST_CASE("server: WAIT without replicas") {
  Client c;
  CHECK(c.Run({"WAIT", "0", "0"}).IsInt(0));
  CHECK(c.Run({"WAIT", "1", "10"}).IsInt(0));
  CHECK(c.Run({"WAIT", "a", "0"}).IsError("ERR value is not an integer or out of range"));
  CHECK(c.Run({"WAIT", "0", "-1"}).IsError("ERR timeout is negative"));
  CHECK(c.Run({"WAIT", "0"}).IsError("ERR wrong number of arguments for 'wait' command"));
}

TEST_CASE("server: FUNCTION FLUSH") {
  Client c;
  CHECK(c.Run({"FUNCTION", "FLUSH"}) == "OK");
  CHECK(c.Run({"FUNCTION", "FLUSH", "ASYNC"}) == "OK");
  CHECK(c.Run({"FUNCTION", "FLUSH", "sync"}) == "OK");
  CHECK(c.Run({"FUNCTION", "FLUSH", "foo"})
            .IsError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
}

TEST_CASE("server: unknown command error text") {
  Client c;
  CHECK(c.Run({"foo", "a", "b"})
            .IsError("ERR unknown command 'foo', with args beginning with: 'a' 'b' "));
  CHECK(c.Run({"foo"}).IsError("ERR unknown command 'foo', with args beginning with: "));
  CHECK(c.Run({"NoSuch", "x y"})
            .IsError("ERR unknown command 'NoSuch', with args beginning with: 'x y' "));
  // The connection keeps working after errors.
  CHECK(c.Run({"PING"}) == "PONG");
}

// ---------------------------------------------------------------------------------------------
// DEBUG
// ---------------------------------------------------------------------------------------------

TEST_CASE("server: DEBUG SLEEP, SET-ACTIVE-EXPIRE and LOG") {
  Client c;
  CHECK(c.Run({"DEBUG", "SLEEP", "0"}) == "OK");
  auto start = std::chrono::steady_clock::now();
  CHECK(c.Run({"DEBUG", "SLEEP", "0.2"}) == "OK");
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= std::chrono::milliseconds(180));

  CHECK(c.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "0"}) == "OK");
  CHECK(c.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "1"}) == "OK");

  std::string marker = "runnel-debug-log-marker-" + std::to_string(std::time(nullptr));
  CHECK(c.Run({"DEBUG", "LOG", marker}) == "OK");
  CHECK(LogContains(SharedServer().log_path(), marker));

  CHECK(c.Run({"DEBUG", "foo"})
            .IsError("ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG "
                     "HELP."));
  CHECK(c.Run({"DEBUG"}).IsError("ERR wrong number of arguments for 'debug' command"));
  Reply help = c.Run({"DEBUG", "HELP"});
  CHECK(help.IsArray());
  CHECK(help.size() > 4);
}

TEST_CASE("server: DEBUG SET-ACTIVE-EXPIRE 0 leaves expired keys until they are accessed") {
  ServerProcess p;
  Client c(p.port(), false);
  CHECK(c.Run({"DEBUG", "SET-ACTIVE-EXPIRE", "0"}) == "OK");
  CHECK(c.Run({"SET", "k", "v", "PX", "10"}) == "OK");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(c.Run({"DBSIZE"}).IsInt(1));
  CHECK(c.Run({"GET", "k"}).IsNil());
  CHECK(c.Run({"DBSIZE"}).IsInt(0));
}

TEST_CASE("server: DEBUG DIGEST") {
  ServerProcess p;
  Client c(p.port(), false);
  Reply empty = c.Run({"DEBUG", "DIGEST"});
  CHECK(empty == kZeroDigest);

  CHECK(c.Run({"SET", "a", "1"}) == "OK");
  std::string d1 = c.Run({"DEBUG", "DIGEST"}).str;
  CHECK(IsHex40(d1));
  CHECK(d1 != kZeroDigest);
  CHECK(c.Run({"SET", "b", "2"}) == "OK");
  std::string d2 = c.Run({"DEBUG", "DIGEST"}).str;
  CHECK(IsHex40(d2));
  CHECK(d2 != d1);
  CHECK(c.Run({"DEBUG", "DIGEST"}) == d2);  // stable without writes
  CHECK(c.Run({"SET", "b", "3"}) == "OK");
  CHECK(c.Run({"DEBUG", "DIGEST"}).str != d2);  // a changed value changes it
  CHECK(c.Run({"SET", "b", "2"}) == "OK");
  CHECK(c.Run({"DEBUG", "DIGEST"}) == d2);  // same data, same digest
  // Keys in another database count too.
  CHECK(c.Run({"SELECT", "3"}) == "OK");
  CHECK(c.Run({"SET", "a", "1"}) == "OK");
  CHECK(c.Run({"DEBUG", "DIGEST"}).str != d2);
  CHECK(c.Run({"FLUSHALL"}) == "OK");
  CHECK(c.Run({"DEBUG", "DIGEST"}) == kZeroDigest);

  // Redis replies with a status string.
  RawClient raw(p.port());
  CHECK(raw.Command({"DEBUG", "DIGEST"}) == "+" + kZeroDigest + "\r\n");
}

TEST_CASE("server: DEBUG DIGEST-VALUE") {
  Client c;
  CHECK(c.Run({"SET", "dv:a", "same"}) == "OK");
  CHECK(c.Run({"SET", "dv:b", "same"}) == "OK");
  CHECK(c.Run({"SET", "dv:c", "different"}) == "OK");
  Reply r = c.Run({"DEBUG", "DIGEST-VALUE", "dv:a", "dv:c", "dv:nokey"});
  REQUIRE(r.size() == 3);
  CHECK(IsHex40(r[0].str));
  CHECK(r[0].str != kZeroDigest);
  CHECK(IsHex40(r[1].str));
  CHECK(r[1].str != r[0].str);
  CHECK(r[2] == kZeroDigest);
  CHECK(c.Run({"DEBUG", "DIGEST-VALUE"}).Dump() == "[]");
}

TEST_CASE("server: DEBUG DIGEST-VALUE depends on the value, not the key name") {
  Client c;
  CHECK(c.Run({"SET", "dv:a", "same"}) == "OK");
  CHECK(c.Run({"SET", "dv:b", "same"}) == "OK");
  Reply r = c.Run({"DEBUG", "DIGEST-VALUE", "dv:a", "dv:b"});
  REQUIRE(r.size() == 2);
  CHECK(r[0].str == r[1].str);
}

TEST_CASE("server: DEBUG OBJECT") {
  Client c;
  CHECK(c.Run({"SET", "obj:int", "12345"}) == "OK");
  CHECK(c.Run({"SET", "obj:str", "hello"}) == "OK");
  Reply r = c.Run({"DEBUG", "OBJECT", "obj:int"});
  CHECK(r.type == Reply::Type::kStatus);
  CHECK(r.str.starts_with("Value at:"));
  CHECK(r.str.find(" encoding:int ") != std::string::npos);
  CHECK(r.str.find(" lru_seconds_idle:") != std::string::npos);
  Reply s = c.Run({"DEBUG", "OBJECT", "obj:str"});
  CHECK(s.str.find(" encoding:embstr ") != std::string::npos);
  CHECK(c.Run({"DEBUG", "OBJECT", "obj:nokey"}).IsError("ERR no such key"));
}

// ---------------------------------------------------------------------------------------------
// Life cycle: SHUTDOWN, SIGTERM, maxclients
// ---------------------------------------------------------------------------------------------

TEST_CASE("server: SHUTDOWN stops the server cleanly") {
  ServerProcess p;
  Client c(p.port(), false);
  CHECK(c.Run({"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"SHUTDOWN", "ABORT"}).IsError("ERR No shutdown in progress."));
  CHECK(c.Run({"SHUTDOWN", "foo"}).IsError("ERR syntax error"));
  CHECK(c.Run({"PING"}) == "PONG");
  Reply r = c.Run({"SHUTDOWN", "NOSAVE"});
  // No reply: the connection just closes.
  CHECK(r.IsErrorPrefix("(connection error)"));
  // Signal 0 sends nothing: Stop only waits for the exit.
  int status = p.Stop(0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(LogContains(p.log_path(), "bye bye"));
  CHECK_THROWS_AS(static_cast<void>(RawClient(p.port())), std::runtime_error);
}

TEST_CASE("server: SIGTERM stops the server cleanly") {
  ServerProcess p;
  {
    Client c(p.port(), false);
    CHECK(c.Run({"PING"}) == "PONG");
    int status = p.Stop(SIGTERM);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  std::string log = ReadFile(p.log_path());
  CHECK(log.find("SIGTERM") != std::string::npos);
  CHECK(log.find("bye bye") != std::string::npos);
}

TEST_CASE("server: maxclients refuses connections over the limit") {
  ServerProcess p({"--maxclients", "2"});
  Client a(p.port(), false);
  CHECK(a.Run({"PING"}) == "PONG");
  {
    Client b(p.port(), false);
    CHECK(b.Run({"PING"}) == "PONG");
    RawClient third(p.port());
    CHECK(third.ReadValue() == "-ERR max number of clients reached\r\n");
    CHECK(third.Closed());
    CHECK(InfoInt(a.Run({"INFO", "stats"}).str, "rejected_connections") == 1);
    CHECK(InfoInt(a.Run({"INFO", "clients"}).str, "connected_clients") == 2);
  }
  // Once b is gone there is room again.
  for (int i = 0; i < 100; ++i) {
    if (InfoInt(a.Run({"INFO", "clients"}).str, "connected_clients") == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  RawClient again(p.port());
  CHECK(again.Command({"PING"}) == "+PONG\r\n");
}

// ---------------------------------------------------------------------------------------------
// redis-cli and redis-benchmark
// ---------------------------------------------------------------------------------------------

TEST_CASE("server: redis-cli reading commands from a pipe") {
  Client c;
  std::string port = std::to_string(SharedServer().port());
  std::string input =
      "SELECT 9\\nSET cli:k hello\\nGET cli:k\\nPING\\nINCR cli:k\\nECHO \"a b\"\\n";
  ShellResult r = Shell("printf '" + input + "' | redis-cli -p " + port + " 2>&1");
  CHECK(r.exit_code == 0);
  CHECK(r.out == "OK\nOK\nhello\nPONG\nERR value is not an integer or out of range\n\na b\n");
  CHECK(c.Run({"GET", "cli:k"}) == "hello");
}

TEST_CASE("server: redis-cli --scan") {
  Client c;
  std::set<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    std::string key = "k" + std::to_string(i);
    CHECK(c.Run({"SET", key, "v"}) == "OK");
    expected.insert(key);
  }
  for (int i = 0; i < 50; ++i) CHECK(c.Run({"SET", "other" + std::to_string(i), "v"}) == "OK");
  ShellResult r = Shell("redis-cli -p " + std::to_string(SharedServer().port()) +
                        " -n 9 --scan --pattern 'k*' 2>&1");
  CHECK(r.exit_code == 0);
  std::multiset<std::string> got;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) got.insert(line);
  CHECK(got.size() == expected.size());  // each key exactly once
  CHECK(std::set<std::string>(got.begin(), got.end()) == expected);
}

TEST_CASE("server: redis-cli -3 HELLO 3") {
  ShellResult r =
      Shell("redis-cli -3 -p " + std::to_string(SharedServer().port()) + " hello 3 2>&1");
  CHECK(r.exit_code == 0);
  CHECK(r.out.starts_with("server redis\nversion "));
  CHECK(r.out.find("\nproto 3\n") != std::string::npos);
  CHECK(r.out.find("\nmode standalone\n") != std::string::npos);
  CHECK(r.out.find("\nrole master\n") != std::string::npos);
  CHECK(r.out.find("\nmodules \n") != std::string::npos);
  ShellResult info =
      Shell("redis-cli -3 -p " + std::to_string(SharedServer().port()) + " info server 2>&1");
  CHECK(info.exit_code == 0);
  CHECK(info.out.starts_with("# Server\r\n"));
}

TEST_CASE("server: redis-benchmark runs cleanly") {
  std::string err = SharedServer().dir() + "/benchmark.err";
  ShellResult r = Shell("redis-benchmark -p " + std::to_string(SharedServer().port()) +
                        " -t set,get,incr,mset,ping -n 20000 -q 2>" + err);
  CHECK(r.exit_code == 0);
  CHECK(ReadFile(err) == "");
  // With -q each test ends with "NAME: <n> requests per second"; progress lines end in '\r'.
  std::vector<std::string> finals;
  std::string cur;
  for (char ch : r.out) {
    if (ch == '\r' || ch == '\n') {
      size_t start = cur.find_first_not_of(' ');
      if (start != std::string::npos) finals.push_back(cur.substr(start));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  for (const char* test : {"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"}) {
    bool found = false;
    for (const std::string& line : finals) {
      if (!line.starts_with(std::string(test) + ": ")) continue;
      size_t rps = line.find(" requests per second");
      if (rps == std::string::npos) continue;
      double v = std::stod(line.substr(std::string(test).size() + 2, rps));
      found = v > 0;
    }
    CHECK_MESSAGE(found, test << " in:\n" << r.out);
  }
  CHECK(r.out.find("ERR") == std::string::npos);
  CHECK(r.out.find("rror") == std::string::npos);
}

// io-batch-wait-us: a loop that woke for few of its many busy connections waits that long before
// polling again. At its largest (1 ms) the wait would show at once in a lone client's round
// trips if it applied there, and many clients must still get every reply.
TEST_CASE("server: io-batch-wait-us batches many busy clients and never delays a lone one") {
  // Each loop on its own thread: a guest loop never waits (loop-sharing).
  ServerProcess p({"--threads", "2", "--io-batch-wait-us", "1000", "--loop-sharing", "no"});
  Client c(p.port(), false);
  CHECK(c.Run({"CONFIG", "GET", "io-batch-wait-us"}).Dump() == "[io-batch-wait-us, 1000]");
  CHECK(c.Run({"CONFIG", "SET", "io-batch-wait-us", "1001"})
            .IsErrorPrefix("ERR CONFIG SET failed (possibly related to argument "
                           "'io-batch-wait-us') - argument must be between 0 and 1000"));
  // 200 round trips of one client: far below the 200 ms that waiting 1 ms each would take.
  auto start = Clock::now();
  for (int i = 0; i < 200; ++i) REQUIRE(c.Run({"INCR", "lone"}).IsInt(i + 1));
  CHECK(MsSince(start) < 150);
  // Both loops wait at first; light load (one client) gives their tuners nothing to decide.
  CHECK(InfoField(c.Run({"INFO", "stats"}).str, "io_batch_wait_loops") == "2");

  constexpr int kClients = 40, kEach = 300;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Client mine(p.port(), false);
      for (int i = 0; i < kEach; ++i)
        if (mine.Run({"INCR", "shared"}).type != Reply::Type::kInteger) wrong++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);
  CHECK(c.Run({"GET", "shared"}) == std::to_string(kClients * kEach));
  CHECK(c.Run({"CONFIG", "SET", "io-batch-wait-us", "0"}) == "OK");
  CHECK(c.Run({"INCR", "lone"}).IsInt(201));
  // With the wait off, INFO counts no loop that uses it (each loop notices at its next pass, at
  // the latest on its timer).
  bool none = false;
  for (int i = 0; i < 100 && !none; ++i) {
    none = InfoField(c.Run({"INFO", "stats"}).str, "io_batch_wait_loops") == "0";
    if (!none) SleepMs(20);
  }
  CHECK(none);
}

}  // namespace runnel::test
