// The command table: every command described by data (name, arity, flags, key positions, ACL
// categories, group, since, summary, syntax). The same rows drive dispatch, shard locking and
// COMMAND INFO/DOCS/COUNT/LIST/GETKEYS. Each family file registers its rows (Register*()).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace runnel::commands {

class CommandContext;
using Handler = void (*)(CommandContext& ctx);

// Command flags, named in COMMAND INFO as Redis names them.
enum Flag : uint32_t {
  kWrite = 1u << 0,
  kReadOnly = 1u << 1,
  kDenyOom = 1u << 2,
  kAdmin = 1u << 3,
  kPubSub = 1u << 4,
  kNoScript = 1u << 5,
  kBlocking = 1u << 6,
  kLoading = 1u << 7,
  kStale = 1u << 8,
  kSkipMonitor = 1u << 9,
  kSkipSlowlog = 1u << 10,
  kFast = 1u << 11,
  kNoAuth = 1u << 12,
  kMayReplicate = 1u << 13,
  kNoMandatoryKeys = 1u << 14,
  kNoMulti = 1u << 15,
  kAllowBusy = 1u << 16,
  // runnel's own: the handler locks the shards it needs itself (whole-keyspace commands).
  kSelfLocking = 1u << 24,
  // runnel's own: the keys do not depend on each other (DEL, MSET), so the log may split the
  // command per shard.
  kKeysIndependent = 1u << 25,
};

// ACL categories (without the '@').
enum Category : uint32_t {
  kCatKeyspace = 1u << 0,
  kCatRead = 1u << 1,
  kCatWrite = 1u << 2,
  kCatSet = 1u << 3,
  kCatSortedSet = 1u << 4,
  kCatList = 1u << 5,
  kCatHash = 1u << 6,
  kCatString = 1u << 7,
  kCatBitmap = 1u << 8,
  kCatHyperLogLog = 1u << 9,
  kCatGeo = 1u << 10,
  kCatStream = 1u << 11,
  kCatPubSub = 1u << 12,
  kCatAdmin = 1u << 13,
  kCatFast = 1u << 14,
  kCatSlow = 1u << 15,
  kCatBlocking = 1u << 16,
  kCatDangerous = 1u << 17,
  kCatConnection = 1u << 18,
  kCatTransaction = 1u << 19,
  kCatScripting = 1u << 20,
};

// One argument of a command's syntax, for COMMAND DOCS.
struct ArgSpec {
  enum class Type { kString, kInteger, kDouble, kKey, kPattern, kUnixTime, kPureToken, kOneOf, kBlock };
  std::string name;
  Type type = Type::kString;
  std::string token;
  bool optional = false;
  bool multiple = false;
  bool multiple_token = false;
  std::vector<ArgSpec> children;
};

// Parses a usage string such as "key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]"
// into argument specs: lowercase words are arguments ("key"/"destination"/"source" are keys,
// "count", "seconds", ... integers), uppercase words tokens, [..] optional, a|b one-of,
// "..." after an element makes it multiple.
std::vector<ArgSpec> ParseSyntax(std::string_view syntax);

// Key positions (Redis's legacy first/last/step): last < 0 counts from the end.
struct KeySpec {
  int first = 0;
  int last = 0;
  int step = 0;
};

// Extracts key positions for commands whose keys cannot be described by a KeySpec.
using KeyFinder = void (*)(std::span<const std::string_view> args, std::vector<int>* positions);

struct CommandSpec {
  std::string name;  // lowercase; subcommands as "container|sub"
  int arity = 0;
  uint32_t flags = 0;
  uint32_t categories = 0;
  KeySpec keys;
  std::string group;  // "string", "generic", "connection", "server", ...
  std::string since;
  std::string summary;
  std::string syntax;  // usage after the name, e.g. "key [key ...]"
  Handler handler = nullptr;
  KeyFinder key_finder = nullptr;
  std::vector<ArgSpec> args;                            // parsed from syntax
  std::vector<std::unique_ptr<CommandSpec>> subcommands;  // empty unless a container
  const CommandSpec* parent = nullptr;
  int id = 0;  // dense index over all commands and subcommands, for per-thread stats

  bool is(Flag f) const { return (flags & f) != 0; }
  // The key argument positions of one invocation (empty for keyless commands).
  void KeyPositions(std::span<const std::string_view> args, std::vector<int>* out) const;
  // "get", or "config|get" for a subcommand.
  const std::string& full_name() const { return name; }
};

class CommandTable {
 public:
  // Adds a command row; returns it so the caller can add subcommands.
  CommandSpec& Add(CommandSpec spec);
  CommandSpec& AddSub(CommandSpec& parent, CommandSpec spec);
  // Case-insensitive lookup of a top-level command; nullptr if unknown.
  const CommandSpec* Find(std::string_view name) const;
  const CommandSpec* FindSub(const CommandSpec& parent, std::string_view name) const;
  const std::vector<std::unique_ptr<CommandSpec>>& commands() const { return commands_; }
  int size() const { return next_id_; }  // commands and subcommands
  // Every spec (commands and subcommands) by id.
  const CommandSpec* ById(int id) const { return by_id_[id]; }

 private:
  std::vector<std::unique_ptr<CommandSpec>> commands_;
  std::vector<const CommandSpec*> by_id_;
  // Top-level rows by name: open addressing over a power-of-two array, hashed ignoring case, so
  // a lookup makes no lowercase copy (it runs for every command).
  std::vector<const CommandSpec*> slots_;
  size_t indexed_ = 0;
  void Index(const CommandSpec* spec);
  int next_id_ = 0;
};

// The table with every family registered; built once at start-up.
const CommandTable& Commands();

// Family registration (one per family file).
void RegisterStrings(CommandTable& t);
void RegisterKeys(CommandTable& t);
void RegisterDump(CommandTable& t);
void RegisterTransactions(CommandTable& t);
void RegisterPubSub(CommandTable& t);
void RegisterConnection(CommandTable& t);
void RegisterServer(CommandTable& t);
void RegisterStreams(CommandTable& t);
void RegisterSets(CommandTable& t);
void RegisterLists(CommandTable& t);
void RegisterHashes(CommandTable& t);
void RegisterZSets(CommandTable& t);

const char* FlagName(Flag f);
std::vector<std::string> FlagNames(uint32_t flags);
std::vector<std::string> CategoryNames(uint32_t categories);

}  // namespace runnel::commands
