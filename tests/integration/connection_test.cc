// Connection commands (PING ECHO SELECT QUIT RESET AUTH HELLO CLIENT) and the wire protocol
// (inline and multibulk requests, pipelining, partial writes, protocol errors), against the real
// server. Expected replies and error texts are Redis 7's.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "fixture.h"

namespace runnel::test {
namespace {

// The value of `key=` in a CLIENT INFO / CLIENT LIST line ("" if absent).
std::string ClientField(std::string_view line, std::string_view key) {
  std::string needle = std::string(key) + "=";
  size_t pos = 0;
  while ((pos = line.find(needle, pos)) != std::string_view::npos) {
    if (pos == 0 || line[pos - 1] == ' ') {
      size_t start = pos + needle.size();
      size_t end = line.find_first_of(" \n", start);
      return std::string(line.substr(start, end == std::string_view::npos ? end : end - start));
    }
    pos += needle.size();
  }
  return "";
}

// The payload of a raw RESP2 bulk string ("$3\r\nabc\r\n" -> "abc").
std::string BulkPayload(const std::string& raw) {
  if (raw.empty() || raw[0] != '$') return "";
  size_t eol = raw.find("\r\n");
  return raw.substr(eol + 2, raw.size() - eol - 4);
}

std::string RawBulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

// Lines of a CLIENT LIST reply.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

long long MyId(Client& c) { return c.Run({"CLIENT", "ID"}).integer; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// PING ECHO SELECT QUIT
// ---------------------------------------------------------------------------------------------

TEST_CASE("connection: PING with and without a message") {
  Client c;
  CHECK(c.Run({"PING"}) == "PONG");
  CHECK(c.Run({"PING"}).type == Reply::Type::kStatus);
  Reply r = c.Run({"PING", "hello world"});
  CHECK(r.type == Reply::Type::kString);
  CHECK(r == "hello world");
  CHECK(c.Run({"ping", ""}) == "");
  CHECK(c.Run({"PING", "a", "b"}).IsError("ERR wrong number of arguments for 'ping' command"));

  RawClient raw;
  CHECK(raw.Command({"PING"}) == "+PONG\r\n");
  CHECK(raw.Command({"PING", "hi"}) == "$2\r\nhi\r\n");
}

TEST_CASE("connection: ECHO returns its argument, binary-safe") {
  Client c;
  CHECK(c.Run({"ECHO", "hello"}) == "hello");
  std::string binary("a\0b\r\nc", 6);
  Reply r = c.Run(std::vector<std::string>{"ECHO", binary});
  CHECK(r.type == Reply::Type::kString);
  CHECK(r.str == binary);
  CHECK(c.Run({"ECHO"}).IsError("ERR wrong number of arguments for 'echo' command"));
  CHECK(c.Run({"ECHO", "a", "b"}).IsError("ERR wrong number of arguments for 'echo' command"));
}

TEST_CASE("connection: SELECT switches databases and validates the index") {
  Client c;
  CHECK(c.Run({"SET", "selkey", "in9"}) == "OK");
  CHECK(c.Run({"SELECT", "10"}) == "OK");
  CHECK(c.Run({"FLUSHDB"}) == "OK");
  CHECK(c.Run({"GET", "selkey"}).IsNil());
  CHECK(c.Run({"SET", "selkey", "in10"}) == "OK");
  CHECK(c.Run({"SELECT", "9"}) == "OK");
  CHECK(c.Run({"GET", "selkey"}) == "in9");
  CHECK(c.Run({"SELECT", "10"}) == "OK");
  CHECK(c.Run({"GET", "selkey"}) == "in10");
  CHECK(c.Run({"FLUSHDB"}) == "OK");

  CHECK(c.Run({"SELECT", "0"}) == "OK");
  CHECK(c.Run({"SELECT", "15"}) == "OK");
  CHECK(c.Run({"SELECT", "abc"}).IsError("ERR value is not an integer or out of range"));
  CHECK(c.Run({"SELECT", "1.5"}).IsError("ERR value is not an integer or out of range"));
  CHECK(c.Run({"SELECT", "16"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"SELECT", "100"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"SELECT", "-1"}).IsError("ERR DB index is out of range"));
  CHECK(c.Run({"SELECT"}).IsError("ERR wrong number of arguments for 'select' command"));
  CHECK(c.Run({"SELECT", "1", "2"}).IsError("ERR wrong number of arguments for 'select' command"));
  // A failed SELECT leaves the database as it was.
  Reply info = c.Run({"CLIENT", "INFO"});
  CHECK(ClientField(info.str, "db") == "15");
}

TEST_CASE("connection: QUIT replies +OK and closes the connection") {
  RawClient raw;
  raw.Write("QUIT\r\n");
  CHECK(raw.ReadValue() == "+OK\r\n");
  CHECK(raw.Closed());

  // Commands pipelined after QUIT are not executed.
  Client c;
  RawClient raw2;
  raw2.Write("*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$9\r\nquitfired\r\n$1\r\n1\r\n");
  CHECK(raw2.ReadValue() == "+OK\r\n");
  CHECK(raw2.Closed());
  CHECK(c.Run({"SELECT", "0"}) == "OK");
  CHECK(c.Run({"EXISTS", "quitfired"}).IsInt(0));
}

// ---------------------------------------------------------------------------------------------
// RESET
// ---------------------------------------------------------------------------------------------

TEST_CASE("connection: RESET restores db 0, RESP2, no name and replies on") {
  RawClient raw;
  CHECK(raw.Command({"SELECT", "5"}) == "+OK\r\n");
  CHECK(raw.Command({"CLIENT", "SETNAME", "before-reset"}) == "+OK\r\n");
  CHECK(raw.Command({"HELLO", "3"}).starts_with("%7\r\n"));
  CHECK(raw.Command({"RESET"}) == "+RESET\r\n");
  // Back in RESP2: CLIENT INFO is a plain bulk string again, not a verbatim string.
  std::string info = raw.Command({"CLIENT", "INFO"});
  REQUIRE(info.starts_with("$"));
  std::string line = BulkPayload(info);
  CHECK(ClientField(line, "db") == "0");
  CHECK(ClientField(line, "resp") == "2");
  CHECK(ClientField(line, "name") == "");
  CHECK(raw.Command({"CLIENT", "GETNAME"}) == "$-1\r\n");

  // RESET answers even with replies turned off, and turns them back on.
  raw.Write("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*1\r\n$4\r\nPING\r\n");
  raw.Write("*1\r\n$5\r\nRESET\r\n*1\r\n$4\r\nPING\r\n");
  CHECK(raw.ReadValue() == "+RESET\r\n");
  CHECK(raw.ReadValue() == "+PONG\r\n");
  CHECK(raw.Command({"RESET", "x"}) == "-ERR wrong number of arguments for 'reset' command\r\n");
}

// ---------------------------------------------------------------------------------------------
// AUTH
// ---------------------------------------------------------------------------------------------

TEST_CASE("connection: AUTH without a configured password") {
  Client c;
  const char* no_password =
      "ERR AUTH <password> called without any password configured for the default user. Are you "
      "sure your configuration is correct?";
  CHECK(c.Run({"AUTH", "x"}).IsError(no_password));
  CHECK(c.Run({"AUTH", "nosuchuser", "x"})
            .IsError("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(c.Run({"AUTH", "a", "b", "c"}).IsError("ERR syntax error"));
  CHECK(c.Run({"AUTH"}).IsError("ERR wrong number of arguments for 'auth' command"));
  CHECK(c.Run({"PING"}) == "PONG");
}

TEST_CASE("connection: AUTH default <any> succeeds when the default user has no password") {
  // Redis 7: without requirepass the default user is "nopass", so the two-argument form
  // accepts any password (only the one-argument form is refused).
  Client c;
  CHECK(c.Run({"AUTH", "default", "anything"}) == "OK");
  RawClient raw;
  CHECK(raw.Command({"HELLO", "3", "AUTH", "default", "anything"}).starts_with("%7\r\n"));
}

TEST_CASE("connection: AUTH with --requirepass") {
  ServerProcess p({"--requirepass", "secret"});
  Client c(p.port(), false);
  CHECK(c.Run({"PING"}).IsError("NOAUTH Authentication required."));
  CHECK(c.Run({"SET", "k", "v"}).IsError("NOAUTH Authentication required."));
  CHECK(c.Run({"CLIENT", "ID"}).IsError("NOAUTH Authentication required."));
  CHECK(c.Run({"AUTH", "wrong"})
            .IsError("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(c.Run({"AUTH", "default", "wrong"})
            .IsError("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(c.Run({"AUTH", "bob", "secret"})
            .IsError("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(c.Run({"PING"}).IsError("NOAUTH Authentication required."));
  CHECK(c.Run({"AUTH", "secret"}) == "OK");
  CHECK(c.Run({"PING"}) == "PONG");
  CHECK(c.Run({"SET", "k", "v"}) == "OK");
  CHECK(c.Run({"GET", "k"}) == "v");

  Client c2(p.port(), false);
  CHECK(c2.Run({"GET", "k"}).IsError("NOAUTH Authentication required."));
  CHECK(c2.Run({"AUTH", "default", "secret"}) == "OK");
  CHECK(c2.Run({"GET", "k"}) == "v");
  // RESET drops the authentication.
  CHECK(c2.Run({"RESET"}) == "RESET");
  CHECK(c2.Run({"GET", "k"}).IsError("NOAUTH Authentication required."));

  // QUIT works before authenticating.
  RawClient raw(p.port());
  CHECK(raw.Command({"QUIT"}) == "+OK\r\n");
  CHECK(raw.Closed());
}

TEST_CASE("connection: unauthenticated unknown commands and bad arity are not NOAUTH") {
  // Redis 7 checks that the command exists and its arity before authentication.
  ServerProcess p({"--requirepass", "secret"});
  Client c(p.port(), false);
  CHECK(c.Run({"FOO", "a"}).IsError("ERR unknown command 'FOO', with args beginning with: 'a' "));
  CHECK(c.Run({"GET"}).IsError("ERR wrong number of arguments for 'get' command"));
  CHECK(c.Run({"CLIENT", "FOO"}).IsError("ERR unknown subcommand 'FOO'. Try CLIENT HELP."));
  CHECK(c.Run({"GET", "k"}).IsError("NOAUTH Authentication required."));
}

TEST_CASE("connection: unauthenticated clients are limited to small requests") {
  ServerProcess p({"--requirepass", "secret"});
  RawClient big_count(p.port());
  big_count.Write("*20\r\n");
  CHECK(big_count.ReadValue() == "-ERR Protocol error: unauthenticated multibulk length\r\n");
  CHECK(big_count.Closed());

  RawClient big_bulk(p.port());
  big_bulk.Write("*2\r\n$4\r\nAUTH\r\n$20000\r\n");
  CHECK(big_bulk.ReadValue() == "-ERR Protocol error: unauthenticated bulk length\r\n");
  CHECK(big_bulk.Closed());

  // Once authenticated the limits are gone.
  RawClient ok(p.port());
  CHECK(ok.Command({"AUTH", "secret"}) == "+OK\r\n");
  std::string value(20000, 'x');
  CHECK(ok.Command({"ECHO", value}) == RawBulk(value));
}

// ---------------------------------------------------------------------------------------------
// HELLO
// ---------------------------------------------------------------------------------------------

TEST_CASE("connection: HELLO 3 replies with a RESP3 map and switches the protocol") {
  RawClient raw;
  std::string id_reply = raw.Command({"CLIENT", "ID"});
  REQUIRE(id_reply.starts_with(":"));
  std::string hello = raw.Command({"HELLO", "3"});
  CHECK(hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$"));
  CHECK(hello.find("$5\r\nproto\r\n:3\r\n") != std::string::npos);
  CHECK(hello.find("$2\r\nid\r\n" + id_reply) != std::string::npos);
  CHECK(hello.find("$4\r\nmode\r\n$10\r\nstandalone\r\n") != std::string::npos);
  CHECK(hello.find("$4\r\nrole\r\n$6\r\nmaster\r\n") != std::string::npos);
  CHECK(hello.ends_with("$7\r\nmodules\r\n*0\r\n"));

  // Now RESP3: maps, nulls and verbatim strings use their own types.
  CHECK(raw.Command({"PING"}) == "+PONG\r\n");
  CHECK(raw.Command({"CLIENT", "GETNAME"}) == "_\r\n");
  CHECK(raw.Command({"CONFIG", "GET", "maxclients"}) ==
        "%1\r\n$10\r\nmaxclients\r\n" + RawBulk("10000"));
  std::string info = raw.Command({"CLIENT", "INFO"});
  CHECK(info.starts_with("="));
  CHECK(info.find("txt:id=") != std::string::npos);
  CHECK(info.find(" resp=3") != std::string::npos);

  // HELLO 2 goes back, and its map is a flat array.
  std::string hello2 = raw.Command({"HELLO", "2"});
  CHECK(hello2.starts_with("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n"));
  CHECK(hello2.find("$5\r\nproto\r\n:2\r\n") != std::string::npos);
  CHECK(raw.Command({"CLIENT", "GETNAME"}) == "$-1\r\n");
}

TEST_CASE("connection: HELLO through hiredis (RESP2 flat array)") {
  Client c;
  Reply r = c.Run({"HELLO"});
  REQUIRE(r.IsArray());
  REQUIRE(r.size() == 14);
  CHECK(r[0] == "server");
  CHECK(r[1] == "redis");
  CHECK(r[2] == "version");
  CHECK(r[4] == "proto");
  CHECK(r[5].IsInt(2));
  CHECK(r[6] == "id");
  CHECK(r[7].IsInt(MyId(c)));
  CHECK(r[8] == "mode");
  CHECK(r[9] == "standalone");
  CHECK(r[10] == "role");
  CHECK(r[11] == "master");
  CHECK(r[12] == "modules");
  CHECK(r[13].IsArray());
  CHECK(r[13].size() == 0);

  // The version is the one INFO reports.
  Reply info = c.Run({"INFO", "server"});
  CHECK(info.str.find("redis_version:" + r[3].str + "\r\n") != std::string::npos);

  Reply r2 = c.Run({"HELLO", "2", "SETNAME", "hello-name"});
  REQUIRE(r2.size() == 14);
  CHECK(c.Run({"CLIENT", "GETNAME"}) == "hello-name");
}

TEST_CASE("connection: HELLO errors") {
  Client c;
  CHECK(c.Run({"HELLO", "4"}).IsError("NOPROTO unsupported protocol version"));
  CHECK(c.Run({"HELLO", "1"}).IsError("NOPROTO unsupported protocol version"));
  CHECK(c.Run({"HELLO", "abc"}).IsError("ERR Protocol version is not an integer or out of range"));
  CHECK(c.Run({"HELLO", "3", "SETNAME", "a b"})
            .IsError("ERR Client names cannot contain spaces, newlines or special characters."));
  CHECK(c.Run({"HELLO", "3", "FOO"}).IsError("ERR Syntax error in HELLO option 'FOO'"));
  CHECK(
      c.Run({"HELLO", "3", "AUTH", "default"}).IsError("ERR Syntax error in HELLO option 'AUTH'"));
  // None of the failed HELLOs changed the protocol or the name.
  CHECK(c.Run({"PING"}) == "PONG");
  Reply info = c.Run({"CLIENT", "INFO"});
  CHECK(ClientField(info.str, "resp") == "2");
  CHECK(c.Run({"CLIENT", "GETNAME"}).IsNil());

  RawClient raw;
  CHECK(raw.Command({"HELLO", "4"}) == "-NOPROTO unsupported protocol version\r\n");
  CHECK(raw.Command({"HELLO", "abc"}) ==
        "-ERR Protocol version is not an integer or out of range\r\n");
}

TEST_CASE("connection: HELLO with AUTH and SETNAME on a password-protected server") {
  ServerProcess p({"--requirepass", "secret"});
  RawClient raw(p.port());
  CHECK(raw.Command({"HELLO", "3"}) ==
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time\r\n");
  CHECK(raw.Command({"HELLO", "3", "AUTH", "default", "wrong"}) ==
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  CHECK(raw.Command({"PING"}) == "-NOAUTH Authentication required.\r\n");
  std::string hello = raw.Command({"HELLO", "3", "AUTH", "default", "secret", "SETNAME", "x"});
  CHECK(hello.starts_with("%7\r\n"));
  CHECK(hello.find("$5\r\nproto\r\n:3\r\n") != std::string::npos);
  CHECK(raw.Command({"CLIENT", "GETNAME"}) == "$1\r\nx\r\n");
  CHECK(raw.Command({"PING"}) == "+PONG\r\n");

  // HELLO without a version also needs authentication first.
  RawClient raw2(p.port());
  CHECK(raw2.Command({"HELLO"}).starts_with("-NOAUTH HELLO must be called"));
  CHECK(raw2.Command({"HELLO", "2", "AUTH", "default", "secret"}).starts_with("*14\r\n"));
  CHECK(raw2.Command({"PING"}) == "+PONG\r\n");
}

// ---------------------------------------------------------------------------------------------
// CLIENT
// ---------------------------------------------------------------------------------------------

TEST_CASE("connection: CLIENT ID, SETNAME and GETNAME") {
  Client a;
  Client b;
  long long id_a = MyId(a);
  long long id_b = MyId(b);
  CHECK(id_a > 0);
  CHECK(id_b > id_a);  // ids grow with each new connection
  CHECK(MyId(a) == id_a);

  CHECK(a.Run({"CLIENT", "GETNAME"}).IsNil());
  CHECK(a.Run({"CLIENT", "SETNAME", "conn-a"}) == "OK");
  CHECK(a.Run({"CLIENT", "GETNAME"}) == "conn-a");
  CHECK(b.Run({"CLIENT", "GETNAME"}).IsNil());
  CHECK(a.Run({"CLIENT", "SETNAME", "a b"})
            .IsError("ERR Client names cannot contain spaces, newlines or special characters."));
  CHECK(a.Run({"CLIENT", "SETNAME", "a\nb"})
            .IsError("ERR Client names cannot contain spaces, newlines or special characters."));
  CHECK(a.Run({"CLIENT", "GETNAME"}) == "conn-a");
  // An empty name removes it.
  CHECK(a.Run({"CLIENT", "SETNAME", ""}) == "OK");
  CHECK(a.Run({"CLIENT", "GETNAME"}).IsNil());
  CHECK(a.Run({"CLIENT", "SETNAME"})
            .IsError("ERR wrong number of arguments for 'client|setname' command"));
  CHECK(a.Run({"CLIENT", "ID", "x"})
            .IsError("ERR wrong number of arguments for 'client|id' command"));
}

TEST_CASE("connection: CLIENT SETINFO") {
  Client c;
  CHECK(c.Run({"CLIENT", "SETINFO", "LIB-NAME", "mylib"}) == "OK");
  CHECK(c.Run({"CLIENT", "SETINFO", "lib-ver", "1.2.3"}) == "OK");
  Reply info = c.Run({"CLIENT", "INFO"});
  CHECK(ClientField(info.str, "lib-name") == "mylib");
  CHECK(ClientField(info.str, "lib-ver") == "1.2.3");
  CHECK(c.Run({"CLIENT", "SETINFO", "x", "y"}).IsError("ERR Unrecognized option 'x'"));
  CHECK(c.Run({"CLIENT", "SETINFO", "lib-name", "a b"})
            .IsError("ERR lib-name cannot contain spaces, newlines or special characters."));
  CHECK(c.Run({"CLIENT", "SETINFO", "lib-name"})
            .IsError("ERR wrong number of arguments for 'client|setinfo' command"));
  info = c.Run({"CLIENT", "INFO"});
  CHECK(ClientField(info.str, "lib-name") == "mylib");
}

TEST_CASE("connection: CLIENT INFO describes this connection") {
  Client c;
  CHECK(c.Run({"CLIENT", "SETNAME", "info-test"}) == "OK");
  Reply r = c.Run({"CLIENT", "INFO"});
  REQUIRE(r.type == Reply::Type::kString);
  const std::string& line = r.str;
  CHECK(line.ends_with("\n"));
  CHECK(line.find('\n') == line.size() - 1);  // exactly one line
  CHECK(line.starts_with("id="));
  CHECK(ClientField(line, "id") == std::to_string(MyId(c)));
  CHECK(ClientField(line, "addr").starts_with("127.0.0.1:"));
  CHECK(ClientField(line, "laddr") == "127.0.0.1:" + std::to_string(SharedServer().port()));
  CHECK(ClientField(line, "name") == "info-test");
  CHECK(ClientField(line, "db") == "9");
  CHECK(ClientField(line, "cmd") == "client|info");
  CHECK(ClientField(line, "resp") == "2");
  CHECK(ClientField(line, "flags") == "N");
  CHECK(ClientField(line, "user") == "default");
  CHECK(line.find(" lib-name=") != std::string::npos);
  CHECK(line.find(" age=") != std::string::npos);
  CHECK(line.find(" idle=") != std::string::npos);
  CHECK(line.find(" fd=") != std::string::npos);
  CHECK(c.Run({"CLIENT", "INFO", "x"})
            .IsError("ERR wrong number of arguments for 'client|info' command"));
}

TEST_CASE("connection: CLIENT LIST lists connections and filters by ID and TYPE") {
  Client a;
  Client b;
  CHECK(b.Run({"CLIENT", "SETNAME", "list-b"}) == "OK");
  CHECK(b.Run({"SELECT", "3"}) == "OK");
  long long id_a = MyId(a), id_b = MyId(b);

  Reply all = a.Run({"CLIENT", "LIST"});
  REQUIRE(all.type == Reply::Type::kString);
  auto lines = Lines(all.str);
  CHECK(lines.size() >= 2);
  bool seen_a = false, seen_b = false;
  for (auto& l : lines) {
    for (const char* f : {"id", "addr", "laddr", "name", "db", "cmd", "resp", "lib-name"})
      CHECK_MESSAGE((l.find(std::string(" ") + f + "=") != std::string::npos ||
                     l.starts_with(std::string(f) + "=")),
                    l);
    if (ClientField(l, "id") == std::to_string(id_a)) {
      seen_a = true;
      CHECK(ClientField(l, "cmd") == "client|list");
    }
    if (ClientField(l, "id") == std::to_string(id_b)) {
      seen_b = true;
      CHECK(ClientField(l, "name") == "list-b");
      CHECK(ClientField(l, "db") == "3");
    }
  }
  CHECK(seen_a);
  CHECK(seen_b);

  Reply one = a.Run({"CLIENT", "LIST", "ID", std::to_string(id_b)});
  lines = Lines(one.str);
  REQUIRE(lines.size() == 1);
  CHECK(ClientField(lines[0], "id") == std::to_string(id_b));
  CHECK(ClientField(lines[0], "name") == "list-b");

  Reply two = a.Run({"CLIENT", "LIST", "ID", std::to_string(id_a), std::to_string(id_b)});
  CHECK(Lines(two.str).size() == 2);
  Reply none = a.Run({"CLIENT", "LIST", "ID", "999999999"});
  CHECK(none == "");

  Reply normal = a.Run({"CLIENT", "LIST", "TYPE", "normal"});
  CHECK(normal.str.find("id=" + std::to_string(id_a) + " ") != std::string::npos);
  CHECK(a.Run({"CLIENT", "LIST", "TYPE", "pubsub"}) == "");
  CHECK(a.Run({"CLIENT", "LIST", "TYPE", "foo"}).IsError("ERR Unknown client type 'foo'"));
  CHECK(a.Run({"CLIENT", "LIST", "ID", "abc"}).IsError("ERR Invalid client ID"));
  CHECK(a.Run({"CLIENT", "LIST", "foo"}).IsError("ERR syntax error"));
}

TEST_CASE("connection: CLIENT KILL, old form ip:port") {
  Client killer;
  RawClient victim;
  std::string line = BulkPayload(victim.Command({"CLIENT", "INFO"}));
  std::string addr = ClientField(line, "addr");
  REQUIRE(!addr.empty());
  CHECK(killer.Run({"CLIENT", "KILL", addr}) == "OK");
  CHECK(victim.Closed());
  // The victim is gone from the list.
  Reply list = killer.Run({"CLIENT", "LIST"});
  CHECK(list.str.find("addr=" + addr + " ") == std::string::npos);
  CHECK(killer.Run({"CLIENT", "KILL", addr}).IsError("ERR No such client"));
  CHECK(killer.Run({"CLIENT", "KILL", "1.2.3.4:5"}).IsError("ERR No such client"));
  CHECK(killer.Run({"PING"}) == "PONG");

  // A client can kill itself with the old form: it still gets its +OK first.
  RawClient self;
  std::string self_addr = ClientField(BulkPayload(self.Command({"CLIENT", "INFO"})), "addr");
  CHECK(self.Command({"CLIENT", "KILL", self_addr}) == "+OK\r\n");
  CHECK(self.Closed());
}

TEST_CASE("connection: CLIENT KILL by TYPE, USER and LADDR") {
  ServerProcess p;
  Client killer(p.port(), false);
  RawClient v1(p.port());
  RawClient v2(p.port());
  CHECK(v1.Command({"PING"}) == "+PONG\r\n");
  CHECK(v2.Command({"PING"}) == "+PONG\r\n");
  CHECK(killer.Run({"CLIENT", "KILL", "TYPE", "pubsub"}).IsInt(0));
  CHECK(killer.Run({"CLIENT", "KILL", "LADDR", "1.1.1.1:1"}).IsInt(0));
  CHECK(killer.Run({"CLIENT", "KILL", "USER", "nosuch"}).IsError("ERR No such user 'nosuch'"));
  CHECK(killer.Run({"CLIENT", "KILL", "USER", "default"}).IsInt(2));
  CHECK(v1.Closed());
  CHECK(v2.Closed());
  CHECK(killer.Run({"PING"}) == "PONG");

  RawClient v3(p.port());
  CHECK(v3.Command({"PING"}) == "+PONG\r\n");
  std::string laddr = "127.0.0.1:" + std::to_string(p.port());
  CHECK(killer.Run({"CLIENT", "KILL", "TYPE", "normal", "LADDR", laddr}).IsInt(1));
  CHECK(v3.Closed());
}

TEST_CASE("connection: CLIENT KILL with filters (ID, ADDR, SKIPME)") {
  Client killer;
  long long my_id = MyId(killer);

  RawClient victim;
  std::string id_reply = victim.Command({"CLIENT", "ID"});
  REQUIRE(id_reply.starts_with(":"));
  std::string victim_id = id_reply.substr(1, id_reply.size() - 3);
  CHECK(killer.Run({"CLIENT", "KILL", "ID", victim_id}).IsInt(1));
  CHECK(victim.Closed());
  CHECK(killer.Run({"CLIENT", "KILL", "ID", victim_id}).IsInt(0));
  CHECK(
      killer.Run({"CLIENT", "KILL", "ID", "0"}).IsError("ERR client-id should be greater than 0"));
  CHECK(killer.Run({"CLIENT", "KILL", "ID", "abc"})
            .IsError("ERR client-id should be greater than 0"));

  RawClient victim2;
  std::string addr = ClientField(BulkPayload(victim2.Command({"CLIENT", "INFO"})), "addr");
  CHECK(killer.Run({"CLIENT", "KILL", "ADDR", addr}).IsInt(1));
  CHECK(victim2.Closed());

  // SKIPME yes is the default: a client does not kill itself unless told to.
  CHECK(killer.Run({"CLIENT", "KILL", "ID", std::to_string(my_id)}).IsInt(0));
  CHECK(killer.Run({"CLIENT", "KILL", "ID", std::to_string(my_id), "SKIPME", "yes"}).IsInt(0));
  CHECK(killer.Run({"PING"}) == "PONG");
  CHECK(killer.Run({"CLIENT", "KILL", "ID", "1", "SKIPME", "maybe"}).IsError("ERR syntax error"));
  CHECK(killer.Run({"CLIENT", "KILL", "ID", "1", "FOO", "bar"}).IsError("ERR syntax error"));
  CHECK(killer.Run({"CLIENT", "KILL", "TYPE", "foo"}).IsError("ERR Unknown client type 'foo'"));

  RawClient self;
  std::string self_id = self.Command({"CLIENT", "ID"});
  self_id = self_id.substr(1, self_id.size() - 3);
  CHECK(self.Command({"CLIENT", "KILL", "ID", self_id, "SKIPME", "no"}) == ":1\r\n");
  CHECK(self.Closed());
}

TEST_CASE("connection: CLIENT REPLY OFF, ON and SKIP") {
  RawClient raw;
  raw.Write("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n");
  raw.Write("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$6\r\nsilent\r\n");
  raw.Write("*2\r\n$4\r\nECHO\r\n");  // a command, errors included, get no reply while OFF
  raw.Write("$1\r\nx\r\n*1\r\n$7\r\nNOSUCHC\r\n");
  CHECK(raw.ReadValue(500) == "");
  // Commands still run while replies are off.
  raw.Write("*3\r\n$3\r\nSET\r\n$8\r\nreplyoff\r\n$1\r\n1\r\n");
  CHECK(raw.ReadValue(300) == "");
  // CLIENT REPLY ON answers +OK; then replies resume.
  CHECK(raw.Command({"CLIENT", "REPLY", "ON"}) == "+OK\r\n");
  CHECK(raw.Command({"GET", "replyoff"}) == "$1\r\n1\r\n");
  CHECK(raw.Command({"DEL", "replyoff"}) == ":1\r\n");

  // SKIP drops exactly the next command's reply.
  raw.Write("*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n");
  raw.Write("*2\r\n$4\r\nECHO\r\n$7\r\nskipped\r\n*2\r\n$4\r\nECHO\r\n$4\r\nseen\r\n");
  CHECK(raw.ReadValue() == "$4\r\nseen\r\n");
  CHECK(raw.Command({"PING"}) == "+PONG\r\n");

  CHECK(raw.Command({"CLIENT", "REPLY", "foo"}) == "-ERR syntax error\r\n");
  CHECK(raw.Command({"CLIENT", "REPLY"}) ==
        "-ERR wrong number of arguments for 'client|reply' command\r\n");
}

TEST_CASE("connection: CLIENT NO-EVICT and NO-TOUCH") {
  Client c;
  CHECK(c.Run({"CLIENT", "NO-EVICT", "on"}) == "OK");
  CHECK(ClientField(c.Run({"CLIENT", "INFO"}).str, "flags").find('e') != std::string::npos);
  CHECK(c.Run({"CLIENT", "NO-EVICT", "OFF"}) == "OK");
  CHECK(ClientField(c.Run({"CLIENT", "INFO"}).str, "flags") == "N");
  CHECK(c.Run({"CLIENT", "NO-EVICT", "maybe"}).IsError("ERR syntax error"));

  CHECK(c.Run({"CLIENT", "NO-TOUCH", "ON"}) == "OK");
  CHECK(ClientField(c.Run({"CLIENT", "INFO"}).str, "flags").find('T') != std::string::npos);
  CHECK(c.Run({"CLIENT", "NO-TOUCH", "off"}) == "OK");
  CHECK(ClientField(c.Run({"CLIENT", "INFO"}).str, "flags") == "N");
  CHECK(c.Run({"CLIENT", "NO-TOUCH", "x"}).IsError("ERR syntax error"));
  CHECK(c.Run({"CLIENT", "NO-TOUCH"})
            .IsError("ERR wrong number of arguments for 'client|no-touch' command"));
}

TEST_CASE("connection: CLIENT HELP and unknown subcommands") {
  Client c;
  Reply help = c.Run({"CLIENT", "HELP"});
  REQUIRE(help.IsArray());
  CHECK(help.size() > 10);
  CHECK(help[0].str.starts_with("CLIENT <subcommand>"));
  bool has_kill = false, has_list = false;
  for (auto& line : help.elements) {
    CHECK(line.type == Reply::Type::kStatus);
    has_kill = has_kill || line.str.starts_with("KILL");
    has_list = has_list || line.str.starts_with("LIST");
  }
  CHECK(has_kill);
  CHECK(has_list);
  CHECK(c.Run({"CLIENT", "foo"}).IsError("ERR unknown subcommand 'foo'. Try CLIENT HELP."));
  CHECK(c.Run({"client", "Foo", "bar"}).IsError("ERR unknown subcommand 'Foo'. Try CLIENT HELP."));
  CHECK(c.Run({"CLIENT"}).IsError("ERR wrong number of arguments for 'client' command"));
  // Subcommand names are case-insensitive.
  CHECK(c.Run({"client", "id"}).IsInt(MyId(c)));
}

// ---------------------------------------------------------------------------------------------
// Protocol
// ---------------------------------------------------------------------------------------------

TEST_CASE("connection: inline commands") {
  Client c;  // flushes db 9
  RawClient raw;
  raw.Write("PING\r\n");
  CHECK(raw.ReadValue() == "+PONG\r\n");
  raw.Write("PING\n");  // a bare LF ends an inline command too
  CHECK(raw.ReadValue() == "+PONG\r\n");
  raw.Write("SELECT 9\r\n");
  CHECK(raw.ReadValue() == "+OK\r\n");
  raw.Write("SET inline:k \"a b\"\r\n");
  CHECK(raw.ReadValue() == "+OK\r\n");
  raw.Write("GET inline:k\r\n");
  CHECK(raw.ReadValue() == "$3\r\na b\r\n");
  raw.Write("ECHO 'single quoted'\r\n");
  CHECK(raw.ReadValue() == "$13\r\nsingle quoted\r\n");
  raw.Write("ECHO \"\\x41\\tB\"\r\n");  // escapes inside double quotes
  CHECK(raw.ReadValue() == "$3\r\nA\tB\r\n");
  raw.Write("ECHO \"\"\r\n");
  CHECK(raw.ReadValue() == "$0\r\n\r\n");
  raw.Write("   ECHO    spaced   \r\n");
  CHECK(raw.ReadValue() == "$6\r\nspaced\r\n");
  // Empty lines are skipped without a reply.
  raw.Write("\r\n\r\n\nPING\r\n");
  CHECK(raw.ReadValue() == "+PONG\r\n");
  raw.Write("nosuchcmd a b\r\n");
  CHECK(raw.ReadValue() ==
        "-ERR unknown command 'nosuchcmd', with args beginning with: 'a' 'b' \r\n");
  CHECK(c.Run({"GET", "inline:k"}) == "a b");
}

TEST_CASE("connection: inline and multibulk commands pipelined in one write") {
  RawClient raw;
  raw.Write(
      "PING\r\n"
      "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
      "ECHO inline\r\n"
      "*1\r\n$4\r\nPING\r\n"
      "*-1\r\n*0\r\n"  // empty multibulks are ignored
      "ECHO last\r\n");
  CHECK(raw.ReadValue() == "+PONG\r\n");
  CHECK(raw.ReadValue() == "$2\r\nhi\r\n");
  CHECK(raw.ReadValue() == "$6\r\ninline\r\n");
  CHECK(raw.ReadValue() == "+PONG\r\n");
  CHECK(raw.ReadValue() == "$4\r\nlast\r\n");
  CHECK(raw.ReadValue(200) == "");
}

TEST_CASE("connection: a command split across many writes, byte by byte") {
  Client c;
  RawClient raw;
  std::string req =
      "*2\r\n$6\r\nSELECT\r\n$1\r\n9\r\n"
      "*3\r\n$3\r\nSET\r\n$10\r\nsplit:key1\r\n$11\r\nhello world\r\n";
  for (size_t i = 0; i < req.size(); ++i) {
    raw.Write(req.substr(i, 1));
    if (i % 8 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(raw.ReadValue() == "+OK\r\n");
  CHECK(raw.ReadValue() == "+OK\r\n");
  std::string inline_req = "GET split:key1\r\n";
  for (char ch : inline_req) {
    raw.Write(std::string(1, ch));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(raw.ReadValue() == "$11\r\nhello world\r\n");
  // A partial command gets no reply until it is complete.
  raw.Write("*2\r\n$4\r\nECHO\r\n$5\r\nab");
  CHECK(raw.ReadValue(200) == "");
  raw.Write("cde\r\n");
  CHECK(raw.ReadValue() == "$5\r\nabcde\r\n");
  CHECK(c.Run({"GET", "split:key1"}) == "hello world");
}

TEST_CASE("connection: protocol errors reply and close the connection") {
  struct Case {
    const char* bytes;
    const char* reply;
  };
  const Case cases[] = {
      {"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*2\r\n$3\r\nGET\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*1\r\n$600000000\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n"},
      {"SET k \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
      {"SET k \"a\"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
      {"ECHO 'abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
  };
  for (const Case& t : cases) {
    CAPTURE(t.bytes);
    RawClient raw;
    raw.Write(t.bytes);
    CHECK(raw.ReadValue() == t.reply);
    CHECK(raw.Closed());
  }
  // Commands before the bad one in the same write are answered.
  RawClient raw;
  raw.Write("PING\r\n*x\r\nPING\r\n");
  CHECK(raw.ReadValue() == "+PONG\r\n");
  CHECK(raw.ReadValue() == "-ERR Protocol error: invalid multibulk length\r\n");
  CHECK(raw.Closed());
  // The server is fine afterwards.
  Client c;
  CHECK(c.Run({"PING"}) == "PONG");
}

TEST_CASE("connection: bulk strings larger than 64 KB") {
  Client c;
  std::string big(200 * 1024 + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  CHECK(c.Run(std::vector<std::string>{"SET", "big", big}) == "OK");
  Reply r = c.Run({"GET", "big"});
  CHECK(r.type == Reply::Type::kString);
  CHECK(r.str.size() == big.size());
  CHECK(r.str == big);
  CHECK(c.Run({"STRLEN", "big"}).IsInt(static_cast<long long>(big.size())));

  // The same through a raw socket, written in uneven pieces.
  RawClient raw;
  std::string req = "*2\r\n$4\r\nECHO\r\n" + RawBulk(big);
  for (size_t off = 0; off < req.size(); off += 10007) raw.Write(req.substr(off, 10007));
  CHECK(raw.ReadValue() == RawBulk(big));
}

TEST_CASE("connection: 10,000 pipelined PINGs in one write are all answered") {
  RawClient raw;
  std::string req;
  for (int i = 0; i < 10000; ++i) req += (i % 2 == 0) ? "PING\r\n" : "*1\r\n$4\r\nPING\r\n";
  raw.Write(req);
  int pongs = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string v = raw.ReadValue();
    if (v != "+PONG\r\n") break;
    ++pongs;
  }
  CHECK(pongs == 10000);
  CHECK(raw.ReadValue(200) == "");
  CHECK(raw.Command({"ECHO", "after"}) == "$5\r\nafter\r\n");
}

}  // namespace runnel::test
