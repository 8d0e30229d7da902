// Connection commands: PING ECHO HELLO AUTH SELECT QUIT RESET and the CLIENT container.
#include <string>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/table.h"
#include "commands/pubsub.h"
#include "commands/transactions.h"
#include "common/config.h"
#include "common/util.h"

namespace runnel::commands {

namespace {

// Replies with a HELP listing: "<CMD> <subcommand> ..." then one line per entry.
void ReplyHelp(CommandContext& ctx, std::string_view container,
               std::initializer_list<std::string_view> lines) {
  resp::ReplyWriter& out = ctx.out();
  out.ArrayHeader(static_cast<int64_t>(lines.size()) + 1);
  std::string head = std::string(container) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:";
  out.Simple(head);
  for (auto l : lines) out.Simple(l);
}

// A name for SETNAME / SETINFO: printable ASCII without spaces.
bool ValidName(std::string_view s) {
  for (char c : s)
    if (c < '!' || c > '~') return false;
  return true;
}

// The only user is "default"; without requirepass it has no password and any one matches.
bool CheckPassword(std::string_view user, std::string_view pass) {
  std::string required = GlobalConfig().RequirePass();
  return user == "default" && (required.empty() || pass == required);
}

// ---------------------------------------------------------------------------------------------
// PING ECHO SELECT QUIT
// ---------------------------------------------------------------------------------------------

// PING [message]
void CmdPing(CommandContext& ctx) {
  if (ctx.argc() > 2) {
    ctx.Error(WrongArgs("ping"));
    return;
  }
  if (ctx.session().resp == 2 && ctx.session().subscribed() > 0) {
    // A RESP2 subscriber's PING reply has the shape of a message.
    ctx.out().ArrayHeader(2);
    ctx.out().Bulk("pong");
    ctx.out().Bulk(ctx.argc() == 2 ? ctx.arg(1) : "");
    return;
  }
  if (ctx.argc() == 2) {
    ctx.out().Bulk(ctx.arg(1));
  } else {
    ctx.out().Simple("PONG");
  }
}

// ECHO message
void CmdEcho(CommandContext& ctx) { ctx.out().Bulk(ctx.arg(1)); }

// SELECT index
void CmdSelect(CommandContext& ctx) {
  int64_t db;
  if (!ParseInt64(ctx.arg(1), &db) || db < INT32_MIN || db > INT32_MAX) {
    ctx.Error(kErrNotInteger);
    return;
  }
  if (db < 0 || db >= ctx.keyspace().databases()) {
    ctx.Error(kErrDbIndex);
    return;
  }
  ctx.session().db.store(static_cast<int>(db));
  ctx.out().Ok();
}

// QUIT
void CmdQuit(CommandContext& ctx) {
  ctx.out().Ok();
  ctx.session().close_after_reply = true;
}

// ---------------------------------------------------------------------------------------------
// AUTH HELLO RESET
// ---------------------------------------------------------------------------------------------

// AUTH [username] password
void CmdAuth(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    ctx.Error(kErrSyntax);
    return;
  }
  std::string_view user = ctx.argc() == 3 ? ctx.arg(1) : "default";
  std::string_view pass = ctx.arg(ctx.argc() - 1);
  if (ctx.argc() == 2 && GlobalConfig().RequirePass().empty()) {
    ctx.Error(
        "ERR AUTH <password> called without any password configured for the default user. Are "
        "you sure your configuration is correct?");
    return;
  }
  if (!CheckPassword(user, pass)) {
    ctx.Error(kErrWrongPass);
    return;
  }
  ctx.session().authenticated = true;
  ctx.out().Ok();
}

void ReplyHello(CommandContext& ctx) {
  resp::ReplyWriter& out = ctx.out();
  out.MapHeader(7);
  out.Bulk("server");
  out.Bulk("redis");
  out.Bulk("version");
  out.Bulk(GlobalConfig().RedisVersion());
  out.Bulk("proto");
  out.Integer(ctx.session().resp);
  out.Bulk("id");
  out.Integer(static_cast<int64_t>(ctx.session().id));
  out.Bulk("mode");
  out.Bulk("standalone");
  out.Bulk("role");
  out.Bulk("master");
  out.Bulk("modules");
  out.ArrayHeader(0);
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
void CmdHello(CommandContext& ctx) {
  int64_t version = ctx.session().resp;
  size_t i = 1;
  if (ctx.argc() >= 2) {
    if (!ParseInt64(ctx.arg(1), &version)) {
      ctx.Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (version < 2 || version > 3) {
      ctx.Error("NOPROTO unsupported protocol version");
      return;
    }
    i = 2;
  }
  std::string_view user, pass, name;
  bool auth = false, setname = false;
  for (; i < ctx.argc(); ++i) {
    size_t left = ctx.argc() - i - 1;
    if (EqualsIgnoreCase(ctx.arg(i), "AUTH") && left >= 2) {
      auth = true;
      user = ctx.arg(i + 1);
      pass = ctx.arg(i + 2);
      i += 2;
    } else if (EqualsIgnoreCase(ctx.arg(i), "SETNAME") && left >= 1) {
      setname = true;
      name = ctx.arg(i + 1);
      i += 1;
    } else {
      ctx.Error("ERR Syntax error in HELLO option '" + std::string(ctx.arg(i)) + "'");
      return;
    }
  }
  if (auth && !CheckPassword(user, pass)) {
    ctx.Error(kErrWrongPass);
    return;
  }
  if (auth) ctx.session().authenticated = true;
  if (!ctx.session().authenticated) {
    ctx.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time");
    return;
  }
  if (setname) {
    if (!ValidName(name)) {
      ctx.Error("ERR Client names cannot contain spaces, newlines or special characters.");
      return;
    }
    std::lock_guard lock(ctx.session().mu);
    ctx.session().name = name;
  }
  ctx.session().resp = static_cast<int>(version);
  ctx.out().set_protocol(static_cast<int>(version));
  ReplyHello(ctx);
}

// RESET
void CmdReset(CommandContext& ctx) {
  Session& s = ctx.session();
  DiscardTransaction(ctx.keyspace(), s);
  UnsubscribeAll(ctx.server(), s, nullptr);
  s.db.store(0);
  s.resp = 2;
  s.reply_mode = ReplyMode::kOn;
  s.no_evict = false;
  s.no_touch = false;
  s.authenticated = GlobalConfig().RequirePass().empty();
  {
    std::lock_guard lock(s.mu);
    s.name.clear();
  }
  ctx.out().set_protocol(2);
  ctx.out().Simple("RESET");
}

// ---------------------------------------------------------------------------------------------
// CLIENT
// ---------------------------------------------------------------------------------------------

// CLIENT ID
void CmdClientId(CommandContext& ctx) { ctx.out().Integer(static_cast<int64_t>(ctx.session().id)); }

// CLIENT SETNAME name
void CmdClientSetName(CommandContext& ctx) {
  if (!ValidName(ctx.arg(2))) {
    ctx.Error("ERR Client names cannot contain spaces, newlines or special characters.");
    return;
  }
  std::lock_guard lock(ctx.session().mu);
  ctx.session().name = ctx.arg(2);
  ctx.out().Ok();
}

// CLIENT GETNAME
void CmdClientGetName(CommandContext& ctx) {
  std::string name;
  {
    std::lock_guard lock(ctx.session().mu);
    name = ctx.session().name;
  }
  if (name.empty()) {
    ctx.out().Null();
  } else {
    ctx.out().Bulk(name);
  }
}

// CLIENT SETINFO LIB-NAME|LIB-VER value
void CmdClientSetInfo(CommandContext& ctx) {
  std::string_view attr = ctx.arg(2), value = ctx.arg(3);
  bool lib_name = EqualsIgnoreCase(attr, "lib-name");
  if (!lib_name && !EqualsIgnoreCase(attr, "lib-ver")) {
    ctx.Error("ERR Unrecognized option '" + std::string(attr) + "'");
    return;
  }
  if (!ValidName(value)) {
    ctx.Error("ERR " + std::string(lib_name ? "lib-name" : "lib-ver") +
              " cannot contain spaces, newlines or special characters.");
    return;
  }
  std::lock_guard lock(ctx.session().mu);
  (lib_name ? ctx.session().lib_name : ctx.session().lib_ver) = value;
  ctx.out().Ok();
}

// CLIENT INFO
void CmdClientInfo(CommandContext& ctx) {
  ctx.out().Verbatim("txt", ClientInfoLine(ctx.session(), ctx.now_ms()) + "\n");
}

// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id ...]
void CmdClientList(CommandContext& ctx) {
  std::vector<uint64_t> ids;
  bool none_match = false;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "TYPE") && i + 1 < ctx.argc()) {
      std::string_view t = ctx.arg(++i);
      if (EqualsIgnoreCase(t, "normal")) continue;
      if (EqualsIgnoreCase(t, "master") || EqualsIgnoreCase(t, "replica") ||
          EqualsIgnoreCase(t, "slave") || EqualsIgnoreCase(t, "pubsub")) {
        none_match = true;  // runnel has no replicas or subscribers yet
        continue;
      }
      ctx.Error("ERR Unknown client type '" + std::string(t) + "'");
      return;
    }
    if (EqualsIgnoreCase(ctx.arg(i), "ID") && i + 1 < ctx.argc()) {
      for (++i; i < ctx.argc(); ++i) {
        uint64_t id;
        if (!ParseUint64(ctx.arg(i), &id) || id == 0) {
          ctx.Error("ERR Invalid client ID");
          return;
        }
        ids.push_back(id);
      }
      break;
    }
    ctx.Error(kErrSyntax);
    return;
  }
  std::string text;
  if (!none_match) {
    ctx.server().ForEachSession([&](const Session& s) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), s.id) == ids.end()) return;
      text += ClientInfoLine(s, ctx.now_ms());
      text += '\n';
    });
  }
  ctx.out().Verbatim("txt", text);
}

// CLIENT KILL ip:port | CLIENT KILL [ID id] [ADDR ip:port] [LADDR ip:port] [TYPE t] [USER u]
// [SKIPME yes|no]
void CmdClientKill(CommandContext& ctx) {
  Session& me = ctx.session();
  if (ctx.argc() == 3) {  // old form: reply OK or an error
    std::string_view addr = ctx.arg(2);
    std::vector<uint64_t> victims;
    ctx.server().ForEachSession([&](const Session& s) {
      if (s.addr == addr) victims.push_back(s.id);
    });
    if (victims.empty()) {
      ctx.Error("ERR No such client");
      return;
    }
    for (uint64_t id : victims) {
      if (id == me.id) {
        me.close_after_reply = true;
      } else {
        ctx.server().KillClient(id);
      }
    }
    ctx.out().Ok();
    return;
  }
  if (ctx.argc() % 2 != 0) {
    ctx.Error(kErrSyntax);
    return;
  }
  uint64_t id = 0;
  std::string addr, laddr, user;
  bool skipme = true, type_normal = true;
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    std::string_view opt = ctx.arg(i), val = ctx.arg(i + 1);
    if (EqualsIgnoreCase(opt, "ID")) {
      if (!ParseUint64(val, &id) || id == 0) {
        ctx.Error("ERR client-id should be greater than 0");
        return;
      }
    } else if (EqualsIgnoreCase(opt, "ADDR")) {
      addr = val;
    } else if (EqualsIgnoreCase(opt, "LADDR")) {
      laddr = val;
    } else if (EqualsIgnoreCase(opt, "USER")) {
      if (val != "default") {
        ctx.Error("ERR No such user '" + std::string(val) + "'");
        return;
      }
      user = val;
    } else if (EqualsIgnoreCase(opt, "TYPE")) {
      if (EqualsIgnoreCase(val, "normal")) {
        type_normal = true;
      } else if (EqualsIgnoreCase(val, "master") || EqualsIgnoreCase(val, "replica") ||
                 EqualsIgnoreCase(val, "slave") || EqualsIgnoreCase(val, "pubsub")) {
        type_normal = false;
      } else {
        ctx.Error("ERR Unknown client type '" + std::string(val) + "'");
        return;
      }
    } else if (EqualsIgnoreCase(opt, "SKIPME")) {
      if (EqualsIgnoreCase(val, "yes")) {
        skipme = true;
      } else if (EqualsIgnoreCase(val, "no")) {
        skipme = false;
      } else {
        ctx.Error(kErrSyntax);
        return;
      }
    } else {
      ctx.Error(kErrSyntax);
      return;
    }
  }
  std::vector<uint64_t> victims;
  ctx.server().ForEachSession([&](const Session& s) {
    if (!type_normal) return;
    if (id != 0 && s.id != id) return;
    if (!addr.empty() && s.addr != addr) return;
    if (!laddr.empty() && s.laddr != laddr) return;
    if (!user.empty() && user != "default") return;
    if (skipme && s.id == me.id) return;
    victims.push_back(s.id);
  });
  for (uint64_t v : victims) {
    if (v == me.id) {
      me.close_after_reply = true;
    } else {
      ctx.server().KillClient(v);
    }
  }
  ctx.out().Integer(static_cast<int64_t>(victims.size()));
}

// CLIENT REPLY ON|OFF|SKIP
void CmdClientReply(CommandContext& ctx) {
  std::string_view mode = ctx.arg(2);
  if (EqualsIgnoreCase(mode, "on")) {
    ctx.session().reply_mode = ReplyMode::kOn;
    ctx.out().Ok();
  } else if (EqualsIgnoreCase(mode, "off")) {
    ctx.session().reply_mode = ReplyMode::kOff;
  } else if (EqualsIgnoreCase(mode, "skip")) {
    if (ctx.session().reply_mode == ReplyMode::kOn) ctx.session().reply_mode = ReplyMode::kSkip;
  } else {
    ctx.Error(kErrSyntax);
  }
}

// CLIENT NO-EVICT ON|OFF and CLIENT NO-TOUCH ON|OFF
void SetOnOff(CommandContext& ctx, bool* flag) {
  if (EqualsIgnoreCase(ctx.arg(2), "on")) {
    *flag = true;
  } else if (EqualsIgnoreCase(ctx.arg(2), "off")) {
    *flag = false;
  } else {
    ctx.Error(kErrSyntax);
    return;
  }
  ctx.out().Ok();
}
void CmdClientNoEvict(CommandContext& ctx) { SetOnOff(ctx, &ctx.session().no_evict); }
void CmdClientNoTouch(CommandContext& ctx) { SetOnOff(ctx, &ctx.session().no_touch); }

// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
void CmdClientUnblock(CommandContext& ctx) {
  int64_t id;
  if (!ParseInt64(ctx.arg(2), &id)) {
    ctx.Error(kErrNotInteger);
    return;
  }
  bool with_error = false;
  if (ctx.argc() == 4) {
    if (EqualsIgnoreCase(ctx.arg(3), "ERROR")) {
      with_error = true;
    } else if (!EqualsIgnoreCase(ctx.arg(3), "TIMEOUT")) {
      ctx.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      return;
    }
  } else if (ctx.argc() > 4) {
    ctx.Error(kErrSyntax);
    return;
  }
  ctx.out().Integer(id > 0 ? ctx.server().UnblockClient(static_cast<uint64_t>(id), with_error) : 0);
}

// CLIENT HELP
void CmdClientHelp(CommandContext& ctx) {
  ReplyHelp(ctx, "CLIENT",
            {"GETNAME", "    Return the name of this connection.", "ID",
             "    Return the ID of this connection.", "INFO",
             "    Return information about this connection.", "KILL <ip:port>",
             "    Close the connection from <ip:port>.",
             "KILL <option> <value> [<option> <value> [...]]",
             "    Close the connections matching all the filters: ID <id>, ADDR <ip:port>,",
             "    LADDR <ip:port>, TYPE (NORMAL|MASTER|REPLICA|PUBSUB), USER <username>,",
             "    SKIPME (YES|NO) (default YES: never this connection).",
             "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
             "    List the connections, or only those matching.", "REPLY (ON|OFF|SKIP)",
             "    Turn replies to this connection on or off, or skip the next one.",
             "SETNAME <name>", "    Name this connection.",
             "UNBLOCK <clientid> [TIMEOUT|ERROR]",
             "    End the wait of a client blocked in XREAD/XREADGROUP (null or error reply).",
             "SETINFO (LIB-NAME|LIB-VER) <value>",
             "    Record the client library's name or version.", "NO-EVICT (ON|OFF)",
             "    Protect this connection from client eviction.", "NO-TOUCH (ON|OFF)",
             "    Keep this connection's reads from changing keys' access times.", "HELP",
             "    Print this help."});
}

}  // namespace

std::string ClientInfoLine(const Session& s, int64_t now_ms) {
  std::string name, lib_name, lib_ver;
  {
    std::lock_guard lock(s.mu);
    name = s.name;
    lib_name = s.lib_name;
    lib_ver = s.lib_ver;
  }
  const CommandSpec* cmd = s.last_command.load(std::memory_order_relaxed);
  std::string flags;
  if (s.close_after_reply) flags += 'c';
  if (s.no_evict) flags += 'e';
  if (s.no_touch) flags += 'T';
  if (s.subscription_count[0] + s.subscription_count[1] + s.subscription_count[2] > 0)
    flags += 'P';
  if (flags.empty()) flags = "N";
  size_t qbuf = s.query_buffer.load(std::memory_order_relaxed);
  size_t obuf = s.output_buffer.load(std::memory_order_relaxed);
  return "id=" + std::to_string(s.id) + " addr=" + s.addr + " laddr=" + s.laddr +
         " fd=" + std::to_string(s.fd) + " name=" + name +
         " age=" + std::to_string((now_ms - s.created_ms) / 1000) +
         " idle=" + std::to_string((now_ms - s.last_interaction_ms.load()) / 1000) +
         " flags=" + flags + " db=" + std::to_string(s.db.load()) +
         " sub=" + std::to_string(s.subscription_count[0].load()) +
         " psub=" + std::to_string(s.subscription_count[1].load()) +
         " ssub=" + std::to_string(s.subscription_count[2].load()) +
         " multi=-1 qbuf=" + std::to_string(qbuf) +
         " qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=" +
         std::to_string(obuf) + " tot-mem=" + std::to_string(qbuf + obuf) +
         " events=r cmd=" + (cmd ? cmd->name : std::string("NULL")) +
         " user=default redir=-1 resp=" + std::to_string(s.resp) + " lib-name=" + lib_name +
         " lib-ver=" + lib_ver;
}

void RegisterConnection(CommandTable& t) {
  const uint32_t kConn = kCatConnection;
  t.Add({.name = "ping", .arity = -1, .flags = kFast, .categories = kConn | kCatFast,
         .group = "connection", .since = "1.0.0", .summary = "Returns the server's liveliness response.",
         .syntax = "[message]", .handler = CmdPing});
  t.Add({.name = "echo", .arity = 2, .flags = kFast, .categories = kConn | kCatFast,
         .group = "connection", .since = "1.0.0", .summary = "Returns the given string.",
         .syntax = "message", .handler = CmdEcho});
  t.Add({.name = "select", .arity = 2, .flags = kLoading | kStale | kFast,
         .categories = kConn | kCatFast, .group = "connection", .since = "1.0.0",
         .summary = "Changes the selected database.", .syntax = "index:integer",
         .handler = CmdSelect});
  t.Add({.name = "quit", .arity = -1, .flags = kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy,
         .categories = kConn | kCatFast, .group = "connection", .since = "1.0.0",
         .summary = "Closes the connection.", .syntax = "", .handler = CmdQuit});
  t.Add({.name = "auth", .arity = -2,
         .flags = kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy,
         .categories = kConn | kCatFast, .group = "connection", .since = "1.0.0",
         .summary = "Authenticates the connection.", .syntax = "[username] password",
         .handler = CmdAuth});
  t.Add({.name = "hello", .arity = -1,
         .flags = kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy,
         .categories = kConn | kCatFast, .group = "connection", .since = "6.0.0",
         .summary = "Handshakes with the Redis server.",
         .syntax = "[protover [AUTH username password] [SETNAME clientname]]",
         .handler = CmdHello});
  t.Add({.name = "reset", .arity = 1,
         .flags = kNoScript | kLoading | kStale | kFast | kNoAuth | kAllowBusy,
         .categories = kConn | kCatFast, .group = "connection", .since = "6.2.0",
         .summary = "Resets the connection.", .syntax = "", .handler = CmdReset});

  CommandSpec& client = t.Add({.name = "client", .arity = -2, .flags = 0, .categories = kCatSlow,
                               .group = "connection", .since = "2.4.0",
                               .summary = "A container for client connection commands."});
  const uint32_t kSub = kNoScript | kLoading | kStale;
  auto sub = [&](const char* name, int arity, uint32_t flags, uint32_t cats, const char* since,
                 const char* summary, const char* syntax, Handler h) {
    t.AddSub(client, {.name = name, .arity = arity, .flags = flags, .categories = cats,
                      .since = since, .summary = summary, .syntax = syntax, .handler = h});
  };
  sub("id", 2, kSub, kConn | kCatSlow, "5.0.0", "Returns the unique client ID of the connection.",
      "", CmdClientId);
  sub("setname", 3, kSub, kConn | kCatSlow, "2.6.9", "Sets the connection name.",
      "connection-name", CmdClientSetName);
  sub("getname", 2, kSub, kConn | kCatSlow, "2.6.9", "Returns the name of the connection.", "",
      CmdClientGetName);
  sub("setinfo", 4, kSub, kConn | kCatSlow, "7.2.0",
      "Sets information specific to the client or connection.", "LIB-NAME libname|LIB-VER libver",
      CmdClientSetInfo);
  sub("info", 2, kSub, kConn | kCatSlow, "6.2.0",
      "Returns information about the connection.", "", CmdClientInfo);
  sub("list", -2, kSub | kAdmin, kConn | kCatAdmin | kCatSlow | kCatDangerous, "2.4.0",
      "Lists open connections.",
      "[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]", CmdClientList);
  sub("kill", -3, kSub | kAdmin, kConn | kCatAdmin | kCatSlow | kCatDangerous, "2.4.0",
      "Terminates open connections.",
      "ip:port|[ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB] [USER username] "
      "[ADDR ip:port] [LADDR ip:port] [SKIPME yes/no]",
      CmdClientKill);
  sub("reply", 3, kSub, kConn | kCatSlow, "3.2.0",
      "Instructs the server whether to reply to commands.", "ON|OFF|SKIP", CmdClientReply);
  sub("no-evict", 3, kSub | kAdmin, kConn | kCatAdmin | kCatSlow | kCatDangerous, "7.0.0",
      "Sets the client eviction mode of the connection.", "ON|OFF", CmdClientNoEvict);
  sub("no-touch", 3, kSub, kConn | kCatSlow, "7.2.0",
      "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
      "ON|OFF", CmdClientNoTouch);
  sub("unblock", -3, kSub | kAdmin, kConn | kCatAdmin | kCatSlow | kCatDangerous, "5.0.0",
      "Unblocks a client blocked by a blocking command from a different connection.",
      "client-id [TIMEOUT|ERROR]", CmdClientUnblock);
  sub("help", 2, kLoading | kStale, kConn | kCatSlow, "5.0.0", "Returns helpful text about the different subcommands.", "", CmdClientHelp);
}

}  // namespace runnel::commands
